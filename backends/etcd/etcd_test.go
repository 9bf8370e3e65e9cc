package etcd_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/k3/k3-storage/backends"
	"github.com/k3/k3-storage/backends/backendtest"
	"github.com/k3/k3-storage/backends/etcd"
	"github.com/k3/k3-storage/backends/etcd/etcdtest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// open connects to endpoints for one test and closes the store after it.
func open(tb testing.TB, opts etcd.Options) *etcd.Store {
	tb.Helper()
	ctx, cancel := context.WithTimeout(tb.Context(), 30*time.Second)
	defer cancel()
	s, err := etcd.Open(ctx, opts)
	if err != nil {
		tb.Fatalf("Open(%v): %v", opts.Endpoints, err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	eps := etcdtest.Start(t)
	backendtest.Run(t, func(tb testing.TB) backends.Store {
		return open(tb, etcd.Options{Endpoints: eps})
	})
}

// TestValueLimits checks that a maximal value round-trips on a server
// configured as k3 configures it, and that a server left at etcd's default
// request limit reports ErrValueTooLarge rather than a bare server error.
func TestValueLimits(t *testing.T) {
	ctx := t.Context()
	big := bytes.Repeat([]byte{0xa5}, backends.MaxValueSize)

	s := open(t, etcd.Options{Endpoints: etcdtest.Start(t)})
	if _, err := s.Put(ctx, "/limits/big", big); err != nil {
		t.Fatalf("Put of %d bytes: %v", len(big), err)
	}
	kv, err := s.Get(ctx, "/limits/big")
	if err != nil || !bytes.Equal(kv.Value, big) {
		t.Fatalf("Get of the maximal value: %d bytes, %v", len(kv.Value), err)
	}
	if _, err := s.Put(ctx, "/limits/big", append(big, 0)); !errors.Is(err, backends.ErrValueTooLarge) {
		t.Fatalf("Put of one byte over the limit: %v, want ErrValueTooLarge", err)
	}

	small := etcdtest.New(t, etcdtest.Config{MaxRequestBytes: 1536 * 1024, Direct: true})
	s2 := open(t, etcd.Options{Endpoints: small.Endpoints()})
	_, err = s2.Put(ctx, "/limits/big", big)
	if !errors.Is(err, backends.ErrValueTooLarge) {
		t.Fatalf("Put of a maximal value to a server with etcd's default limit: %v, want ErrValueTooLarge", err)
	}
	if !strings.Contains(err.Error(), "request is too large") {
		t.Errorf("error %q does not say what the server refused", err)
	}
}

// TestCloseLeaksNothing checks that a Store's client, watches and their
// goroutines are gone once Close returns and the watches have ended.
func TestCloseLeaksNothing(t *testing.T) {
	eps := etcdtest.Start(t)
	// Let the server's own goroutines settle before the snapshot.
	warm := open(t, etcd.Options{Endpoints: eps})
	warm.Close()
	time.Sleep(200 * time.Millisecond)
	ignore := goleak.IgnoreCurrent()

	ctx := t.Context()
	s, err := etcd.Open(ctx, etcd.Options{Endpoints: eps})
	if err != nil {
		t.Fatal(err)
	}
	live, err := s.Watch(ctx, "/leak/", 0)
	if err != nil {
		t.Fatal(err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancelled, err := s.Watch(cctx, "/leak/", 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Put(ctx, "/leak/a", []byte("v")); err != nil {
		t.Fatal(err)
	}
	for _, ch := range []<-chan backends.Event{live, cancelled} {
		if ev := <-ch; ev.Err != nil || ev.KV.Key != "/leak/a" {
			t.Fatalf("event %+v", ev)
		}
	}
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
