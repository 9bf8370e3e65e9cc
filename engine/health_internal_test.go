package engine

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/k3/k3-storage/backends"
	"github.com/k3/k3-storage/backends/memory"
	"github.com/k3/k3-storage/engine/lifecycle"
)

// flappingStore is a memory store whose backend is unreachable for every
// other check: the quickest outages there are, to drive the health
// goroutine hard.
type flappingStore struct {
	*memory.Store
	pings atomic.Int64
}

func (f *flappingStore) Ping(ctx context.Context) error {
	if f.pings.Add(1)%2 == 1 {
		return errors.New("unreachable")
	}
	return f.Store.Ping(ctx)
}

type flappingBackend struct {
	fakeBackend
	store *flappingStore
}

func (f *flappingBackend) open(context.Context) (backends.Store, error) { return f.store, nil }

// TestHealthBlockedReader: while nobody reads the events, the health
// goroutine fills the buffer and waits; the engine is not held up, a
// shutdown ends the goroutine before the channel closes, and the events
// that were sent alternate down and up.
func TestHealthBlockedReader(t *testing.T) {
	b := &flappingBackend{store: &flappingStore{Store: memory.New(memory.Options{})}}
	e := newEngine(Options{Health: Health{Interval: time.Millisecond}}.withDefaults(), b)
	if _, err := e.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	for len(e.events) < cap(e.events) {
		if b.store.pings.Load() > 100_000 {
			t.Fatalf("%d checks, %d events buffered: the checks do not report", b.store.pings.Load(), len(e.events))
		}
		time.Sleep(time.Millisecond) // polling a buffer nobody reads; no event to wait on
	}
	stopped := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		stopped <- e.Shutdown(ctx)
	}()
	var evs []lifecycle.Event
	for ev := range e.Events() {
		evs = append(evs, ev)
	}
	if err := <-stopped; err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	want := lifecycle.HealthDown
	var n int
	for _, ev := range evs {
		if ev.Kind != lifecycle.KindHealth {
			continue
		}
		n++
		if ev.Health.State != want {
			t.Fatalf("health event %d is %v, want %v: the states must alternate", n, ev.Health.State, want)
		}
		if want == lifecycle.HealthDown {
			want = lifecycle.HealthUp
		} else {
			want = lifecycle.HealthDown
		}
	}
	if n < cap(e.events)/2 || !evs[len(evs)-1].Final() {
		t.Fatalf("%d health events, last event %+v", n, evs[len(evs)-1])
	}
}
