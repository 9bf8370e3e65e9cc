package engine

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/k3/k3-storage/backends"
	"github.com/k3/k3-storage/engine/lifecycle"
)

// Health configures the checks of the backend while the store is ready.
type Health struct {
	// Interval is the time between the starts of two checks; 0 disables
	// the checks. k3-storage's config sets it (storage.health_interval).
	Interval time.Duration
	// Timeout is how long a check may go unanswered while the backend is
	// up before it counts as failed: a healthy backend answers in
	// milliseconds, so Timeout is there for a frozen server or a silent
	// network, which never answer. A backend that stopped answering is
	// reported within Interval + Timeout. 0 means DefaultHealthTimeout.
	Timeout time.Duration
}

// DefaultHealthTimeout is Health.Timeout when zero: with k3-storage's
// default interval of 2s, an outage of any kind is reported within 2.75s.
const DefaultHealthTimeout = 750 * time.Millisecond

// recheckTimeout bounds a check while the backend is down. It is longer
// than Health.Timeout because speed no longer matters then, while a check
// that needs a new connection (TLS, a distant server) must be given the
// time to make one, or a backend that is back would never be seen so.
const recheckTimeout = 5 * time.Second

// healthCheck is a running health goroutine: stopHealth cancels it and
// waits for it.
type healthCheck struct {
	cancel context.CancelFunc
	done   chan struct{}
}

// startHealth starts checking the store, if it can be checked (it
// implements backends.Pinger) and checks are enabled. Called once, under
// e.mu, as the store becomes ready. ctx gives the checks its values, not
// its end: stopHealth ends them.
func (e *Engine) startHealth(ctx context.Context, store backends.Store) {
	p, ok := store.(backends.Pinger)
	if !ok || e.opts.Health.Interval <= 0 {
		return
	}
	ctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	e.health = &healthCheck{cancel: cancel, done: make(chan struct{})}
	go e.checkHealth(ctx, p, e.health.done)
}

// stopHealth ends the health checks and waits until their goroutine has
// returned, so that it sends no event after it (in particular none after
// the events channel closes). A check in progress is cancelled: stores'
// Ping ends with its context.
func (e *Engine) stopHealth() {
	e.mu.Lock()
	h := e.health
	e.health = nil
	e.mu.Unlock()
	if h == nil {
		return
	}
	h.cancel()
	<-h.done
}

// checkHealth pings the store every interval until ctx ends, one check at
// a time (a slow check delays the next instead of piling up behind it),
// and reports each change between up and down as a KindHealth event.
// Hysteresis: one failed check makes the backend down, one answered check
// up. A check counts as failed when it errs or goes unanswered for
// Health.Timeout while the backend is up, a bound far above a healthy
// backend's answer; so a single slow answer does not flap the state
// unless the backend is that slow, and then the user should know.
func (e *Engine) checkHealth(ctx context.Context, p backends.Pinger, done chan<- struct{}) {
	defer close(done)
	interval, timeout := e.opts.Health.Interval, e.opts.Health.Timeout
	addr := e.backend.address()
	tick := time.NewTicker(interval)
	defer tick.Stop()
	var (
		down  bool
		since time.Time // start of the first failed check of an outage
	)
	for {
		select {
		case <-tick.C:
		case <-ctx.Done():
			return
		}
		limit := timeout
		if down {
			limit = max(timeout, recheckTimeout)
		}
		start := time.Now()
		pctx, cancel := context.WithTimeout(ctx, limit)
		err := p.Ping(pctx)
		if err != nil && errors.Is(pctx.Err(), context.DeadlineExceeded) {
			err = fmt.Errorf(errNoAnswer, roundDuration(limit), err)
		}
		cancel()
		answered := time.Now()
		if ctx.Err() != nil {
			return // stopping: the check's failure is ours
		}
		switch {
		case err != nil && !down:
			down, since = true, start
			err = e.redact(err)
			e.emitHealth(ctx, lifecycle.Event{
				Kind: lifecycle.KindHealth, Err: err,
				Detail: fmt.Sprintf(detailHealthDown, addr, err),
				Health: &lifecycle.Health{State: lifecycle.HealthDown, Address: addr, Since: since},
			})
		case err == nil && down:
			down = false
			outage := answered.Sub(since)
			e.emitHealth(ctx, lifecycle.Event{
				Kind:   lifecycle.KindHealth,
				Detail: fmt.Sprintf(detailHealthUp, roundOutage(outage)),
				Health: &lifecycle.Health{State: lifecycle.HealthUp, Address: addr, Since: since, Outage: outage},
			})
		}
	}
}

// emitHealth sends a health event, waiting for buffer space like emit —
// but only until the checks are stopped, so that it never holds up a
// shutdown.
func (e *Engine) emitHealth(ctx context.Context, ev lifecycle.Event) {
	ev.Time = time.Now()
	select {
	case e.events <- ev:
	case <-e.abandoned:
	case <-ctx.Done():
	}
}

// roundOutage shortens an outage's length for display: 450ms, 3.2s, 2m5s.
func roundOutage(d time.Duration) string {
	switch {
	case d >= time.Minute:
		return d.Round(time.Second).String()
	case d >= time.Second:
		return d.Round(100 * time.Millisecond).String()
	}
	return d.Round(10 * time.Millisecond).String()
}
