package main

import (
	"os"
	"sync"
	"syscall"
	"testing"
	"time"
)

// fakeClock is a clock the test moves.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// TestRequests: the first signal is the stop request; the same signal
// again within a second (timeout, systemd and ctrl+c deliver to the
// process and its group) is that same request; a later one is a force
// request.
func TestRequests(t *testing.T) {
	clock := &fakeClock{t: time.Unix(1000, 0)}
	sigs := make(chan os.Signal) // unbuffered: a send returns once read
	stop, force := requests(t.Context(), sigs, clock.now)
	if stop.Err() != nil {
		t.Fatal("stopped before any signal")
	}
	sigs <- syscall.SIGTERM
	<-stop.Done()
	for range 3 {
		clock.add(300 * time.Millisecond)
		sigs <- syscall.SIGTERM
	}
	sigs <- syscall.SIGTERM // one more read proves the last one was handled
	select {
	case <-force:
		t.Fatal("a repeat within a second forced")
	default:
	}
	clock.add(200 * time.Millisecond) // 1.1s after the first
	sigs <- syscall.SIGINT
	select {
	case <-force:
	case <-time.After(10 * time.Second):
		t.Fatal("a signal after a second did not force")
	}
}
