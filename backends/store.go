// Package backends holds the Store contract that every k3 storage backend
// implements (memory, MySQL, etcd), the types it speaks in and its sentinel
// errors. It imports only the standard library: drivers live in the
// subpackages, one per technology, and translate their errors into the
// sentinels here at their edge.
package backends

import (
	"context"
	"fmt"
)

// KeyValue is one key's state at one revision.
type KeyValue struct {
	// Key is an arbitrary byte string (1 to MaxKeySize bytes), compared
	// bytewise: case, trailing spaces, NUL and 0xFF bytes all make distinct keys.
	Key string
	// Value is the stored bytes (0 to MaxValueSize). Stores hand out their
	// own copy; callers may keep or modify it.
	Value []byte
	// CreateRevision is the revision that created this incarnation of the key.
	// Deleting and re-creating a key gives it a new CreateRevision.
	CreateRevision int64
	// ModRevision is the revision of the last write to the key.
	ModRevision int64
	// Version is 1 on create and grows by one per update; a re-created key
	// starts again at 1.
	Version int64
}

// ListOptions selects one page of a prefix listing.
type ListOptions struct {
	// After lists keys strictly greater than After; "" starts at the prefix.
	After string
	// Limit caps the number of items; 0 or less means no limit.
	Limit int
}

// Page is one page of a listing, read at one consistent revision.
type Page struct {
	// Items are in bytewise key order.
	Items []KeyValue
	// More reports that keys remain after the last item.
	More bool
	// Revision is the store revision the page was read at. A Watch from
	// Revision+1 sees every later change exactly once.
	Revision int64
}

// EventType says what a write did to a key.
type EventType int

// The three kinds of change a Watch reports.
const (
	Created EventType = iota + 1
	Updated
	Deleted
)

// String returns "created", "updated" or "deleted".
func (t EventType) String() string {
	switch t {
	case Created:
		return "created"
	case Updated:
		return "updated"
	case Deleted:
		return "deleted"
	}
	return fmt.Sprintf("EventType(%d)", int(t))
}

// Event is one change delivered by Watch.
type Event struct {
	Type EventType
	// KV is the key's new state. For Deleted it carries only Key and
	// ModRevision (the revision of the delete); Value is nil and the other
	// revisions are zero.
	KV KeyValue
	// PrevKV is the key's state before an Updated or Deleted event; nil for
	// Created.
	PrevKV *KeyValue
	// Err is set only on the last event before the channel closes, when the
	// watch ended for a reason other than its context: ErrCompacted when the
	// watcher fell behind retained history, ErrClosed when the store closed,
	// or a backend failure. Type and KV are zero on such an event.
	Err error
}

// Store is the storage contract other k3 modules program against. All
// methods are safe for concurrent use. Every successful write advances the
// store's revision by exactly one; revisions are never reused and commit
// order equals revision order.
//
// Single-key methods return ErrInvalidKey for an empty key or one longer than
// MaxKeySize, and writes return ErrValueTooLarge for values longer than
// MaxValueSize, before anything is written. After Close every method returns
// ErrClosed.
type Store interface {
	// Get returns the key's current state or ErrNotFound.
	Get(ctx context.Context, key string) (KeyValue, error)
	// List returns keys with the given prefix ("" = all keys) in bytewise
	// order, starting after opts.After, at most opts.Limit of them.
	List(ctx context.Context, prefix string, opts ListOptions) (Page, error)
	// Count returns how many keys have the given prefix.
	Count(ctx context.Context, prefix string) (int64, error)
	// Create writes a key that must not exist (ErrKeyExists) and returns the
	// write's revision.
	Create(ctx context.Context, key string, value []byte) (rev int64, err error)
	// Put creates the key or overwrites it unconditionally.
	Put(ctx context.Context, key string, value []byte) (rev int64, err error)
	// Update overwrites the key only if its ModRevision equals ifRev
	// (compare-and-swap). A missing key gives ErrNotFound, any other
	// revision ErrConflict.
	Update(ctx context.Context, key string, value []byte, ifRev int64) (rev int64, err error)
	// Delete removes the key, only if its ModRevision equals ifRev unless
	// ifRev is 0. A missing key gives ErrNotFound, a mismatch ErrConflict.
	// It returns the revision of the delete.
	Delete(ctx context.Context, key string, ifRev int64) (rev int64, err error)
	// Watch streams changes to keys with the given prefix, starting at
	// revision fromRev (0 = changes after the call). Events arrive in
	// revision order, each exactly once. The store owns and closes the
	// channel: when ctx ends it closes without an error event; otherwise the
	// last event carries Err. A fromRev older than retained history fails
	// with ErrCompacted, returned by Watch itself or as the only event. A
	// fromRev above the current revision is not an error: the watch waits
	// and delivers the changes from that revision on once they are written.
	// A negative fromRev fails with ErrInvalidRevision, returned by Watch
	// itself.
	Watch(ctx context.Context, prefix string, fromRev int64) (<-chan Event, error)
	// Close releases the store's resources and ends its watches with
	// ErrClosed. Closing twice returns nil.
	Close() error
}

// Compactor is implemented by stores whose history can be discarded on
// demand. After Compact(ctx, rev), a Watch from any revision below rev fails
// with ErrCompacted; revisions at or above rev remain watchable. Compacting
// to a revision above the current one is an error.
type Compactor interface {
	Compact(ctx context.Context, rev int64) error
}

// Revisioner is implemented by stores that can report their current
// revision and the oldest revision still watchable without a List.
type Revisioner interface {
	// Revision returns the store's current revision (that of the last write)
	// and the newest compacted revision: a Watch from any revision at or
	// below compacted fails with ErrCompacted (0 when nothing is compacted).
	Revision(ctx context.Context) (current, compacted int64, err error)
}

// RevisionCounter is implemented by stores that can count keys and tell the
// revision the count is exact at in one round trip, so that a caller can
// keep the count current from a watch without a race between the two.
type RevisionCounter interface {
	// CountRev returns n, how many keys have the given prefix ("" = all
	// keys), and rev, the store revision the count was taken at: n is the
	// number of keys with the prefix in the state after revision rev, the
	// same snapshot a List with Page.Revision == rev shows. rev is the
	// store's current revision at the moment of the read, so it is at least
	// the revision of every write acknowledged before the call. A Watch of
	// the prefix from rev+1 therefore delivers exactly the changes the count
	// does not contain: adding one per Created and subtracting one per
	// Deleted event (Updated leaves it) keeps n exact at the revision of
	// each event. Errors are those of Count: ErrInvalidKey for a prefix
	// longer than MaxKeySize, ErrClosed after Close.
	CountRev(ctx context.Context, prefix string) (n, rev int64, err error)
}

// Historian is implemented by stores that can tell a key's earlier
// versions. History reads as of one store revision and never invents a
// version: every entry is a write the store made. What a store can still
// tell is bounded by compaction, and by how it keeps history (see
// History.StopsAtDelete).
type Historian interface {
	// History returns a page of the writes to key, newest first: the
	// versions the store still knows (see History) with a revision below
	// opts.Before, at most opts.Limit of them. A key that does not exist,
	// or never did, has a history like any other (perhaps empty): that is
	// not ErrNotFound. It returns ErrInvalidKey for an empty or over-long
	// key, ErrInvalidRevision for a negative opts.Before, ErrClosed after
	// Close.
	History(ctx context.Context, key string, opts HistoryOptions) (History, error)
}

// HistoryOptions selects one page of a key's history.
type HistoryOptions struct {
	// Before, when positive, keeps only writes at revisions below Before;
	// 0 starts with the newest write. The next page of a History with
	// More set starts Before the ModRevision of its last entry. Negative is
	// ErrInvalidRevision.
	Before int64
	// Limit caps the number of entries; 0 or less means no limit.
	Limit int
}

// HistoryEntry is one write to a key.
type HistoryEntry struct {
	// Type is Created for the first version of an incarnation of the key
	// (KV.Version 1), Updated for a later version, Deleted for a delete.
	Type EventType
	// KV is the version the write made. For Deleted it carries only Key
	// and ModRevision (the revision of the delete), as in Event; the
	// version it deleted is the next, older entry, when the store knows it.
	KV KeyValue
}

// History is one page of a key's history, read at one revision.
//
// The versions a store knows of a key are every version that was the key's
// state at some revision after Compacted, that is every write with a
// revision above Compacted, plus the version that was current at revision
// Compacted+1 when it was written earlier; and every delete with a revision
// above Compacted. Entries are those with a revision below
// HistoryOptions.Before, newest first; no two have the same revision.
// Stores with a change log (memory, MySQL) know all of these. A store that
// reads history as snapshots of past revisions (etcd) cannot see a delete
// or anything before it: its history of a key ends at the first revision,
// walking back, where the key did not exist (see StopsAtDelete).
type History struct {
	// Entries are the writes to the key, newest first.
	Entries []HistoryEntry
	// More reports that the store knows older entries that Limit left out:
	// the next page is HistoryOptions{Before: Entries[len(Entries)-1].KV.ModRevision}.
	More bool
	// Compacted is the store's compacted revision at the read (as
	// Revisioner reports it; 0 when nothing was compacted): writes at or
	// below it may be missing from the end of the history, and are the
	// reason a history that does not end with a Created entry ends where it
	// does. Entries older than the last are never reported as compacted
	// when More is set.
	Compacted int64
	// StopsAtDelete reports that the history ends, above Compacted, at a
	// revision where the key did not exist: before the CreateRevision of the
	// last entry, or (with no entries) at the revision read, Before-1 or
	// Revision. Older incarnations of the key, and the delete that ended the
	// last of them, may exist but this store cannot see them; the key may
	// also never have existed before. Only stores that read history as
	// snapshots set it (etcd); stores with a change log report deletes as
	// entries and continue past them, and never set it. A caller that knows
	// where an older incarnation ended (a Deleted event's ModRevision) can
	// ask for its history with Before set to that revision.
	StopsAtDelete bool
	// Revision is the store revision the history was read at: a Watch of
	// the key from Revision+1 sees every later write.
	Revision int64
}
