package etcd

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.etcd.io/etcd/api/v3/mvccpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/k3/k3-storage/backends"
)

// watchBuffer is the capacity of each watch channel.
const watchBuffer = 128

// Restart delays of a watch whose etcd stream ended without a reason that
// ends the Watch (a member lost its leader, say).
const (
	minRewatchDelay = 50 * time.Millisecond
	maxRewatchDelay = 2 * time.Second
)

// Watch implements backends.Store with an etcd watch (with previous values)
// on the prefix's key range. The client resumes the stream on another
// member when one goes away; the adapter also remembers the revision of the
// last event it delivered and drops anything at or below it, so an event is
// never delivered twice, and restarts the etcd watch from there if the
// stream is cancelled for a passing reason. With fromRev 0 it first reads
// the current revision, so "changes after the call" is exact even if the
// stream has to resume before its first event.
func (s *Store) Watch(ctx context.Context, prefix string, fromRev int64) (<-chan backends.Event, error) {
	if err := backends.CheckPrefix(prefix); err != nil {
		return nil, err
	}
	start, end := keyRange(prefix)
	if fromRev <= 0 {
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
	} else if s.closed.Load() {
		return nil, backends.ErrClosed
	}
	w := &watcher{
		s:      s,
		prefix: prefix,
		start:  start,
		end:    end,
		last:   fromRev - 1,
		ctx:    ctx,
		out:    make(chan backends.Event, watchBuffer),
	}
	go w.run(w.open())
	return w.out, nil
}

// watcher feeds one Watch's channel.
type watcher struct {
	s          *Store
	prefix     string
	start, end string
	last       int64           // revision of the last event delivered
	ctx        context.Context // the caller's
	stop       context.CancelFunc
	out        chan backends.Event
}

// open starts an etcd watch from the revision after the last delivered
// event. WithRequireLeader makes a member that lost its leader end the
// stream rather than go silent, so the watch moves to a healthy member.
// w.stop ends it.
func (w *watcher) open() clientv3.WatchChan {
	ctx, stop := context.WithCancel(w.ctx)
	w.stop = stop
	return w.s.client.Watch(clientv3.WithRequireLeader(ctx), w.start,
		clientv3.WithRange(w.end), clientv3.WithRev(w.last+1), clientv3.WithPrevKV())
}

func (w *watcher) run(wch clientv3.WatchChan) {
	defer close(w.out)
	defer func() { w.stop() }()
	delay := minRewatchDelay
	for {
		var (
			resp clientv3.WatchResponse
			ok   bool
		)
		select {
		case resp, ok = <-wch:
		case <-w.ctx.Done():
			return
		case <-w.s.done:
			w.finish(backends.ErrClosed)
			return
		}
		if w.ctx.Err() != nil {
			return
		}
		if w.s.closed.Load() {
			w.finish(backends.ErrClosed)
			return
		}
		if ok && resp.Err() == nil {
			delay = minRewatchDelay
			if !w.deliver(resp.Events) {
				return
			}
			continue
		}
		if ok {
			if err := w.fatal(resp); err != nil {
				w.finish(err)
				return
			}
		}
		// The stream ended for a passing reason: start again from the
		// revision after the last delivered event.
		w.stop()
		select {
		case <-time.After(delay):
		case <-w.ctx.Done():
			return
		case <-w.s.done:
			w.finish(backends.ErrClosed)
			return
		}
		delay = min(2*delay, maxRewatchDelay)
		wch = w.open()
	}
}

// deliver sends the events after w.last; it returns false if the caller's
// context ended. One write may change several keys at one revision (a
// transaction, a range delete, a lease expiry); etcd sends all of a
// revision's events in one response, so the floor is taken once per
// response, not raised per event.
func (w *watcher) deliver(events []*clientv3.Event) bool {
	floor := w.last
	for _, ev := range events {
		if ev.Kv.ModRevision <= floor {
			continue // already delivered before the stream resumed
		}
		select {
		case w.out <- toEvent(ev):
			w.last = ev.Kv.ModRevision
		case <-w.ctx.Done():
			return false
		}
	}
	return true
}

// fatal returns the error that ends the watch for a failed response, or nil
// if the watch should start again.
func (w *watcher) fatal(resp clientv3.WatchResponse) error {
	err := resp.Err()
	switch {
	case resp.CompactRevision != 0 || errors.Is(err, rpctypes.ErrCompacted):
		return fmt.Errorf("etcd: watch %q from revision %d (compacted up to %d): %w",
			w.prefix, w.last+1, resp.CompactRevision, backends.ErrCompacted)
	case isAuthError(err):
		return redact(fmt.Errorf("etcd: watch %q: %w", w.prefix, err), w.s.secrets...)
	}
	return nil
}

// finish sends the final error event, unless the caller has gone.
func (w *watcher) finish(err error) {
	select {
	case w.out <- backends.Event{Err: err}:
	case <-w.ctx.Done():
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
