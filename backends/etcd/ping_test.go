package etcd_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/k3/k3-storage/backends"
	"github.com/k3/k3-storage/backends/etcd"
	"github.com/k3/k3-storage/backends/etcd/etcdtest"
)

// pinger checks Ping against a store whose server goes away and comes back.
type pinger struct {
	t *testing.T
	s *etcd.Store
}

const pingDeadline = 300 * time.Millisecond

func (p pinger) up(what string) {
	p.t.Helper()
	// The client reconnects by itself; the first answer may take a moment.
	ctx, cancel := context.WithTimeout(p.t.Context(), 15*time.Second)
	defer cancel()
	for {
		pctx, pcancel := context.WithTimeout(ctx, pingDeadline)
		err := p.s.Ping(pctx)
		pcancel()
		if err == nil {
			return
		}
		if ctx.Err() != nil {
			p.t.Fatalf("%s: Ping: %v", what, err)
		}
	}
}

func (p pinger) down(what string) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.t.Context(), pingDeadline)
	defer cancel()
	start := time.Now()
	err := p.s.Ping(ctx)
	if err == nil {
		p.t.Fatalf("%s: Ping succeeded", what)
	}
	if took := time.Since(start); took > pingDeadline+time.Second {
		p.t.Fatalf("%s: Ping took %v with a deadline of %v", what, took, pingDeadline)
	}
	if errors.Is(err, backends.ErrClosed) {
		p.t.Fatalf("%s: Ping says the store is closed: %v", what, err)
	}
}

// TestPingProcess: a frozen (SIGSTOP) and a killed server fail Ping within
// its deadline; resumed or restarted, it answers again on the same Store.
func TestPingProcess(t *testing.T) {
	proc := etcdtest.StartProcess(t)
	p := pinger{t, open(t, etcd.Options{Endpoints: []string{proc.Endpoint}})}
	p.up("running")
	if err := proc.Pause(); err != nil {
		t.Fatal(err)
	}
	p.down("frozen (SIGSTOP)")
	if err := proc.Resume(); err != nil {
		t.Fatal(err)
	}
	p.up("resumed")
	proc.Kill()
	p.down("killed")
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	if err := proc.Start(ctx); err != nil {
		t.Fatal(err)
	}
	p.up("restarted")
}

// TestPingCluster: a black-holed member fails Ping within its deadline and
// answers once healed; so does a stopped one once restarted.
func TestPingCluster(t *testing.T) {
	c := etcdtest.StartCluster(t, 1)
	s := open(t, etcd.Options{Endpoints: c.Endpoints()})
	p := pinger{t, s}
	p.up("running")
	c.Blackhole(0)
	p.down("black-holed")
	c.Heal(0)
	p.up("healed")
	c.Stop(0)
	p.down("stopped")
	if err := c.Restart(); err != nil {
		t.Fatal(err)
	}
	p.up("restarted")
	s.Close()
	if err := s.Ping(t.Context()); !errors.Is(err, backends.ErrClosed) {
		t.Fatalf("Ping after Close: %v, want ErrClosed", err)
	}
}
