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
	// PrevKV is the key's state before an Updated or Deleted event, always
	// set for them (also for the first event after a compaction); nil for
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
// versions (see History for which ones they know).
type Historian interface {
	// History returns one page of the writes to key, newest first, as of
	// the store's current revision: those the store still knows with a
	// revision below opts.Before, at most opts.Limit of them. A key that
	// does not exist, or never did, has a history like any other (perhaps
	// empty), not ErrNotFound. History returns ErrInvalidKey for an empty
	// or over-long key, ErrInvalidRevision for a negative opts.Before,
	// ErrClosed after Close.
	History(ctx context.Context, key string, opts HistoryOptions) (History, error)
}

// Pinger is implemented by stores that can check that their backend
// answers, for a caller that reports the backend's health while it uses
// the store (stores reconnect by themselves; Ping only tells).
type Pinger interface {
	// Ping makes one cheap, real round trip to the backend (not a bare TCP
	// dial) and returns nil when the backend answered it. A server that
	// stopped answering (frozen, or behind a silent network) makes it wait
	// until ctx ends (or the store's own request timeout), so callers give
	// it the deadline they mean. It does not queue behind the store's other
	// calls (a saturated connection pool does not delay it), so its
	// latency is the backend's. Errors are the backend's failure, or
	// ErrClosed after Close; their texts hold no secret.
	Ping(ctx context.Context) error
}

// HistoryOptions selects one page of a key's history.
type HistoryOptions struct {
	// Before, when positive, keeps only the writes at revisions below
	// Before; 0 starts at the newest write. The page after a History with
	// More set has Before = the ModRevision of its last entry. Negative is
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
	// KV is the version the write made, with its value. For Deleted it
	// carries only Key and ModRevision (the revision of the delete), as in
	// Event; the version it deleted is the next, older entry, when the
	// store knows it.
	KV KeyValue
}

// History is one page of a key's history, read as of store revision
// Revision.
//
// What a store still knows of a key is bounded by compaction: every write
// to it (create, update, delete) at a revision above Compacted, and the
// key's state at revision Compacted if it existed then (written at or
// before Compacted: the PrevKV that a Watch from Compacted+1 delivers with
// the key's first change). Nothing older is reported and nothing is made
// up. A page holds those with a revision below HistoryOptions.Before,
// newest first.
//
// Stores with a change log (memory, MySQL) report all of them. A store that
// reads history as snapshots of past revisions (etcd) cannot see deletes:
// its history ends, walking back, at the newest revision where the key did
// not exist, and it says so with StopsAtDelete. backendtest.WantHistory is
// the executable form of these rules.
type History struct {
	// Entries are the writes to the key, newest first, at distinct
	// revisions.
	Entries []HistoryEntry
	// More reports that Limit left out older entries the store knows:
	// the next page is HistoryOptions{Before: Entries[len(Entries)-1].KV.ModRevision}.
	More bool
	// Compacted is the store's compacted revision (as Revisioner reports
	// it; 0 when nothing was compacted). When More is false, writes at or
	// below Compacted may have preceded the last entry: the store no longer
	// knows them.
	Compacted int64
	// StopsAtDelete reports that the history ends above Compacted at a
	// revision where the key did not exist: the revision before the last
	// entry (a Created one), or, with no entries, the revision read
	// (Before-1, or Revision when Before is 0 or beyond it). An older
	// incarnation of the key, and the delete that ended it, may lie below;
	// this store cannot see them, nor whether the key existed before at
	// all. Only stores that read history as snapshots set it (etcd, whose
	// backendtest.Traits say so); stores with a change log report deletes
	// as entries, go on past them, and never set it. It is false when More
	// is set. A caller that knows where an older incarnation ended (a
	// Deleted event's ModRevision) can read that incarnation with Before
	// set to it.
	StopsAtDelete bool
	// Revision is the store revision the history was read at: a Watch of
	// the key from Revision+1 sees every later write.
	Revision int64
}
