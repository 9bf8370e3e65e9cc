package tui

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/k3/k3-storage/backends"
	"github.com/k3/k3-storage/engine/lifecycle"
)

// down sends the engine's event for a backend at addr that stopped
// answering at since, the failed check's error being err.
func (f *fakeEngine) down(addr string, since time.Time, err error) {
	f.emit(lifecycle.Event{Kind: lifecycle.KindHealth, Err: err,
		Health: &lifecycle.Health{State: lifecycle.HealthDown, Address: addr, Since: since}})
}

// up sends the engine's event for the backend answering again after an
// outage of the given length that began at since.
func (f *fakeEngine) up(addr string, since time.Time, outage time.Duration) {
	f.emit(lifecycle.Event{Kind: lifecycle.KindHealth,
		Health: &lifecycle.Health{State: lifecycle.HealthUp, Address: addr, Since: since, Outage: outage}})
}

// TestBackendDown: while the engine reports the backend unreachable, the
// header says so in place of the address, with the outage's length
// counting with the clock and the failed check's error (escaped), and the
// live badge no longer says live.
func TestBackendDown(t *testing.T) {
	clock := newTestClock()
	store := newStore(t, "/registry/pods/default/a", `{"kind":"Pod"}`)
	eng := readyEngine(clock, store)
	eng.address = "localhost:2379"
	h := startHarness(t, eng, Options{}, 120, 16)
	h.waitFor("● "+txtLive, "localhost:2379")
	clock.Set(at(2750 * time.Millisecond))
	eng.down("localhost:2379", at(2*time.Second), errors.New("etcd: ping: connection refused\x1b[2J"))
	h.waitFor("✗ "+txtBackendDown+" localhost:2379 · 0s", "✗ "+txtLiveBroken)
	clock.Set(at(14*time.Second + 500*time.Millisecond))
	h.waitFor("✗ " + txtBackendDown + " localhost:2379 · 12s")
	fm := h.golden()
	header := fm.browserHeader()
	if strings.Contains(header, txtLive+" ") || strings.Contains(header, "● ") {
		t.Errorf("the header claims a live view while the backend is down: %q", header)
	}
	if !strings.Contains(header, `connection refused\x1b[2J`) || strings.Contains(header, "\x1b[2J") {
		t.Errorf("the check's error is not shown escaped: %q", header)
	}
	if n := strings.Count(header, "localhost:2379"); n != 1 {
		t.Errorf("the address appears %d times: %q", n, header)
	}
}

// severableWatch wraps a store so that a test can break the watches
// running at a moment, as an outage may: each ends with an error event.
// Watches started after the cut work.
type severableWatch struct {
	backends.Store
	cut chan struct{} // closed by the test
	// released is closed once a severed watch's context ended: the console
	// has taken the failure in and let the watch go.
	released chan struct{}
	once     sync.Once
	watches  atomic.Int32 // calls of Watch
}

func newSeverableWatch(s backends.Store) *severableWatch {
	return &severableWatch{Store: s, cut: make(chan struct{}), released: make(chan struct{})}
}

func (s *severableWatch) Watch(ctx context.Context, prefix string, rev int64) (<-chan backends.Event, error) {
	s.watches.Add(1)
	in, err := s.Store.Watch(ctx, prefix, rev)
	if err != nil {
		return nil, err
	}
	select {
	case <-s.cut:
		return in, nil
	default:
	}
	out := make(chan backends.Event, 1)
	go func() {
		defer close(out)
		for {
			select {
			case ev, ok := <-in:
				if !ok {
					return
				}
				select {
				case out <- ev:
				case <-ctx.Done():
					return
				}
			case <-s.cut:
				select {
				case out <- backends.Event{Err: errors.New("watch severed by the test")}:
				case <-ctx.Done():
				}
				<-ctx.Done()
				s.once.Do(func() { close(s.released) })
				return
			case <-ctx.Done():
				return
			}
		}
	}()
	return out, nil
}

// TestBackendRecovers: the engine reports the backend back; the status
// line says so with the outage's length, in the headless wording, and the
// header is live again. A watch that still runs is kept; one that broke
// during the outage is retried at once, not after its backoff (the test
// clock never reaches it).
func TestBackendRecovers(t *testing.T) {
	tests := []struct {
		name        string
		breakWatch  bool
		wantWatches int32
	}{
		{"watch kept", false, 1},
		{"watch broke during the outage", true, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := newTestClock()
			store := newSeverableWatch(newStore(t, "/a/1", "one", "/b", "two"))
			eng := readyEngine(clock, store)
			h := startHarness(t, eng, Options{}, 100, 16)
			h.waitFor("● " + txtLive)
			clock.Set(at(3 * time.Second))
			eng.down("localhost:2379", at(2*time.Second), errors.New("connection refused"))
			h.waitFor(txtBackendDown + " localhost:2379 · 1s")
			if tt.breakWatch {
				close(store.cut)
				select {
				case <-store.released:
				case <-time.After(10 * time.Second):
					t.Fatal("the console did not let the severed watch go")
				}
			}
			eng.up("localhost:2379", at(2*time.Second), 3200*time.Millisecond)
			h.waitFor("✓ "+fmt.Sprintf(txtBackendUp, "3.2s"), "● "+txtLive)
			fm := h.finish()
			if header := fm.browserHeader(); strings.Contains(header, txtBackendDown) {
				t.Errorf("header after recovery: %q", header)
			}
			if !fm.br.watch.live {
				t.Errorf("the watch is not live after recovery: %q", fm.br.liveStatus(fm.now))
			}
			if n := store.watches.Load(); n != tt.wantWatches {
				t.Errorf("%d watches, want %d", n, tt.wantWatches)
			}
		})
	}
}

// TestWatchRetryWaitsForBackend: while the backend is down, a broken
// watch's retry waits, whatever its backoff says (it would only fail);
// the recovery retries it.
func TestWatchRetryWaitsForBackend(t *testing.T) {
	store := &refusingWatch{Store: newStore(t, "/a/1", "one", "/b", "two")}
	store.refuse.Store(1)
	d := newDriver(t, store, 80, 24)
	b := d.b()
	if b.watch.live || b.watch.retryAt.IsZero() {
		t.Fatalf("live %v retryAt %v: the first watch should have failed", b.watch.live, b.watch.retryAt)
	}
	b.setHealth(backendHealth{down: true, address: "db:3306", since: t0}, t0)
	late := b.watch.retryAt.Add(time.Minute)
	d.run(b.tick(late))
	if b.list.busy || b.watch.live || b.animating(late) {
		t.Fatalf("busy %v live %v animating %v: the retry should wait for the backend", b.list.busy, b.watch.live, b.animating(late))
	}
	d.run(b.setHealth(backendHealth{address: "db:3306", since: t0, outage: time.Minute}, late))
	if !b.watch.live {
		t.Fatalf("the watch did not restart on recovery: %q", b.liveStatus(late))
	}
}

// hangingWrites wraps a store so that its writes block until their
// context ends, as against a backend that stopped answering (when hang is
// set), and counts them. Reads pass through.
type hangingWrites struct {
	backends.Store
	hang  bool
	calls atomic.Int32
	mu    sync.Mutex
	// budget is the time the last write was given: its deadline less the
	// time it was called (0: none).
	budget time.Duration
}

func (s *hangingWrites) write(ctx context.Context) error {
	s.calls.Add(1)
	if dl, ok := ctx.Deadline(); ok {
		s.mu.Lock()
		s.budget = time.Until(dl)
		s.mu.Unlock()
	}
	if !s.hang {
		return nil
	}
	<-ctx.Done()
	return fmt.Errorf("hanging: %w", ctx.Err())
}

func (s *hangingWrites) lastBudget() time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.budget
}

func (s *hangingWrites) Create(ctx context.Context, key string, value []byte) (int64, error) {
	if err := s.write(ctx); err != nil {
		return 0, err
	}
	return s.Store.Create(ctx, key, value)
}

func (s *hangingWrites) Put(ctx context.Context, key string, value []byte) (int64, error) {
	if err := s.write(ctx); err != nil {
		return 0, err
	}
	return s.Store.Put(ctx, key, value)
}

func (s *hangingWrites) Update(ctx context.Context, key string, value []byte, ifRev int64) (int64, error) {
	if err := s.write(ctx); err != nil {
		return 0, err
	}
	return s.Store.Update(ctx, key, value, ifRev)
}

func (s *hangingWrites) Delete(ctx context.Context, key string, ifRev int64) (int64, error) {
	if err := s.write(ctx); err != nil {
		return 0, err
	}
	return s.Store.Delete(ctx, key, ifRev)
}

// TestWriteTimeout: a save against a backend that does not answer fails
// within the write timeout (1.5s by default, not the 10s of reads), says
// the outcome is unknown, and leaves the editor open with the text.
func TestWriteTimeout(t *testing.T) {
	clock := newTestClock()
	store := &hangingWrites{Store: newStore(t, "/k", `{"a":1}`), hang: true}
	h := startHarness(t, readyEngine(clock, store), Options{}, 80, 24)
	h.waitFor(`"a": 1`)
	h.keys("e")
	h.waitFor("编辑 /k（基于 rev 1）")
	h.keys("end", "backspace")
	h.typeText(`,"b":2}`)
	h.keys("ctrl+s")
	h.waitFor("保存超时（1.5s 内没有响应）：结果未知")
	fm := h.finish()
	if fm.br.mode != modeEdit || fm.br.ed.saving {
		t.Fatalf("mode %v saving %v: the editor should stay open", fm.br.mode, fm.br.ed.saving)
	}
	if got := fm.br.ed.area.Value(); got != `{"a":1,"b":2}` {
		t.Fatalf("editor text %q", got)
	}
	if n, b := store.calls.Load(), store.lastBudget(); n != 1 || b <= 0 || b > defaultWriteTimeout {
		t.Fatalf("%d writes, the last given %v: want one within %v", n, b, defaultWriteTimeout)
	}
	if kv := get(t, store, "/k"); string(kv.Value) != `{"a":1}` {
		t.Fatalf("stored %q", kv.Value)
	}
}

// TestDeleteTimeout: a delete that runs out of the write timeout says the
// outcome is unknown.
func TestDeleteTimeout(t *testing.T) {
	clock := newTestClock()
	store := &hangingWrites{Store: newStore(t, "/k", "v"), hang: true}
	const timeout = 100 * time.Millisecond
	h := startHarness(t, readyEngine(clock, store), Options{WriteTimeout: timeout}, 80, 24)
	h.waitFor("1/1", "修改 1")
	h.keys("d")
	h.waitFor("按 y 确认")
	h.keys("y")
	h.waitFor("删除超时（100ms 内没有响应）：结果未知")
	if n, b := store.calls.Load(), store.lastBudget(); n != 1 || b <= 0 || b > timeout {
		t.Fatalf("%d writes, the last given %v: want one within %v", n, b, timeout)
	}
	get(t, store, "/k")
}

// TestWriteRefusedWhileDown: while the engine reports the backend down, a
// delete and a save are refused at once without calling the store, and
// the editor keeps the text; once the backend is back, the same form
// saves it.
func TestWriteRefusedWhileDown(t *testing.T) {
	clock := newTestClock()
	store := &hangingWrites{Store: newStore(t, "/k", "v")}
	eng := readyEngine(clock, store)
	h := startHarness(t, eng, Options{}, 80, 24)
	h.waitFor("1/1", "● "+txtLive)
	eng.down("localhost:3306/k3", t0, errors.New("connection refused"))
	h.waitFor(txtBackendDown)
	h.keys("d")
	h.waitFor("按 y 确认")
	h.keys("y")
	h.waitFor("存储后端不可达，未删除")
	h.keys("n")
	h.waitFor(txtNewTitle)
	h.typeText("/new")
	h.keys("enter")
	h.waitFor(txtValueHint)
	h.typeText("v1")
	h.keys("ctrl+s")
	h.waitFor("存储后端不可达，未保存")
	if n := store.calls.Load(); n != 0 {
		t.Fatalf("%d writes while the backend is down", n)
	}
	eng.up("localhost:3306/k3", t0, time.Second)
	h.waitFor(fmt.Sprintf(txtBackendUp, "1.0s"))
	h.keys("ctrl+s")
	h.waitFor("已创建 /new")
	fm := h.finish()
	if n := store.calls.Load(); n != 1 {
		t.Fatalf("%d writes after recovery, want 1", n)
	}
	if kv := get(t, store, "/new"); string(kv.Value) != "v1" {
		t.Fatalf("stored %q", kv.Value)
	}
	get(t, store, "/k")
	if fm.br.mode != modeBrowse {
		t.Fatalf("mode %v after the save", fm.br.mode)
	}
}
