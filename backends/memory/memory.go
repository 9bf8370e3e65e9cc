// Package memory is the in-process Store: the current keys in a hash map
// (for Get) and a counted B-tree (for List, and Count in O(log² n)) sharing
// one entry per key, plus a bounded log of recent events for Watch replay
// and History, all under one RWMutex. Data lives as long as the Store; nothing is
// persisted.
package memory

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/tidwall/btree"

	"github.com/k3/k3-storage/backends"
	"github.com/k3/k3-storage/backends/internal/history"
)

// DefaultHistory is the number of past events kept for Watch replay when
// Options.History is zero.
const DefaultHistory = 100_000

// watchBuffer is the capacity of each watch channel.
const watchBuffer = 128

// Options configures a memory Store. The zero value is ready to use.
type Options struct {
	// History is how many of the most recent events are kept so that a
	// Watch can start at a past revision; older revisions are compacted
	// automatically. 0 means DefaultHistory; negative values are treated as 1.
	History int
}

var (
	_ backends.Store           = (*Store)(nil)
	_ backends.Compactor       = (*Store)(nil)
	_ backends.Revisioner      = (*Store)(nil)
	_ backends.RevisionCounter = (*Store)(nil)
	_ backends.Historian       = (*Store)(nil)
	_ backends.Pinger          = (*Store)(nil)
)

// entry is a key's current state, shared by the map and the tree and
// updated in place. Value bytes are owned by the store and never modified
// after insertion (an update swaps the slice), so events may share them.
type entry struct {
	key            string
	value          []byte
	createRevision int64
	modRevision    int64
	version        int64
}

func lessEntry(a, b *entry) bool { return a.key < b.key }

func (e *entry) kv() backends.KeyValue {
	return backends.KeyValue{
		Key:            e.key,
		Value:          bytes.Clone(nonNil(e.value)),
		CreateRevision: e.createRevision,
		ModRevision:    e.modRevision,
		Version:        e.version,
	}
}

// Store is the memory backend. Create it with New.
type Store struct {
	mu   sync.RWMutex
	keys map[string]*entry
	tree *btree.BTreeG[*entry]
	rev  int64
	// log holds the events of revisions minRev..rev, in order:
	// log.at(i) is the event of revision minRev+i.
	log    eventRing
	minRev int64
	closed bool

	// changed is closed and replaced on the next write after a watcher
	// took it (waiting records that), waking watchers that caught up.
	changed chan struct{}
	waiting atomic.Bool
	done    chan struct{} // closed by Close
}

// New returns an empty Store at revision 0.
func New(opts Options) *Store {
	h := opts.History
	if h == 0 {
		h = DefaultHistory
	}
	if h < 1 {
		h = 1
	}
	return &Store{
		keys:    make(map[string]*entry),
		tree:    btree.NewBTreeGOptions(lessEntry, btree.Options{NoLocks: true}),
		log:     newEventRing(h),
		minRev:  1,
		changed: make(chan struct{}),
		done:    make(chan struct{}),
	}
}

// Ping implements backends.Pinger: the store is in this process, so it
// always answers, until Close (ErrClosed). It takes no lock.
func (s *Store) Ping(ctx context.Context) error {
	select {
	case <-s.done:
		return backends.ErrClosed
	default:
		return nil
	}
}

// Get implements backends.Store.
func (s *Store) Get(ctx context.Context, key string) (backends.KeyValue, error) {
	if err := backends.CheckKey(key); err != nil {
		return backends.KeyValue{}, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return backends.KeyValue{}, backends.ErrClosed
	}
	e, ok := s.keys[key]
	if !ok {
		return backends.KeyValue{}, fmt.Errorf("memory: get %q: %w", key, backends.ErrNotFound)
	}
	return e.kv(), nil
}

// List implements backends.Store.
func (s *Store) List(ctx context.Context, prefix string, opts backends.ListOptions) (backends.Page, error) {
	if err := backends.CheckPrefix(prefix); err != nil {
		return backends.Page{}, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return backends.Page{}, backends.ErrClosed
	}
	page := backends.Page{Revision: s.rev}
	if opts.Limit > 0 {
		page.Items = make([]backends.KeyValue, 0, min(opts.Limit, 1024))
	}
	s.ascend(prefix, opts.After, func(e *entry) bool {
		if opts.Limit > 0 && len(page.Items) == opts.Limit {
			page.More = true
			return false
		}
		page.Items = append(page.Items, e.kv())
		return true
	})
	return page, nil
}

// ascend calls fn for each key with the prefix that is greater than after,
// in order, until fn returns false. The caller holds s.mu.
func (s *Store) ascend(prefix, after string, fn func(*entry) bool) {
	start := prefix
	if after > start {
		start = after
	}
	end := backends.PrefixEnd(prefix)
	s.tree.Ascend(&entry{key: start}, func(e *entry) bool {
		if e.key == after {
			return true
		}
		if end != "" && e.key >= end {
			return false
		}
		return fn(e)
	})
}

// rank returns how many keys are less than key, in O(log² n): a binary
// search over positions, each found in O(log n) in the counted tree. The
// caller holds s.mu.
func (s *Store) rank(key string) int {
	lo, hi := 0, s.tree.Len()
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		if e, _ := s.tree.GetAt(mid); e.key < key {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	return lo
}

// Count implements backends.Store.
func (s *Store) Count(ctx context.Context, prefix string) (int64, error) {
	n, _, err := s.CountRev(ctx, prefix)
	return n, err
}

// CountRev implements backends.RevisionCounter: the count and the revision
// are read under one lock.
func (s *Store) CountRev(ctx context.Context, prefix string) (n, rev int64, err error) {
	if err := backends.CheckPrefix(prefix); err != nil {
		return 0, 0, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return 0, 0, backends.ErrClosed
	}
	end := s.tree.Len()
	if e := backends.PrefixEnd(prefix); e != "" {
		end = s.rank(e)
	}
	return int64(end - s.rank(prefix)), s.rev, nil
}

// Create implements backends.Store.
func (s *Store) Create(ctx context.Context, key string, value []byte) (int64, error) {
	return s.write(key, value, func(old *entry) error {
		if old != nil {
			return fmt.Errorf("memory: create %q: %w", key, backends.ErrKeyExists)
		}
		return nil
	})
}

// Put implements backends.Store.
func (s *Store) Put(ctx context.Context, key string, value []byte) (int64, error) {
	return s.write(key, value, func(*entry) error { return nil })
}

// Update implements backends.Store.
func (s *Store) Update(ctx context.Context, key string, value []byte, ifRev int64) (int64, error) {
	return s.write(key, value, func(old *entry) error {
		return checkRev("update", key, old, ifRev)
	})
}

// checkRev approves a conditional write to the entry old (nil if missing).
func checkRev(op, key string, old *entry, ifRev int64) error {
	if old == nil {
		return fmt.Errorf("memory: %s %q: %w", op, key, backends.ErrNotFound)
	}
	if old.modRevision != ifRev {
		return fmt.Errorf("memory: %s %q at revision %d (current %d): %w",
			op, key, ifRev, old.modRevision, backends.ErrConflict)
	}
	return nil
}

// write creates or updates key after check approves the key's current
// state (nil if the key is missing).
func (s *Store) write(key string, value []byte, check func(old *entry) error) (int64, error) {
	if err := backends.CheckWrite(key, value); err != nil {
		return 0, err
	}
	value = bytes.Clone(nonNil(value))

	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return 0, backends.ErrClosed
	}
	e := s.keys[key]
	if err := check(e); err != nil {
		return 0, err
	}
	s.rev++
	ev := backends.Event{Type: backends.Created}
	if e != nil {
		prev := e.shared()
		ev.Type, ev.PrevKV = backends.Updated, &prev
		e.value, e.modRevision, e.version = value, s.rev, e.version+1
	} else {
		e = &entry{key: key, value: value, createRevision: s.rev, modRevision: s.rev, version: 1}
		s.keys[key] = e
		s.tree.Set(e)
	}
	ev.KV = e.shared()
	s.appendEvent(ev)
	return s.rev, nil
}

// Delete implements backends.Store.
func (s *Store) Delete(ctx context.Context, key string, ifRev int64) (int64, error) {
	if err := backends.CheckKey(key); err != nil {
		return 0, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return 0, backends.ErrClosed
	}
	old := s.keys[key]
	if old == nil || ifRev != 0 {
		if err := checkRev("delete", key, old, ifRev); err != nil {
			return 0, err
		}
	}
	s.rev++
	delete(s.keys, key)
	s.tree.Delete(old)
	prev := old.shared()
	s.appendEvent(backends.Event{
		Type:   backends.Deleted,
		KV:     backends.KeyValue{Key: key, ModRevision: s.rev},
		PrevKV: &prev,
	})
	return s.rev, nil
}

// shared returns the entry as a KeyValue that shares the store's value
// bytes; it is only for the event log, whose readers copy before handing out.
func (e *entry) shared() backends.KeyValue {
	return backends.KeyValue{
		Key:            e.key,
		Value:          e.value,
		CreateRevision: e.createRevision,
		ModRevision:    e.modRevision,
		Version:        e.version,
	}
}

// appendEvent logs the event of revision s.rev, trims history beyond the
// configured bound and wakes waiting watchers. The caller holds s.mu.
func (s *Store) appendEvent(ev backends.Event) {
	if s.log.push(ev) {
		s.minRev++
	}
	if s.waiting.Swap(false) {
		close(s.changed)
		s.changed = make(chan struct{})
	}
}

// dropHistory forgets the n oldest events. The caller holds s.mu.
func (s *Store) dropHistory(n int) {
	s.log.dropFront(n)
	s.minRev += int64(n)
}

// Compact implements backends.Compactor.
func (s *Store) Compact(ctx context.Context, rev int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return backends.ErrClosed
	}
	if rev > s.rev {
		return fmt.Errorf("memory: compact to revision %d beyond current revision %d", rev, s.rev)
	}
	if rev > s.minRev {
		s.dropHistory(int(rev - s.minRev))
	}
	return nil
}

// Revision implements backends.Revisioner.
func (s *Store) Revision(ctx context.Context) (current, compacted int64, err error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return 0, 0, backends.ErrClosed
	}
	return s.rev, s.minRev - 1, nil
}

// History implements backends.Historian from the event log, which holds
// the writes of the last Options.History revisions (and previous values):
// deletes are entries, and nothing older than the log's first revision is
// known. It scans the log from opts.Before down under the read lock, so a
// page costs up to Options.History steps.
func (s *Store) History(ctx context.Context, key string, opts backends.HistoryOptions) (backends.History, error) {
	if err := backends.CheckKey(key); err != nil {
		return backends.History{}, err
	}
	if err := backends.CheckRevision(opts.Before); err != nil {
		return backends.History{}, fmt.Errorf("memory: history of %q: %w", key, err)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return backends.History{}, backends.ErrClosed
	}
	l := history.Log{Compacted: s.minRev - 1, Revision: s.rev}
	top := s.rev // the newest revision the page may hold
	if opts.Before > 0 {
		top = min(top, opts.Before-1)
	}
	for rev := top; rev >= s.minRev; rev-- {
		if ev := s.log.at(int(rev - s.minRev)); ev.KV.Key == key {
			l.Older = append(l.Older, copyEvent(ev))
			if opts.Limit > 0 && len(l.Older) > opts.Limit {
				break
			}
		}
	}
	switch {
	case opts.Limit > 0 && len(l.Older) > opts.Limit:
	case len(l.Older) > 0:
		l.Oldest = &l.Older[len(l.Older)-1]
	default:
		for rev := max(top+1, s.minRev); rev <= s.rev; rev++ {
			if ev := s.log.at(int(rev - s.minRev)); ev.KV.Key == key {
				oldest := copyEvent(ev)
				l.Oldest = &oldest
				break
			}
		}
		if e, ok := s.keys[key]; ok && l.Oldest == nil {
			kv := e.kv()
			l.Current = &kv
		}
	}
	return history.Page(l, opts), nil
}

// Watch implements backends.Store. A watcher must read its channel until it
// closes or cancel ctx; a watcher that falls more than Options.History
// events behind gets ErrCompacted.
func (s *Store) Watch(ctx context.Context, prefix string, fromRev int64) (<-chan backends.Event, error) {
	if err := backends.CheckPrefix(prefix); err != nil {
		return nil, err
	}
	if err := backends.CheckRevision(fromRev); err != nil {
		return nil, fmt.Errorf("memory: watch %q: %w", prefix, err)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return nil, backends.ErrClosed
	}
	next := fromRev
	if next == 0 {
		next = s.rev + 1
	}
	if next < s.minRev {
		return nil, fmt.Errorf("memory: watch from revision %d (oldest kept %d): %w", next, s.minRev, backends.ErrCompacted)
	}
	out := make(chan backends.Event, watchBuffer)
	go s.watch(ctx, prefix, next, out)
	return out, nil
}

// watch feeds out with the events of revisions next.. that match prefix.
func (s *Store) watch(ctx context.Context, prefix string, next int64, out chan<- backends.Event) {
	defer close(out)
	var batch []backends.Event
	for {
		var wake <-chan struct{}
		var final error
		batch, next, wake, final = s.collect(prefix, next, batch[:0])
		for _, ev := range batch {
			select {
			case out <- ev:
			case <-ctx.Done():
				return
			}
		}
		if final != nil {
			select {
			case out <- backends.Event{Err: final}:
			case <-ctx.Done():
			}
			return
		}
		if wake == nil {
			continue // more events are already waiting
		}
		select {
		case <-wake:
		case <-s.done:
		case <-ctx.Done():
			return
		}
	}
}

// maxBatch bounds the events a watcher copies per lock acquisition, so a
// replay of long history does not hold writers off.
const maxBatch = 256

// collect appends copies of up to maxBatch events from revision next on that
// match prefix. It returns the next revision to read and, when the watcher
// has caught up, a channel closed on the next write. final is set when the
// watch must end.
func (s *Store) collect(prefix string, next int64, batch []backends.Event) (_ []backends.Event, _ int64, wake <-chan struct{}, final error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return batch, next, nil, backends.ErrClosed
	}
	if next < s.minRev {
		return batch, next, nil, fmt.Errorf("memory: watcher fell behind to revision %d (oldest kept %d): %w",
			next, s.minRev, backends.ErrCompacted)
	}
	for scanned := 0; next <= s.rev && scanned < maxBatch*4 && len(batch) < maxBatch; scanned++ {
		ev := s.log.at(int(next - s.minRev))
		next++
		if len(ev.KV.Key) >= len(prefix) && ev.KV.Key[:len(prefix)] == prefix {
			batch = append(batch, copyEvent(ev))
		}
	}
	if next > s.rev {
		s.waiting.Store(true)
		wake = s.changed
	}
	return batch, next, wake, nil
}

// copyEvent gives a watcher its own copy of the value bytes.
func copyEvent(ev backends.Event) backends.Event {
	if ev.KV.Value != nil {
		ev.KV.Value = bytes.Clone(ev.KV.Value)
	}
	if ev.PrevKV != nil {
		prev := *ev.PrevKV
		prev.Value = bytes.Clone(nonNil(prev.Value))
		ev.PrevKV = &prev
	}
	return ev
}

// Close implements backends.Store: later calls fail with ErrClosed and
// every watch ends with a final ErrClosed event.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	s.tree.Clear()
	s.keys = nil
	s.log.reset()
	close(s.done)
	return nil
}

// nonNil maps a nil slice to an empty one, so that an empty value reads
// back as empty rather than absent.
func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}
