package etcd

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync/atomic"
	"time"

	"go.etcd.io/etcd/api/v3/mvccpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/grpc/metadata"

	"github.com/k3/k3-storage/backends"
)

// maxWatchBytes bounds what one watcher holds for a reader that does not
// keep up, counted in key and value bytes rather than events (one event may
// carry two values of up to backends.MaxValueSize). Beyond it the watcher
// stops reading its etcd stream, which it cancels so that clientv3 (which
// queues a stream's responses without limit) holds nothing either; it
// opens the stream again, from the revision after the last event it holds,
// once the reader has taken half of it. The events of one revision are
// taken together, so a watcher may hold up to one revision's events more,
// and one event more waits in the channel.
const maxWatchBytes = 16 << 20

// Restart delays of a watch whose etcd stream ended without a reason that
// ends the Watch (a member lost its leader, say).
const (
	minRewatchDelay = 50 * time.Millisecond
	maxRewatchDelay = 2 * time.Second
)

// watchStreamKey names the gRPC metadata entry that selects which of the
// client's watch streams an etcd watch joins (clientv3 shares one stream
// among watches whose contexts carry equal metadata). A stream carries the
// auth token it was opened with for its whole life, so a watch restarted
// after the server refused it joins a new stream, opened with a fresh
// token (see Store.watchEpoch).
const watchStreamKey = "k3-watch-stream"

// Watch implements backends.Store with an etcd watch (with previous values)
// on the prefix's key range. The client resumes the stream on another
// member when one goes away; the adapter also remembers the revision of the
// last event it took and drops anything at or below it, so an event is
// never delivered twice, and restarts the etcd watch from there if the
// stream is cancelled for a passing reason. With fromRev 0 it first reads
// the current revision, so "changes after the call" is exact even if the
// stream has to resume before its first event; with a fromRev above 1 it
// first reads at fromRev-1, to refuse compacted history with ErrCompacted
// (see watchable).
//
// When etcd refuses or cancels the stream (an expired or forgotten auth
// token after a member restarted, a member without leader), one unary read
// of the watched range decides: clientv3 renews the token on it, and the
// watch starts again on a new stream; only if that read is refused for the
// credentials or their rights (permission denied, authentication failed)
// does the watch end, with that error.
//
// A reader that falls behind costs at most about maxWatchBytes (16 MiB) of
// held events: the watcher then pauses its etcd stream and resumes it from
// where it left off when the reader catches up, so the reader still sees
// every event once, in order.
//
// A fromRev above the current revision is passed to etcd as it is: etcd
// holds the watch until the store reaches that revision.
//
// The watch's goroutine ends when the reader has taken the final event or
// ctx ends; Close ends the watch with ErrClosed but does not wait for that.
func (s *Store) Watch(ctx context.Context, prefix string, fromRev int64) (<-chan backends.Event, error) {
	if err := backends.CheckPrefix(prefix); err != nil {
		return nil, err
	}
	if err := backends.CheckRevision(fromRev); err != nil {
		return nil, fmt.Errorf("etcd: watch %q: %w", prefix, err)
	}
	start, _ := keyRange(prefix)
	if fromRev == 0 {
		rctx, cancel, err := s.call(ctx)
		if err != nil {
			return nil, err
		}
		// A single-key read: cheap, and readable by whoever may watch
		// the prefix.
		resp, err := s.client.Get(rctx, start, clientv3.WithCountOnly())
		cancel()
		if err != nil {
			return nil, s.fail("watch", prefix, err)
		}
		fromRev = resp.Header.Revision + 1
	} else if err := s.watchable(ctx, prefix, start, fromRev); err != nil {
		return nil, err
	}
	return s.watch(ctx, prefix, fromRev), nil
}

// watch starts the watcher of a Watch from fromRev (> 0).
func (s *Store) watch(ctx context.Context, prefix string, fromRev int64) <-chan backends.Event {
	start, end := keyRange(prefix)
	w := &watcher{
		s:      s,
		prefix: prefix,
		start:  start,
		end:    end,
		last:   fromRev - 1,
		ctx:    ctx,
		// The watcher's queue, bounded by bytes, is the buffer; the
		// channel holds one event, so that the watcher knows what its
		// reader has taken to within one event, and a final event for a
		// reader that has caught up does not wait for it.
		out: make(chan backends.Event, 1),
	}
	go w.run(w.open())
	return w.out
}

// watchable checks that a Watch from fromRev (> 0) is not from compacted
// history. etcd itself serves a watch from its compaction revision, but
// that revision is compacted in the contract's terms (see Compact): an
// update or delete there would come without PrevKV. So the revision before
// fromRev must still be readable, which one count-only read of the watched
// range's first key tells (readable by whoever may watch the prefix). A
// fromRev beyond the current revision is fine: the watch waits for it.
func (s *Store) watchable(ctx context.Context, prefix, start string, fromRev int64) error {
	if s.closed.Load() {
		return backends.ErrClosed
	}
	if fromRev == 1 {
		return nil
	}
	rctx, cancel, err := s.call(ctx)
	if err != nil {
		return err
	}
	defer cancel()
	_, err = s.client.Get(rctx, start, clientv3.WithRev(fromRev-1), clientv3.WithCountOnly())
	switch {
	case errors.Is(err, rpctypes.ErrCompacted):
		return fmt.Errorf("etcd: watch %q from revision %d: %w", prefix, fromRev, backends.ErrCompacted)
	case err == nil, errors.Is(err, rpctypes.ErrFutureRev):
		return nil
	}
	return s.fail("watch", prefix, err)
}

// watcher feeds one Watch's channel.
type watcher struct {
	s          *Store
	prefix     string
	start, end string
	ctx        context.Context // the caller's
	out        chan backends.Event

	// last is the revision of the last event taken from etcd (queued or
	// delivered); a stream (re)opens at last+1.
	last int64
	// stop ends the current etcd stream; epoch is the stream epoch it
	// joined.
	stop  context.CancelFunc
	epoch int64
	// queue holds the events taken from etcd that the reader has not
	// taken yet, queued their size in bytes (eventSize).
	queue  []backends.Event
	queued int
	// behind is set by take when the watch fell behind compacted history:
	// it ends with this error once the queue is delivered.
	behind error
}

// open starts an etcd watch from the revision after the last event taken.
// WithRequireLeader makes a member that lost its leader end the stream
// rather than go silent, so the watch moves to a healthy member. w.stop
// ends it.
func (w *watcher) open() clientv3.WatchChan {
	ctx, stop := context.WithCancel(w.ctx)
	w.stop = stop
	w.epoch = w.s.watchEpoch.Load()
	ctx = metadata.AppendToOutgoingContext(ctx, watchStreamKey, strconv.FormatInt(w.epoch, 10))
	return w.s.client.Watch(clientv3.WithRequireLeader(ctx), w.start,
		clientv3.WithRange(w.end), clientv3.WithRev(w.last+1), clientv3.WithPrevKV())
}

// run moves events from etcd to the reader until the watch ends. The etcd
// stream is read only while the queue holds at most maxWatchBytes; wch is
// nil while it is paused for the reader or waiting to restart.
func (w *watcher) run(wch clientv3.WatchChan) {
	defer close(w.out)
	defer func() { w.stop() }()
	restart := time.NewTimer(0)
	restart.Stop()
	defer restart.Stop()
	restarting := false // restart is armed
	delay := minRewatchDelay
	for {
		var (
			out  chan<- backends.Event
			head backends.Event
		)
		if len(w.queue) > 0 {
			out, head = w.out, w.queue[0]
		}
		select {
		case out <- head:
			w.pop()
			if wch == nil && !restarting && w.queued <= maxWatchBytes/2 {
				wch = w.open() // the reader caught up with a paused stream
			}
			continue
		case resp, ok := <-wch:
			if w.ctx.Err() != nil {
				return
			}
			if w.s.closed.Load() {
				w.finish(backends.ErrClosed)
				return
			}
			if ok && resp.Err() == nil {
				delay = minRewatchDelay
				full := w.take(resp.Events)
				if w.behind != nil {
					w.finish(w.behind)
					return
				}
				if full {
					// The reader is behind: take nothing more from etcd
					// until it has caught up.
					w.stop()
					wch = nil
					w.s.watchStats.pauses.Add(1)
				}
				continue
			}
			w.stop()
			wch = nil
			if ok {
				if err := w.fatal(resp); err != nil {
					w.finish(err)
					return
				}
			}
			// The stream ended for a passing reason: start again, a little
			// later, from the revision after the last event taken.
			w.s.watchStats.restarts.Add(1)
			restart.Reset(delay)
			restarting = true
			delay = min(2*delay, maxRewatchDelay)
		case <-restart.C:
			restarting = false
			if w.queued <= maxWatchBytes/2 {
				wch = w.open()
			}
		case <-w.ctx.Done():
			return
		case <-w.s.done:
			w.finish(backends.ErrClosed)
			return
		}
	}
}

// take queues the events after w.last, and reports whether the queue is
// full (over maxWatchBytes), in which case it may have left events of
// later revisions untaken: the stream must pause and resume at w.last+1.
// One write may change several keys at one revision (a transaction, a range
// delete, a lease expiry); etcd sends all of a revision's events in one
// response, so the floor is taken once per response, not raised per event,
// and a revision is never split.
func (w *watcher) take(events []*clientv3.Event) (full bool) {
	defer func() { w.s.watchStats.held(w.queued) }()
	floor := w.last
	for _, ev := range events {
		rev := ev.Kv.ModRevision
		if rev <= floor {
			continue // already taken before the stream resumed
		}
		if rev != w.last && w.queued > maxWatchBytes {
			return true // at a revision boundary: leave the rest in etcd
		}
		if ev.PrevKv == nil && !ev.IsCreate() {
			// etcd reads the previous version at rev-1 and sends none
			// when that revision is compacted: the stream (re)started at
			// etcd's compaction revision, which the contract counts as
			// compacted (see Compact).
			w.behind = fmt.Errorf("etcd: watch %q fell behind compacted history at revision %d: %w",
				w.prefix, rev, backends.ErrCompacted)
			return false
		}
		out := toEvent(ev)
		w.queue = append(w.queue, out)
		w.queued += eventSize(out)
		w.last = rev
	}
	return w.queued > maxWatchBytes
}

// pop drops the event the reader has taken.
func (w *watcher) pop() {
	w.queued -= eventSize(w.queue[0])
	w.queue[0] = backends.Event{}
	w.queue = w.queue[1:]
	if len(w.queue) == 0 {
		w.queue = nil // let the backing array go
	}
}

// eventSize is what an event holds in memory, roughly: its keys and
// values and a fixed overhead.
func eventSize(ev backends.Event) int {
	n := 128 + len(ev.KV.Key) + len(ev.KV.Value)
	if ev.PrevKV != nil {
		n += len(ev.PrevKV.Key) + len(ev.PrevKV.Value)
	}
	return n
}

// fatal returns the error that ends the watch for a failed response, or nil
// if the watch should start again.
//
// etcd reports why it refused or cancelled a stream only as text (the
// cancel reason), so the watcher does not judge by it: it asks with one
// unary read of the watched range, whose errors are typed. That read also
// makes clientv3 renew an expired or forgotten auth token; the next stream
// is opened on a new gRPC stream (a new epoch), which carries the new
// token, since the old stream keeps the token it was opened with.
func (w *watcher) fatal(resp clientv3.WatchResponse) error {
	err := resp.Err()
	if resp.CompactRevision != 0 || errors.Is(err, rpctypes.ErrCompacted) {
		return fmt.Errorf("etcd: watch %q from revision %d (compacted up to %d): %w",
			w.prefix, w.last+1, resp.CompactRevision, backends.ErrCompacted)
	}
	ctx, cancel, cerr := w.s.call(w.ctx)
	if cerr != nil {
		return cerr
	}
	defer cancel()
	_, gerr := w.s.client.Get(ctx, w.start, clientv3.WithRange(w.end), clientv3.WithCountOnly())
	if isAuthError(gerr) && !errors.Is(gerr, rpctypes.ErrInvalidAuthToken) && !errors.Is(gerr, rpctypes.ErrAuthOldRevision) {
		return redact(fmt.Errorf("etcd: watch %q: %w (stream ended: %v)", w.prefix, gerr, err), w.s.secrets...)
	}
	// Move to a new stream, unless another watcher already has since
	// this one opened.
	w.s.watchEpoch.CompareAndSwap(w.epoch, w.epoch+1)
	return nil
}

// finish delivers the queued events and then the final error event, unless
// the caller goes first.
func (w *watcher) finish(err error) {
	for len(w.queue) > 0 {
		select {
		case w.out <- w.queue[0]:
			w.pop()
		case <-w.ctx.Done():
			return
		}
	}
	select {
	case w.out <- backends.Event{Err: err}:
	case <-w.ctx.Done():
	}
}

// watchStats counts what tests cannot observe from outside: how often
// watches paused for slow readers and restarted failed streams, and the
// most bytes one watcher held.
type watchStats struct {
	pauses, restarts atomic.Int64
	maxHeld          atomic.Int64
}

func (st *watchStats) held(n int) {
	for {
		old := st.maxHeld.Load()
		if int64(n) <= old || st.maxHeld.CompareAndSwap(old, int64(n)) {
			return
		}
	}
}

// toEvent converts an etcd event: a put of a key's first version is
// Created, a later one Updated.
func toEvent(ev *clientv3.Event) backends.Event {
	var out backends.Event
	switch {
	case ev.Type == mvccpb.DELETE:
		out.Type = backends.Deleted
		out.KV = backends.KeyValue{Key: string(ev.Kv.Key), ModRevision: ev.Kv.ModRevision}
	case ev.Kv.CreateRevision == ev.Kv.ModRevision:
		out.Type = backends.Created
		out.KV = toKV(ev.Kv)
	default:
		out.Type = backends.Updated
		out.KV = toKV(ev.Kv)
	}
	if ev.PrevKv != nil && out.Type != backends.Created {
		prev := toKV(ev.PrevKv)
		out.PrevKV = &prev
	}
	return out
}
