package mysql

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/k3/k3-storage/backends"
)

const (
	// pollBatch is the most log rows one query reads (poller and replay),
	// and readBytes about the most value bytes the poller keeps of one
	// (a watcher's replay keeps sendBytes): with large values a batch ends
	// early, so memory stays bounded.
	pollBatch = 500
	readBytes = 32 << 20
	// watchBuffer is the capacity of each watch channel: one event, so
	// that what a watcher holds for a reader that does not keep up is
	// bounded by sendBytes rather than by a number of events that may each
	// carry two values of backends.MaxValueSize.
	watchBuffer = 1
	// maxSendBatch and sendBytes bound the events a watcher takes out of
	// the window per lock acquisition: at most maxSendBatch events, and no
	// more once they hold sendBytes (eventBytes; at least one event).
	maxSendBatch = 256
	sendBytes    = 4 << 20
	// The window of recent events kept in memory for watchers: the newest
	// feedEvents events, trimmed further while they hold over feedBytes.
	feedEvents = 4096
	feedBytes  = 64 << 20
)

// feed is the in-memory window of recent events shared by a Store's
// watchers: events[i] is the event of revision start+i, contiguous. The
// poller appends; watchers read under the read lock and copy values before
// handing them out. Values in the window are never modified.
type feed struct {
	mu       sync.RWMutex
	known    bool // false while the poller has not located the log's end
	start    int64
	events   []backends.Event
	bytes    int
	watchers int
	closed   bool
	// changed is closed and replaced after an append that follows a
	// watcher's taking it (waiting records that), waking watchers.
	changed chan struct{}
	waiting atomic.Bool
}

func (f *feed) init() { f.changed = make(chan struct{}) }

// head is the newest revision in the window (start-1 when empty). The
// caller holds f.mu.
func (f *feed) head() int64 { return f.start + int64(len(f.events)) - 1 }

// broadcast wakes waiting watchers. The caller holds f.mu for writing.
func (f *feed) broadcast() {
	if f.waiting.Swap(false) {
		close(f.changed)
		f.changed = make(chan struct{})
	}
}

// close marks the feed closed and wakes every watcher.
func (f *feed) close() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.closed = true
	f.events = nil
	f.waiting.Store(true)
	f.broadcast()
}

// append adds the events of revisions head+1... A first event beyond head+1
// means the revisions between were compacted before the poller read them:
// the window restarts there and watchers positioned in the gap find out
// from the log. The caller holds f.mu for writing.
func (f *feed) append(evs []backends.Event) {
	for _, ev := range evs {
		if rev := ev.KV.ModRevision; rev != f.head()+1 {
			f.events, f.bytes, f.start = f.events[:0], 0, rev
		}
		f.events = append(f.events, ev)
		f.bytes += eventBytes(ev)
	}
	drop := 0
	for len(f.events)-drop > feedEvents || (f.bytes > feedBytes && len(f.events)-drop > 1) {
		f.bytes -= eventBytes(f.events[drop])
		drop++
	}
	if drop > 0 {
		clear(f.events[:drop])
		f.events = f.events[drop:]
		f.start += int64(drop)
	}
}

// maxGauge keeps the largest value noted (tests read it).
type maxGauge struct{ v atomic.Int64 }

func (g *maxGauge) note(n int) {
	for {
		cur := g.v.Load()
		if int64(n) <= cur || g.v.CompareAndSwap(cur, int64(n)) {
			return
		}
	}
}

// eventBytes is what an event holds in memory, about.
func eventBytes(ev backends.Event) int {
	n := len(ev.KV.Key) + len(ev.KV.Value) + 64
	if ev.PrevKV != nil {
		n += len(ev.PrevKV.Value)
	}
	return n
}

// notify wakes the poller after a local commit.
func (s *Store) notify() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// poll is the Store's poller goroutine: while there are watchers it reads
// new log rows into the feed, woken by local commits and new watchers or
// every pollInterval for other processes' writes.
func (s *Store) poll() {
	defer s.bg.Done()
	ticker := time.NewTicker(s.pollInterval)
	defer ticker.Stop()
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-s.wake:
		case <-ticker.C:
		}
		for s.pollOnce() {
		}
	}
}

// pollOnce reads one batch of new log rows into the feed and reports
// whether a full batch came (more may be waiting). Errors are retried on the
// next tick: watchers stall meanwhile but lose nothing.
func (s *Store) pollOnce() bool {
	f := &s.feed
	f.mu.Lock()
	if f.watchers == 0 || f.closed {
		// Nobody listens: forget the window rather than read every write.
		f.known, f.events, f.bytes = false, nil, 0
		f.mu.Unlock()
		return false
	}
	known, next := f.known, f.head()+1
	f.mu.Unlock()

	ctx, cancel := context.WithTimeout(s.ctx, queryTimeout(s.pollInterval))
	defer cancel()
	if !known {
		var cur, compacted int64
		if err := s.queryRow(ctx, sqlMeta).Scan(&cur, &compacted); err != nil {
			return false
		}
		next = cur + 1
	}
	evs, more, err := s.readLog(ctx, next, "", &s.pollLimit, readBytes)
	if err != nil {
		return false
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return false
	}
	located := !f.known
	if located {
		f.known, f.start, f.events, f.bytes = true, next, f.events[:0], 0
	}
	if f.head()+1 != next {
		return true // the window was reset meanwhile; read again
	}
	f.append(evs)
	if len(evs) > 0 || located {
		f.broadcast()
	}
	return more
}

// logLimit is the LIMIT of one reader's next log query (the poller's, or a
// watcher's replay): pollBatch rows, or fewer after a batch was cut short
// by its byte budget. Rows past the cut are still sent by the server and
// read by the driver, only to be discarded when the rows are closed, so
// with large values a query asks for about as many rows as fit; the limit
// doubles back towards pollBatch while batches fill it without a cut. The
// zero value is pollBatch. Only its reader's goroutine uses it.
type logLimit int

func (l *logLimit) get() int {
	if *l <= 0 {
		return pollBatch
	}
	return int(*l)
}

// update records a batch of rows rows, cut short by its byte budget or not.
func (l *logLimit) update(rows int, cut bool) {
	switch {
	case cut:
		*l = logLimit(max(rows, 1))
	case rows >= l.get():
		*l = logLimit(min(2*l.get(), pollBatch))
	}
}

// logQuery builds readLog's statement.
func logQuery(from int64, prefix string, limit int) (string, []any) {
	match, args := "1", []any{}
	if prefix != "" {
		match, args = "k >= ?", append(args, []byte(prefix))
		if end := backends.PrefixEnd(prefix); end != "" {
			match, args = match+" AND k < ?", append(args, []byte(end))
		}
		args = append(args, args...) // the condition appears twice
	}
	q := "SELECT rev, k, type, create_rev, prev_mod_rev, prev_version, " +
		"IF(" + match + ", value, NULL), IF(" + match + ", prev_value, NULL) " +
		"FROM k3_log WHERE rev >= ? ORDER BY rev LIMIT ?"
	return q, append(args, from, limit)
}

// queryTimeout bounds one background query, so that a stalled connection
// cannot stop the poller for good.
func queryTimeout(poll time.Duration) time.Duration { return max(30*time.Second, 10*poll) }

// readLog returns the events of up to limit.get() log rows from revision
// from on, in order, and whether more rows may follow (the batch was full,
// or cut short once its events held maxBytes; it holds at least one), and
// adjusts limit for the reader's next batch. Values are fetched only for
// keys with the given prefix (all for ""); other rows come with their key
// and revision only.
func (s *Store) readLog(ctx context.Context, from int64, prefix string, limit *logLimit, maxBytes int) (_ []backends.Event, more bool, _ error) {
	n := limit.get()
	q, args := logQuery(from, prefix, n)
	rows, err := s.query(ctx, q, args...)
	if err != nil {
		return nil, false, err
	}
	defer rows.Close()
	var evs []backends.Event
	size := 0
	for rows.Next() {
		var (
			rev, createRev, prevMod, prevVersion int64
			typ                                  int
			k, value, prevValue                  []byte
		)
		if err := rows.Scan(&rev, &k, &typ, &createRev, &prevMod, &prevVersion, &value, &prevValue); err != nil {
			return nil, false, err
		}
		ev, err := logEvent(rev, string(k), typ, createRev, prevMod, prevVersion, value, prevValue)
		if err != nil {
			return nil, false, err
		}
		evs = append(evs, ev)
		if size += eventBytes(ev); size >= maxBytes {
			limit.update(len(evs), true)
			return evs, true, rows.Err() // rows.Close reads the rest to discard it
		}
	}
	limit.update(len(evs), false)
	return evs, len(evs) == n, rows.Err()
}

// logEvent is the event of one k3_log row.
func logEvent(rev int64, key string, typ int, createRev, prevMod, prevVersion int64, value, prevValue []byte) (backends.Event, error) {
	switch typ {
	case logCreated:
		return backends.Event{Type: backends.Created, KV: backends.KeyValue{
			Key: key, Value: nonNil(value), CreateRevision: rev, ModRevision: rev, Version: 1}}, nil
	case logUpdated, logDeleted:
		prev := &backends.KeyValue{Key: key, Value: nonNil(prevValue), CreateRevision: createRev,
			ModRevision: prevMod, Version: prevVersion}
		if typ == logDeleted {
			return backends.Event{Type: backends.Deleted, PrevKV: prev, KV: backends.KeyValue{Key: key, ModRevision: rev}}, nil
		}
		return backends.Event{Type: backends.Updated, PrevKV: prev, KV: backends.KeyValue{
			Key: key, Value: nonNil(value), CreateRevision: createRev, ModRevision: rev, Version: prevVersion + 1}}, nil
	}
	return backends.Event{}, fmt.Errorf("log row %d has unknown type %d", rev, typ)
}

// Watch implements backends.Store. The watcher must read its channel until
// it closes or cancel ctx. Watch returns ErrCompacted when fromRev is at or
// below the compacted revision; a watcher that later falls behind retained
// history (it must then be reading from the log, outside the in-memory
// window) ends with a final ErrCompacted event. A fromRev beyond the current
// revision needs nothing special: the watcher waits, like one that has
// caught up, until the window (or the log) reaches it.
//
// The watch's goroutine ends only when the reader has taken the final event
// or ctx ends: Close ends the watch with ErrClosed but does not wait for it.
func (s *Store) Watch(ctx context.Context, prefix string, fromRev int64) (<-chan backends.Event, error) {
	if err := backends.CheckPrefix(prefix); err != nil {
		return nil, err
	}
	if err := backends.CheckRevision(fromRev); err != nil {
		return nil, fmt.Errorf("mysql: watch %q: %w", prefix, err)
	}
	if s.closed.Load() {
		return nil, backends.ErrClosed
	}
	var cur, compacted int64
	err := s.step(ctx, func(ctx context.Context) error {
		return s.queryRow(ctx, sqlMeta).Scan(&cur, &compacted)
	})
	if err != nil {
		return nil, s.opError(fmt.Sprintf("watch %q", prefix), err)
	}
	next := fromRev
	if next == 0 {
		next = cur + 1
	}
	if next <= compacted {
		return nil, fmt.Errorf("mysql: watch %q from revision %d (compacted through %d): %w",
			prefix, next, compacted, backends.ErrCompacted)
	}
	f := &s.feed
	f.mu.Lock()
	if f.closed {
		f.mu.Unlock()
		return nil, backends.ErrClosed
	}
	f.watchers++
	f.mu.Unlock()
	s.notify() // start polling now if this is the first watcher

	out := make(chan backends.Event, watchBuffer)
	go s.watch(ctx, prefix, next, out)
	return out, nil
}

// watch feeds out with the events of revisions next.. that match prefix.
func (s *Store) watch(ctx context.Context, prefix string, next int64, out chan<- backends.Event) {
	defer close(out)
	defer func() {
		s.feed.mu.Lock()
		s.feed.watchers--
		s.feed.mu.Unlock()
	}()
	// Log reads end with the watch's context or the Store.
	qctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(s.ctx, cancel)
	defer stop()

	send := func(ev backends.Event) bool {
		select {
		case out <- ev:
			return true
		case <-ctx.Done():
			return false
		}
	}
	var batch []backends.Event
	var replayLimit logLimit
	for {
		var wake <-chan struct{}
		var fromLog, closed bool
		batch, next, wake, fromLog, closed = s.collect(prefix, next, batch[:0])
		if closed {
			send(backends.Event{Err: backends.ErrClosed})
			return
		}
		if fromLog {
			evs, last, err := s.replay(qctx, prefix, next, &replayLimit)
			if ctx.Err() != nil {
				return
			}
			if err != nil {
				if s.closed.Load() {
					err = backends.ErrClosed
				}
				send(backends.Event{Err: err})
				return
			}
			held := 0
			for _, ev := range evs {
				held += eventBytes(ev)
			}
			s.watchHeld.note(held)
			for _, ev := range evs {
				if !send(ev) {
					return
				}
			}
			if last >= next {
				next = last + 1
				continue
			}
		}
		for _, ev := range batch {
			if !send(copyEvent(ev)) {
				return
			}
		}
		if wake == nil {
			continue
		}
		select {
		case <-wake:
		case <-ctx.Done():
			return
		}
	}
}

// collect takes the events from revision next on that match prefix out of
// the in-memory window, up to maxSendBatch events or sendBytes. It returns
// the next revision to read and, when the watcher has caught up, a channel
// closed on the next append. fromLog says next lies before the window (or
// the window does not exist yet): the watcher must read the log itself, and
// wake is set so it can wait if the log has nothing new either.
func (s *Store) collect(prefix string, next int64, batch []backends.Event) (_ []backends.Event, _ int64, wake <-chan struct{}, fromLog, closed bool) {
	f := &s.feed
	f.mu.RLock()
	defer f.mu.RUnlock()
	if f.closed {
		return batch, next, nil, false, true
	}
	if !f.known || next < f.start {
		f.waiting.Store(true)
		return batch, next, f.changed, true, false
	}
	head := f.head()
	held := 0
	for scanned := 0; next <= head && scanned < maxSendBatch*4 && len(batch) < maxSendBatch && held < sendBytes; scanned++ {
		ev := f.events[next-f.start]
		next++
		if strings.HasPrefix(ev.KV.Key, prefix) {
			batch = append(batch, ev)
			held += eventBytes(ev)
		}
	}
	s.watchHeld.note(held)
	if next > head {
		f.waiting.Store(true)
		wake = f.changed
	}
	return batch, next, wake, false, false
}

// replay reads the log from revision next for a watcher outside the
// window. It returns the matching events and the last revision read (below
// next when the log holds nothing new), or ErrCompacted when next is no
// longer retained. The request timeout bounds it.
func (s *Store) replay(ctx context.Context, prefix string, next int64, limit *logLimit) ([]backends.Event, int64, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	evs, _, err := s.readLog(ctx, next, prefix, limit, sendBytes)
	if err != nil {
		return nil, 0, s.opError(fmt.Sprintf("watch %q: read log", prefix), err)
	}
	if len(evs) == 0 || evs[0].KV.ModRevision != next {
		// Either nothing new, or the rows from next on are gone. Compact
		// advances compact_rev before it deletes, and this read of the meta
		// row comes after the log read, so it explains any missing row.
		var cur, compacted int64
		if err := s.queryRow(ctx, sqlMeta).Scan(&cur, &compacted); err != nil {
			return nil, 0, s.opError(fmt.Sprintf("watch %q", prefix), err)
		}
		if next <= compacted {
			return nil, 0, fmt.Errorf("mysql: watch %q at revision %d (compacted through %d): %w",
				prefix, next, compacted, backends.ErrCompacted)
		}
		if len(evs) > 0 {
			return nil, 0, fmt.Errorf("mysql: watch %q: log row %d missing (next row %d, compacted through %d)",
				prefix, next, evs[0].KV.ModRevision, compacted)
		}
		return nil, next - 1, nil
	}
	last := evs[len(evs)-1].KV.ModRevision
	matching := evs[:0]
	for _, ev := range evs {
		if strings.HasPrefix(ev.KV.Key, prefix) {
			matching = append(matching, ev)
		}
	}
	return matching, last, nil
}

// copyEvent gives a watcher its own copy of the window's value bytes.
func copyEvent(ev backends.Event) backends.Event {
	if ev.Type != backends.Deleted {
		ev.KV.Value = cloneValue(ev.KV.Value)
	}
	if ev.PrevKV != nil {
		prev := *ev.PrevKV
		prev.Value = cloneValue(prev.Value)
		ev.PrevKV = &prev
	}
	return ev
}
