package mysql_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/k3/k3-storage/backends"
	"github.com/k3/k3-storage/backends/mysql"
	"github.com/k3/k3-storage/backends/mysql/mysqltest"
)

// pingWithin pings s with a deadline of d and returns the error and how
// long the ping took.
func pingWithin(t *testing.T, s *mysql.Store, d time.Duration) (error, time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), d)
	defer cancel()
	start := time.Now()
	err := s.Ping(ctx)
	return err, time.Since(start)
}

// TestPingOutages: Ping fails within its deadline while the server is
// frozen, black-holed or gone, and answers again once it is back, on the
// same Store.
func TestPingOutages(t *testing.T) {
	srv := mysqltest.NewServer(t)
	srv.MustStart(t)
	opts := srv.Options()
	opts.Database = "k3"
	proxy := mysqltest.NewProxy(t, opts)
	s := open(t, proxy.Options(opts))
	const deadline = 300 * time.Millisecond

	wantUp := func(what string) {
		t.Helper()
		// The first ping after an outage may take a new connection.
		if err, took := pingWithin(t, s, 10*time.Second); err != nil {
			t.Fatalf("%s: Ping: %v after %v", what, err, took)
		}
		if err, took := pingWithin(t, s, deadline); err != nil {
			t.Fatalf("%s: second Ping: %v after %v", what, err, took)
		}
	}
	wantDown := func(what string) {
		t.Helper()
		err, took := pingWithin(t, s, deadline)
		if err == nil {
			t.Fatalf("%s: Ping succeeded", what)
		}
		if took > deadline+time.Second {
			t.Fatalf("%s: Ping took %v with a deadline of %v", what, took, deadline)
		}
		if errors.Is(err, backends.ErrClosed) {
			t.Fatalf("%s: Ping says the store is closed: %v", what, err)
		}
	}

	wantUp("running")
	if err := srv.Pause(); err != nil {
		t.Fatal(err)
	}
	wantDown("frozen (SIGSTOP)")
	wantDown("frozen, again")
	if err := srv.Resume(); err != nil {
		t.Fatal(err)
	}
	wantUp("resumed")

	proxy.Blackhole()
	wantDown("black-holed")
	proxy.Heal()
	wantUp("healed")

	srv.Kill()
	wantDown("killed")
	srv.MustStart(t)
	wantUp("restarted")

	s.Close()
	if err, _ := pingWithin(t, s, deadline); !errors.Is(err, backends.ErrClosed) {
		t.Fatalf("Ping after Close: %v, want ErrClosed", err)
	}
}
