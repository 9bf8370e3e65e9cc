package engine

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/k3/k3-storage/backends"
	"github.com/k3/k3-storage/backends/memory"
	"github.com/k3/k3-storage/containers"
	"github.com/k3/k3-storage/engine/lifecycle"
)

// fakeBackend stands in for a database whose failures cannot be provoked on
// demand (a refusal followed by success, a rejected password): it fails
// its first failures attempts with err, then opens a memory store.
type fakeBackend struct {
	failures int
	err      error
	wait     bool // block each attempt until its context ends
	limit    time.Duration
	attempts atomic.Int32
	password string
	entered  chan struct{} // if set, closed when the first attempt begins
}

func (f *fakeBackend) kind() string          { return MySQL }
func (f *fakeBackend) address() string       { return "localhost:3306/k3" }
func (f *fakeBackend) readyText() string     { return "MySQL 存储已连接: localhost:3306/k3" }
func (f *fakeBackend) budget() time.Duration { return f.limit }
func (f *fakeBackend) secrets() []string     { return []string{f.password} }
func (f *fakeBackend) explain(error) error   { return nil }
func (f *fakeBackend) container() (containers.Spec, Container, bool) {
	return containers.Spec{}, Container{}, false
}
func (f *fakeBackend) nativeMode() NativeMode              { return NativeNever }
func (f *fakeBackend) native(string) (nativeServer, error) { return nil, errNoNative }
func (f *fakeBackend) open(ctx context.Context) (backends.Store, error) {
	n := int(f.attempts.Add(1))
	if n == 1 && f.entered != nil {
		close(f.entered)
	}
	if f.wait {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	if n <= f.failures {
		return nil, f.err
	}
	return memory.New(memory.Options{}), nil
}

func run(t *testing.T, b backend, opts Options) (*Engine, <-chan []lifecycle.Event) {
	t.Helper()
	if opts.Retry == (Retry{}) {
		opts.Retry = Retry{Initial: time.Millisecond, Max: 4 * time.Millisecond}
	}
	e := newEngine(opts.withDefaults(), b)
	out := make(chan []lifecycle.Event, 1)
	go func() {
		var evs []lifecycle.Event
		for ev := range e.Events() {
			evs = append(evs, ev)
		}
		out <- evs
	}()
	return e, out
}

func attempts(evs []lifecycle.Event) []*lifecycle.Attempt {
	var as []*lifecycle.Attempt
	for _, ev := range evs {
		if ev.Kind == lifecycle.KindAttempt {
			as = append(as, ev.Attempt)
		}
	}
	return as
}

func TestRetryThenConnect(t *testing.T) {
	b := &fakeBackend{failures: 5, err: fmt.Errorf("dial tcp 127.0.0.1:3306: %w", syscall.ECONNREFUSED), limit: time.Minute}
	e, events := run(t, b, Options{})
	if _, err := e.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := e.Shutdown(t.Context()); err != nil {
		t.Fatal(err)
	}
	evs := <-events
	as := attempts(evs)
	if len(as) != 5 {
		t.Fatalf("%d attempt events, want 5", len(as))
	}
	wantDelays := []time.Duration{1, 2, 4, 4, 4}
	for i, a := range as {
		if a.N != i+1 || a.NextDelay != wantDelays[i]*time.Millisecond || a.Budget != time.Minute || a.Address != "localhost:3306/k3" {
			t.Fatalf("attempt %d: %+v, want n=%d next=%v", i, a, i+1, wantDelays[i]*time.Millisecond)
		}
		if i > 0 && a.Elapsed < as[i-1].Elapsed {
			t.Fatalf("elapsed went back: %v after %v", a.Elapsed, as[i-1].Elapsed)
		}
	}
	for _, ev := range evs {
		if ev.Kind == lifecycle.KindAttempt && !errors.Is(ev.Err, syscall.ECONNREFUSED) {
			t.Fatalf("attempt event error %v does not wrap the cause", ev.Err)
		}
	}
}

func TestDefaultBackoffIsCapped(t *testing.T) {
	o := Options{}.withDefaults()
	if o.Retry.Initial != 50*time.Millisecond || o.Retry.Max != 250*time.Millisecond {
		t.Fatalf("default retry policy %+v, want 50ms doubling to a 250ms cap", o.Retry)
	}
}

func TestPermanentErrorStopsAtOnce(t *testing.T) {
	const password = "hunter2-Secret"
	cause := fmt.Errorf("Error 1045 (28000): Access denied for user 'root' (using password: %s)", password)
	b := &fakeBackend{failures: 100, err: backends.Permanent(cause), limit: time.Minute, password: password}
	e, events := run(t, b, Options{})
	_, err := e.Start(t.Context())
	if !errors.Is(err, backends.ErrPermanent) {
		t.Fatalf("Start: %v, want a permanent error", err)
	}
	if strings.Contains(err.Error(), password) {
		t.Fatalf("Start's error shows the password: %v", err)
	}
	if n := b.attempts.Load(); n != 1 {
		t.Fatalf("%d attempts after a permanent error, want 1", n)
	}
	evs := <-events
	last := evs[len(evs)-1]
	if !last.Final() || last.Status != lifecycle.Failed || !errors.Is(last.Err, backends.ErrPermanent) {
		t.Fatalf("final event %+v, want failed with the permanent error", last)
	}
	for _, ev := range evs {
		js, _ := ev.MarshalJSON()
		if strings.Contains(string(js), password) || (ev.Err != nil && strings.Contains(ev.Err.Error(), password)) {
			t.Fatalf("event shows the password: %s", js)
		}
	}
	if as := attempts(evs); len(as) != 1 || as[0].NextDelay != 0 {
		t.Fatalf("attempts %v, want one final attempt", as)
	}
	if err := e.Shutdown(t.Context()); err != nil {
		t.Fatalf("Shutdown after a failed start: %v", err)
	}
}

func TestBudgetExhausted(t *testing.T) {
	b := &fakeBackend{failures: 1 << 30, err: fmt.Errorf("dial: %w", syscall.ECONNREFUSED), limit: 30 * time.Millisecond}
	e, events := run(t, b, Options{})
	_, err := e.Start(t.Context())
	if err == nil || !strings.Contains(err.Error(), "localhost:3306/k3") || !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("Start: %v, want an error naming the address and wrapping the last error", err)
	}
	evs := <-events
	as := attempts(evs)
	if len(as) < 2 || as[len(as)-1].NextDelay != 0 {
		t.Fatalf("attempts %d (last %+v), want several ending with a final one", len(as), as[len(as)-1])
	}
	if last := evs[len(evs)-1]; !last.Final() || last.Err == nil || last.Text != "" {
		t.Fatalf("final event %+v, want failed without the stopped line", last)
	}
}

func TestShutdownDuringStart(t *testing.T) {
	b := &fakeBackend{wait: true, limit: time.Hour, entered: make(chan struct{})}
	e, events := run(t, b, Options{})
	started := make(chan error, 1)
	go func() {
		_, err := e.Start(context.Background())
		started <- err
	}()
	<-b.entered
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	if err := e.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown during Start: %v", err)
	}
	if err := <-started; !errors.Is(err, lifecycle.ErrStopped) {
		t.Fatalf("Start: %v, want ErrStopped", err)
	}
	evs := <-events
	if last := evs[len(evs)-1]; !last.Final() || last.Err != nil || last.Text != msgStopped {
		t.Fatalf("final event %+v, want a clean stop", last)
	}
}

func TestStartContextCancelled(t *testing.T) {
	b := &fakeBackend{wait: true, limit: time.Hour, entered: make(chan struct{})}
	e, events := run(t, b, Options{})
	ctx, cancel := context.WithCancel(t.Context())
	go func() {
		<-b.entered
		cancel()
	}()
	if _, err := e.Start(ctx); !errors.Is(err, lifecycle.ErrStopped) {
		t.Fatalf("Start: %v, want ErrStopped", err)
	}
	<-events
}

// TestSlowReaderNeverBlocks floods the engine with attempt events while
// nobody reads: progress must be dropped, stage events kept, and Start
// must not block.
func TestSlowReaderNeverBlocks(t *testing.T) {
	b := &fakeBackend{failures: 2000, err: syscall.ECONNREFUSED, limit: time.Hour}
	e := newEngine(Options{Retry: Retry{Initial: time.Nanosecond, Max: time.Nanosecond}}.withDefaults(), b)
	done := make(chan error, 1)
	go func() {
		_, err := e.Start(t.Context())
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Start blocked on an unread events channel")
	}
	go e.Shutdown(t.Context())
	var stages, total int
	for ev := range e.Events() {
		total++
		if ev.Kind == lifecycle.KindStage {
			stages++
		}
	}
	if total >= 2000 {
		t.Fatalf("%d events buffered: progress was not dropped", total)
	}
	if stages != 9 {
		t.Fatalf("%d stage events arrived, want all 9", stages)
	}
}
