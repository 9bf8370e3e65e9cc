// Package history builds pages of backends.Historian from a change log, for
// the stores that keep one (memory, MySQL): one home for the rule of which
// versions such a store still knows, so that they answer alike.
package history

import "github.com/k3/k3-storage/backends"

// Log is what a store's change log holds of one key, read at one revision.
type Log struct {
	// Older are the key's logged writes with a revision above Compacted
	// and below the page's Before (all of them when Before is 0), newest
	// first. The store may stop reading after Limit+1 of them.
	Older []backends.Event
	// Oldest is the key's oldest logged write above Compacted, whatever
	// Before; nil when the log holds none. Its PrevKV must carry the value.
	// Page needs it only when Limit did not cut Older.
	Oldest *backends.Event
	// Current is the key's current state, nil when it does not exist. Page
	// needs it only when the log holds no write of the key above Compacted.
	Current *backends.KeyValue
	// Compacted and Revision are the store's compacted and current
	// revisions at the read.
	Compacted, Revision int64
}

// Page returns the page of the history in l that opts selects, as
// backends.History documents it: every logged write is an entry, and so is
// the key's state at Compacted: the version the oldest of them replaced or
// deleted (the PrevKV a Watch from Compacted+1 delivers with it), or the
// current state if none was logged.
func Page(l Log, opts backends.HistoryOptions) backends.History {
	h := backends.History{Compacted: l.Compacted, Revision: l.Revision}
	for _, ev := range l.Older {
		h.Entries = append(h.Entries, entry(ev))
	}
	if opts.Limit > 0 && len(h.Entries) > opts.Limit {
		h.Entries, h.More = h.Entries[:opts.Limit], true
		return h
	}
	oldest := l.Oldest
	var prior *backends.KeyValue
	switch {
	case oldest == nil:
		prior = l.Current // written at or before Compacted, current ever since
	case oldest.Type != backends.Created:
		prior = oldest.PrevKV // current from its write through Compacted at least
	}
	if prior != nil && (opts.Before <= 0 || prior.ModRevision < opts.Before) {
		typ := backends.Updated
		if prior.Version == 1 {
			typ = backends.Created
		}
		h.Entries = append(h.Entries, backends.HistoryEntry{Type: typ, KV: *prior})
		if opts.Limit > 0 && len(h.Entries) > opts.Limit {
			h.Entries, h.More = h.Entries[:opts.Limit], true
		}
	}
	return h
}

// entry is the history entry of a logged write.
func entry(ev backends.Event) backends.HistoryEntry {
	if ev.Type == backends.Deleted {
		return backends.HistoryEntry{Type: ev.Type, KV: backends.KeyValue{Key: ev.KV.Key, ModRevision: ev.KV.ModRevision}}
	}
	return backends.HistoryEntry{Type: ev.Type, KV: ev.KV}
}
