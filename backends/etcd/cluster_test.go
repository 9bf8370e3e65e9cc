package etcd_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/k3/k3-storage/backends"
	"github.com/k3/k3-storage/backends/etcd"
	"github.com/k3/k3-storage/backends/etcd/etcdtest"
)

// eventLog collects a watch's events in the background.
type eventLog struct {
	mu     sync.Mutex
	events []backends.Event
	err    error
	done   chan struct{}
}

func collect(ch <-chan backends.Event) *eventLog {
	l := &eventLog{done: make(chan struct{})}
	go func() {
		defer close(l.done)
		for ev := range ch {
			l.mu.Lock()
			if ev.Err != nil {
				l.err = ev.Err
			} else {
				l.events = append(l.events, ev)
			}
			l.mu.Unlock()
		}
	}()
	return l
}

// waitFor waits until the log holds an event at revision rev or later.
func (l *eventLog) waitFor(t *testing.T, rev int64, within time.Duration) []backends.Event {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		l.mu.Lock()
		events, err := append([]backends.Event(nil), l.events...), l.err
		l.mu.Unlock()
		if err != nil {
			t.Fatalf("watch ended with %v", err)
		}
		if n := len(events); n > 0 && events[n-1].KV.ModRevision >= rev {
			return events
		}
		if time.Now().After(deadline) {
			t.Fatalf("watch did not reach revision %d within %v (%d events)", rev, within, len(events))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitUntil polls cond until it holds, failing the test after within.
func waitUntil(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not within %v: %s", within, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// putUntilAccepted retries a Put, backing off, until the cluster accepts
// it, and returns its revision; it fails the test after within.
func putUntilAccepted(t *testing.T, s *etcd.Store, key, value string, within time.Duration) int64 {
	t.Helper()
	deadline := time.Now().Add(within)
	delay := 20 * time.Millisecond
	for {
		rev, err := s.Put(t.Context(), key, []byte(value))
		if err == nil {
			return rev
		}
		if time.Now().After(deadline) {
			t.Fatalf("Put %q not accepted within %v: %v", key, within, err)
		}
		select {
		case <-time.After(delay):
		case <-t.Context().Done():
			t.Fatal(t.Context().Err())
		}
		delay = min(2*delay, time.Second)
	}
}

// TestClusterFailover runs writers and a watch against a three-member
// cluster while each member in turn crashes and restarts (so the member
// serving the watch, and the leader, go away at some point).
// No acknowledged write may be lost; the watch must see every write once,
// in order; writes and reads must go on while a member is down.
func TestClusterFailover(t *testing.T) {
	c := etcdtest.StartCluster(t, 3)
	s := open(t, etcd.Options{Endpoints: c.Endpoints(), RequestTimeout: 5 * time.Second})
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	const p = "/failover/"
	ch, err := s.Watch(ctx, p, 0)
	if err != nil {
		t.Fatal(err)
	}
	log := collect(ch)

	type write struct {
		key, value string
	}
	var (
		mu        sync.Mutex
		acked     = map[int64]write{}   // revision -> write
		attempted = map[string]string{} // key -> value
		failures  []string
	)
	ackedCount := func() int {
		mu.Lock()
		defer mu.Unlock()
		return len(acked)
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				wr := write{fmt.Sprintf("%sw%d/%06d", p, w, i), fmt.Sprintf("v%d-%d", w, i)}
				mu.Lock()
				attempted[wr.key] = wr.value
				mu.Unlock()
				rev, err := s.Put(ctx, wr.key, []byte(wr.value))
				mu.Lock()
				if err != nil {
					failures = append(failures, err.Error())
				} else {
					acked[rev] = wr
				}
				mu.Unlock()
			}
		}()
	}

	for i := range c.Size() {
		time.Sleep(300 * time.Millisecond)
		leader := c.Leader()
		c.Kill(i)
		stopped := time.Now()
		before := ackedCount()
		// Writes go on with two members: wait for a good number of them.
		for ackedCount() < before+50 {
			if time.Since(stopped) > 10*time.Second {
				t.Fatalf("with member %d stopped, only %d writes succeeded in 10s", i, ackedCount()-before)
			}
			time.Sleep(10 * time.Millisecond)
		}
		t.Logf("member %d killed (leader %v): 50 writes acknowledged within %v", i, leader == i, time.Since(stopped).Round(time.Millisecond))
		if _, err := s.List(ctx, p, backends.ListOptions{Limit: 10}); err != nil {
			t.Fatalf("List with member %d stopped: %v", i, err)
		}
		if _, err := s.Count(ctx, p); err != nil {
			t.Fatalf("Count with member %d stopped: %v", i, err)
		}
		if err := c.Restart(i); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(300 * time.Millisecond)
	close(stop)
	wg.Wait()

	var last int64
	for rev := range acked {
		last = max(last, rev)
	}
	events := log.waitFor(t, last, 30*time.Second)
	seen := map[int64]backends.Event{}
	var prev int64
	for _, ev := range events {
		r := ev.KV.ModRevision
		if r <= prev {
			t.Fatalf("event at revision %d after %d: repeated or out of order", r, prev)
		}
		prev = r
		seen[r] = ev
		if v, ok := attempted[ev.KV.Key]; !ok || v != string(ev.KV.Value) {
			t.Fatalf("event for %q=%q that no writer attempted", ev.KV.Key, ev.KV.Value)
		}
	}
	for rev, wr := range acked {
		ev, ok := seen[rev]
		if !ok {
			t.Fatalf("acknowledged write %q at revision %d never arrived on the watch", wr.key, rev)
		}
		if ev.KV.Key != wr.key || string(ev.KV.Value) != wr.value {
			t.Fatalf("event at revision %d is %q=%q, the write acknowledged there was %q=%q", rev, ev.KV.Key, ev.KV.Value, wr.key, wr.value)
		}
		kv, err := s.Get(ctx, wr.key)
		if err != nil || string(kv.Value) != wr.value {
			t.Fatalf("acknowledged write %q lost: %v", wr.key, err)
		}
	}
	t.Logf("%d writes acknowledged, %d failed while a member went away, %d events", len(acked), len(failures), len(events))
	for _, f := range failures {
		t.Logf("failed write: %s", f)
	}
	// Only writes in flight on a stopped member's connections may fail.
	if len(failures) > 3*c.Size()*2 {
		t.Errorf("%d writes failed over %d member stops", len(failures), c.Size())
	}
}

// TestClusterAllDown checks that calls fail within their deadline with a
// clear error while every member is down, and that the same Store (and its
// running Watch) work again once the members are back.
func TestClusterAllDown(t *testing.T) {
	c := etcdtest.StartCluster(t, 3)
	const timeout = time.Second
	s := open(t, etcd.Options{Endpoints: c.Endpoints(), RequestTimeout: timeout})
	ctx := t.Context()
	const p = "/alldown/"
	ch, err := s.Watch(ctx, p, 0)
	if err != nil {
		t.Fatal(err)
	}
	log := collect(ch)
	r1, err := s.Put(ctx, p+"a", []byte("1"))
	if err != nil {
		t.Fatal(err)
	}
	log.waitFor(t, r1, 10*time.Second)

	for i := range c.Size() {
		c.Kill(i)
	}
	calls := []struct {
		name string
		call func() error
	}{
		{"Put", func() error { _, err := s.Put(ctx, p+"b", []byte("2")); return err }},
		{"Get", func() error { _, err := s.Get(ctx, p+"a"); return err }},
		{"List", func() error { _, err := s.List(ctx, p, backends.ListOptions{}); return err }},
		{"Watch", func() error { _, err := s.Watch(ctx, p, 0); return err }},
	}
	for _, call := range calls {
		start := time.Now()
		err := call.call()
		took := time.Since(start)
		if err == nil {
			t.Fatalf("%s with every member down succeeded", call.name)
		}
		if took > timeout+2*time.Second {
			t.Errorf("%s took %v to fail (request timeout %v)", call.name, took, timeout)
		}
		if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "no member answered") ||
			!strings.Contains(err.Error(), "connection refused") {
			t.Errorf("%s: unclear error: %v", call.name, err)
		}
		t.Logf("%s failed after %v: %v", call.name, took.Round(time.Millisecond), err)
	}

	if err := c.Restart(); err != nil {
		t.Fatal(err)
	}
	restarted := time.Now()
	r3 := putUntilAccepted(t, s, p+"c", "3", 15*time.Second)
	t.Logf("first write %v after the members were back", time.Since(restarted).Round(time.Millisecond))
	if kv, err := s.Get(ctx, p+"a"); err != nil || string(kv.Value) != "1" {
		t.Fatalf("Get after the restart: %v", err)
	}
	events := log.waitFor(t, r3, 15*time.Second)
	if len(events) != 2 || events[0].KV.ModRevision != r1 || events[1].KV.Key != p+"c" {
		var got []string
		for _, ev := range events {
			got = append(got, fmt.Sprintf("%s@%d", ev.KV.Key, ev.KV.ModRevision))
		}
		t.Fatalf("watch across the outage saw %v, want %s@%d then %s@%d", got, p+"a", r1, p+"c", r3)
	}
}

// TestWatchSurvivesQuorumLoss stops two of three members, so that the
// survivor has no leader and ends its leader-requiring watch streams, and
// checks that the watch resumes once the cluster is whole again, without
// losing or repeating events.
func TestWatchSurvivesQuorumLoss(t *testing.T) {
	c := etcdtest.StartCluster(t, 3)
	s := open(t, etcd.Options{Endpoints: c.Endpoints(), RequestTimeout: 2 * time.Second})
	ctx := t.Context()
	const p = "/quorum/"
	ch, err := s.Watch(ctx, p, 0)
	if err != nil {
		t.Fatal(err)
	}
	log := collect(ch)
	r1, err := s.Put(ctx, p+"a", []byte("1"))
	if err != nil {
		t.Fatal(err)
	}
	log.waitFor(t, r1, 10*time.Second)
	_, restarts, _ := etcd.WatchStats(s)
	c.Kill(1)
	c.Kill(2)
	// Wait until the survivor has noticed that it has no leader and ended
	// the watch's stream (after three election timeouts, about 3s here),
	// which the watcher then restarts: the case this test is about.
	waitUntil(t, 30*time.Second, "the survivor ended the watch stream", func() bool {
		_, n, _ := etcd.WatchStats(s)
		return n > restarts
	})
	if err := c.Restart(); err != nil {
		t.Fatal(err)
	}
	r2 := putUntilAccepted(t, s, p+"b", "2", 15*time.Second)
	events := log.waitFor(t, r2, 15*time.Second)
	if len(events) != 2 || events[0].KV.ModRevision != r1 || events[1].KV.ModRevision != r2 {
		t.Fatalf("watch across the quorum loss saw %d events (%+v), want revisions %d and %d", len(events), events, r1, r2)
	}
}
