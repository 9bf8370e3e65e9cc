package mysql_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"go.uber.org/goleak"

	"github.com/k3/k3-storage/backends"
	"github.com/k3/k3-storage/backends/mysql"
	"github.com/k3/k3-storage/backends/mysql/mysqltest"
)

// TestOpenContextBoundsOnlyOpen: the context given to Open bounds the
// connection attempt only; the Store and its running watches keep working
// after it ends.
func TestOpenContextBoundsOnlyOpen(t *testing.T) {
	opts := mysqltest.NewDatabase(t)
	ctx := ctxOf(t)
	openCtx, cancel := context.WithCancel(ctx)
	s, err := mysql.Open(openCtx, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	before, err := s.Watch(ctx, "/", 0)
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	after, err := s.Watch(ctx, "/", 0)
	if err != nil {
		t.Fatalf("Watch after Open's context ended: %v", err)
	}
	rev, err := s.Put(ctx, "/a", []byte("v"))
	if err != nil {
		t.Fatalf("Put after Open's context ended: %v", err)
	}
	if kv, err := s.Get(ctx, "/a"); err != nil || kv.ModRevision != rev {
		t.Fatalf("Get after Open's context ended: %+v, %v", kv, err)
	}
	for _, ch := range []<-chan backends.Event{before, after} {
		if ev := recv(t, ch); ev.KV.ModRevision != rev {
			t.Fatalf("watch after Open's context ended: revision %d, want %d", ev.KV.ModRevision, rev)
		}
	}
}

// TestCloseLeaksNothing: once Close has returned and the watches have
// ended, no goroutine of the Store (poller, watchers, pool) is left.
func TestCloseLeaksNothing(t *testing.T) {
	opts := mysqltest.NewDatabase(t)
	ctx := ctxOf(t)
	ignore := goleak.IgnoreCurrent()
	s, err := mysql.Open(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	live, err := s.Watch(ctx, "/", 0)
	if err != nil {
		t.Fatal(err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancelled, err := s.Watch(cctx, "/", 0)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if _, err := s.Put(ctx, fmt.Sprintf("/k%d", i), []byte("v")); err != nil {
			t.Fatal(err)
		}
	}
	recv(t, live)
	recv(t, cancelled)
	cancel()
	for range cancelled {
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	var last backends.Event
	for ev := range live {
		last = ev
	}
	if !errors.Is(last.Err, backends.ErrClosed) {
		t.Fatalf("watch ended with %v, want ErrClosed", last.Err)
	}
	goleak.VerifyNone(t, ignore)
}
