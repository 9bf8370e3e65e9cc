package engine_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/k3/k3-storage/backends"
	"github.com/k3/k3-storage/backends/etcd"
	"github.com/k3/k3-storage/backends/etcd/etcdtest"
	"github.com/k3/k3-storage/backends/mysql/mysqltest"
	"github.com/k3/k3-storage/engine"
	"github.com/k3/k3-storage/engine/lifecycle"
)

// watched is an engine started for a test, whose events a test reads as
// they come.
type watched struct {
	t      testing.TB
	eng    *engine.Engine
	store  backends.Store
	events chan lifecycle.Event // every event, in order
	health chan lifecycle.Event // the KindHealth ones
}

// startWatched starts an engine on opts and reads its events until it
// stops; the test's Cleanup shuts it down.
func startWatched(t testing.TB, opts engine.Options) *watched {
	t.Helper()
	eng, err := engine.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	w := &watched{t: t, eng: eng, events: make(chan lifecycle.Event, 4096), health: make(chan lifecycle.Event, 1024)}
	go func() {
		defer close(w.events)
		for ev := range eng.Events() {
			if ev.Kind == lifecycle.KindHealth {
				w.health <- ev
			}
			w.events <- ev
		}
	}()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	if w.store, err = eng.Start(ctx); err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() { w.shutdown() })
	return w
}

// shutdown stops the engine within 10s and returns every event.
func (w *watched) shutdown() []lifecycle.Event {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := w.eng.Shutdown(ctx); err != nil {
		w.t.Errorf("Shutdown: %v", err)
	}
	var evs []lifecycle.Event
	for ev := range w.events {
		evs = append(evs, ev)
	}
	return evs
}

// next waits up to d for the next health event and checks its state.
func (w *watched) next(state lifecycle.HealthState, d time.Duration, what string) lifecycle.Event {
	w.t.Helper()
	select {
	case ev := <-w.health:
		if ev.Health == nil || ev.Health.State != state {
			w.t.Fatalf("%s: health event %+v (%v), want %v", what, ev.Health, ev.Err, state)
		}
		return ev
	case <-time.After(d):
		w.t.Fatalf("%s: no %v event within %v", what, state, d)
	}
	return lifecycle.Event{}
}

// quiet checks that no health event arrives for d.
func (w *watched) quiet(d time.Duration, what string) {
	w.t.Helper()
	select {
	case ev := <-w.health:
		w.t.Fatalf("%s: unexpected health event %+v (%v)", what, ev.Health, ev.Err)
	case <-time.After(d):
	}
}

// outage checks a down event's payload and the up event after it.
func checkOutage(t *testing.T, down, up lifecycle.Event, addr string, began time.Time) {
	t.Helper()
	d, u := down.Health, up.Health
	if d.Address != addr || down.Err == nil || !strings.Contains(down.Detail, "存储后端不可达: "+addr+": ") {
		t.Fatalf("down event: %+v, error %v, detail %q", d, down.Err, down.Detail)
	}
	if d.Since.Before(began.Add(-time.Second)) || d.Since.After(down.Time) || d.Outage != 0 {
		t.Fatalf("down event: outage since %v, outage began about %v, reported at %v", d.Since, began, down.Time)
	}
	if !u.Since.Equal(d.Since) || u.Outage <= 0 || u.Outage > up.Time.Sub(d.Since)+time.Millisecond || up.Err != nil {
		t.Fatalf("up event: %+v after down since %v; reported at %v", u, d.Since, up.Time)
	}
	if !strings.HasPrefix(up.Detail, "存储后端已恢复 (中断 ") {
		t.Fatalf("up event detail %q", up.Detail)
	}
}

// testHealth is the interval and timeout the tests run with: short, so the
// tests are quick; detection is bounded by their sum.
var testHealth = engine.Health{Interval: 200 * time.Millisecond, Timeout: 300 * time.Millisecond}

// detect bounds how long a test waits for a health event: the interval
// and timeout, plus a generous allowance for a loaded machine.
const detect = 5 * time.Second

// TestHealthMySQL: a private MariaDB is frozen, black-holed and killed
// under a ready engine; each outage is reported once when it begins and
// once when it ends, on the same store, which works again afterwards.
func TestHealthMySQL(t *testing.T) {
	srv := mysqltest.NewServer(t)
	srv.MustStart(t)
	opts := srv.Options()
	opts.Database = "k3"
	proxy := mysqltest.NewProxy(t, opts)
	opts = proxy.Options(opts)
	w := startWatched(t, engine.Options{Backend: engine.MySQL, Health: testHealth,
		MySQL: engine.MySQLOptions{Options: opts, ConnectBudget: 30 * time.Second}})
	addr := w.eng.Address()
	w.quiet(time.Second, "running")

	for _, o := range []struct {
		name       string
		begin, end func() error
	}{
		{"frozen", srv.Pause, srv.Resume},
		{"black-holed", func() error { proxy.Blackhole(); return nil }, func() error { proxy.Heal(); return nil }},
		{"killed", func() error { srv.Kill(); return nil }, func() error { srv.MustStart(t); return nil }},
	} {
		began := time.Now()
		if err := o.begin(); err != nil {
			t.Fatal(err)
		}
		down := w.next(lifecycle.HealthDown, detect, o.name)
		w.quiet(time.Second, o.name+", still down")
		if err := o.end(); err != nil {
			t.Fatal(err)
		}
		up := w.next(lifecycle.HealthUp, 15*time.Second, o.name+", back")
		checkOutage(t, down, up, addr, began)
		t.Logf("%s: %v; detected after %v; back: %s", o.name, down.Err, down.Time.Sub(began), up.Detail)
	}
	if _, err := w.store.Put(t.Context(), "/after", []byte("v")); err != nil {
		t.Fatalf("Put after the outages: %v", err)
	}
	evs := w.shutdown()
	if last := evs[len(evs)-1]; !last.Final() || last.Err != nil {
		t.Fatalf("final event %+v, want a clean stop", last)
	}
}

// TestHealthEtcd: an etcd process frozen (SIGSTOP) and killed, and a
// cluster member black-holed, are reported down and up again.
func TestHealthEtcd(t *testing.T) {
	t.Run("process", func(t *testing.T) {
		proc := etcdtest.StartProcess(t)
		w := startWatched(t, engine.Options{Backend: engine.Etcd, Health: testHealth,
			Etcd: engine.EtcdOptions{Options: etcd.Options{Endpoints: []string{proc.Endpoint}}, ConnectBudget: 30 * time.Second}})
		ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
		defer cancel()
		for _, o := range []struct {
			name       string
			begin, end func() error
		}{
			{"frozen", proc.Pause, proc.Resume},
			{"killed", func() error { proc.Kill(); return nil }, func() error { return proc.Start(ctx) }},
		} {
			began := time.Now()
			if err := o.begin(); err != nil {
				t.Fatal(err)
			}
			down := w.next(lifecycle.HealthDown, detect, o.name)
			if err := o.end(); err != nil {
				t.Fatal(err)
			}
			up := w.next(lifecycle.HealthUp, 15*time.Second, o.name+", back")
			checkOutage(t, down, up, w.eng.Address(), began)
			t.Logf("%s: %v; detected after %v; back: %s", o.name, down.Err, down.Time.Sub(began), up.Detail)
		}
	})
	t.Run("black-holed", func(t *testing.T) {
		c := etcdtest.StartCluster(t, 1)
		w := startWatched(t, engine.Options{Backend: engine.Etcd, Health: testHealth,
			Etcd: engine.EtcdOptions{Options: etcd.Options{Endpoints: c.Endpoints()}, ConnectBudget: 30 * time.Second}})
		began := time.Now()
		c.Blackhole(0)
		down := w.next(lifecycle.HealthDown, detect, "black-holed")
		c.Heal(0)
		up := w.next(lifecycle.HealthUp, 15*time.Second, "healed")
		checkOutage(t, down, up, w.eng.Address(), began)
	})
}

// TestHealthMemory: the memory store is never down, and health checks do
// not hold up a shutdown.
func TestHealthMemory(t *testing.T) {
	w := startWatched(t, engine.Options{Backend: engine.Memory, Health: engine.Health{Interval: 100 * time.Millisecond}})
	w.quiet(500*time.Millisecond, "memory")
	start := time.Now()
	evs := w.shutdown()
	if took := time.Since(start); took > time.Second {
		t.Fatalf("Shutdown took %v", took)
	}
	for _, ev := range evs {
		if ev.Kind == lifecycle.KindHealth {
			t.Fatalf("health event from the memory store: %+v", ev)
		}
	}
}

// TestHealthShutdownWhileFrozen: a shutdown during an outage, with a check
// waiting on a frozen server, does not wait for that check.
func TestHealthShutdownWhileFrozen(t *testing.T) {
	srv := mysqltest.NewServer(t)
	srv.MustStart(t)
	opts := srv.Options()
	opts.Database = "k3"
	w := startWatched(t, engine.Options{Backend: engine.MySQL, Health: testHealth,
		MySQL: engine.MySQLOptions{Options: opts, ConnectBudget: 30 * time.Second}})
	if err := srv.Pause(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Resume() })
	w.next(lifecycle.HealthDown, detect, "frozen")
	// Checks go on, each waiting on the frozen server for the longer
	// timeout of a backend that is down.
	w.quiet(time.Second, "still frozen")
	start := time.Now()
	w.shutdown()
	if took := time.Since(start); took > 3*time.Second {
		t.Fatalf("Shutdown during an outage took %v", took)
	}
}
