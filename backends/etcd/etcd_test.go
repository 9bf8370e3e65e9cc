package etcd_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/goleak"
	"go.uber.org/zap"

	"github.com/k3/k3-storage/backends"
	"github.com/k3/k3-storage/backends/backendtest"
	"github.com/k3/k3-storage/backends/etcd"
	"github.com/k3/k3-storage/backends/etcd/etcdtest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	closeBenchServer()
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintf(os.Stderr, "goleak: %v\n", err)
			code = 1
		}
	}
	os.Exit(code)
}

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
	}, backendtest.Traits{HistoryStopsAtDelete: true})
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

// TestUpdateAtRevisionZero covers a case the conformance suite leaves out:
// a missing key's ModRevision is 0 in etcd, so a naive compare-and-swap at
// revision 0 would create it.
func TestUpdateAtRevisionZero(t *testing.T) {
	ctx := t.Context()
	s := open(t, etcd.Options{Endpoints: etcdtest.Start(t)})
	const key = "/update-zero/k"
	if _, err := s.Update(ctx, key, []byte("v"), 0); !errors.Is(err, backends.ErrNotFound) {
		t.Fatalf("Update of a missing key at revision 0: %v, want ErrNotFound", err)
	}
	if _, err := s.Get(ctx, key); !errors.Is(err, backends.ErrNotFound) {
		t.Fatalf("Update at revision 0 created the key: %v", err)
	}
	if _, err := s.Delete(ctx, key, -1); !errors.Is(err, backends.ErrNotFound) {
		t.Fatalf("Delete of a missing key at revision -1: %v, want ErrNotFound", err)
	}
	if _, err := s.Create(ctx, key, []byte("v")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Update(ctx, key, []byte("w"), 0); !errors.Is(err, backends.ErrConflict) {
		t.Fatalf("Update of an existing key at revision 0: %v, want ErrConflict", err)
	}
}

// TestWatchEverything checks that the empty prefix watches every key,
// including the least and the greatest.
func TestWatchEverything(t *testing.T) {
	ctx := t.Context()
	s := open(t, etcd.Options{Endpoints: etcdtest.Start(t)})
	ch, err := s.Watch(ctx, "", 0)
	if err != nil {
		t.Fatal(err)
	}
	keys := []string{"\x00", "/all/a", "\xff\xff\xff"}
	for _, k := range keys {
		if _, err := s.Put(ctx, k, []byte("v")); err != nil {
			t.Fatal(err)
		}
	}
	// An external cluster (K3_TEST_ETCD_ENDPOINTS) may have other writers.
	for i := 0; i < len(keys); {
		select {
		case ev := <-ch:
			if ev.Err != nil {
				t.Fatal(ev.Err)
			}
			if ev.KV.Key == keys[i] {
				i++
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("no event for %q", keys[i])
		}
	}
}

// TestWatchMultiKeyRevision: another etcd client deletes a range and runs a
// multi-key transaction; every key's event arrives although they share one
// revision.
func TestWatchMultiKeyRevision(t *testing.T) {
	ctx := t.Context()
	eps := etcdtest.Start(t)
	s := open(t, etcd.Options{Endpoints: eps})
	raw, err := clientv3.New(clientv3.Config{Endpoints: eps, DialTimeout: 10 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	p := fmt.Sprintf("/multi/%d/", time.Now().UnixNano())
	for _, k := range []string{"a", "b", "c"} {
		if _, err := s.Put(ctx, p+k, []byte("v")); err != nil {
			t.Fatal(err)
		}
	}
	ch, err := s.Watch(ctx, p, 0)
	if err != nil {
		t.Fatal(err)
	}
	del, err := raw.Delete(ctx, p, clientv3.WithPrefix())
	if err != nil || del.Deleted != 3 {
		t.Fatalf("range delete: %d keys, %v", del.Deleted, err)
	}
	txn, err := raw.Txn(ctx).Then(clientv3.OpPut(p+"x", "1"), clientv3.OpPut(p+"y", "2")).Commit()
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"deleted " + p + "a", "deleted " + p + "b", "deleted " + p + "c", "created " + p + "x", "created " + p + "y"}
	var got []string
	for len(got) < len(want) {
		select {
		case ev := <-ch:
			if ev.Err != nil {
				t.Fatal(ev.Err)
			}
			got = append(got, ev.Type.String()+" "+ev.KV.Key)
			if ev.Type == backends.Created && ev.KV.ModRevision != txn.Header.Revision {
				t.Fatalf("event %v at revision %d, want the transaction's %d", got[len(got)-1], ev.KV.ModRevision, txn.Header.Revision)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("events so far %q, want %q", got, want)
		}
	}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("events %q, want %q", got, want)
	}
}

// TestOpenContextBoundsOnlyOpen: the context given to Open bounds the
// connection attempt only; the Store and its running watches keep working
// after it ends.
func TestOpenContextBoundsOnlyOpen(t *testing.T) {
	eps := etcdtest.Start(t)
	ctx := t.Context()
	openCtx, cancel := context.WithCancel(ctx)
	s, err := etcd.Open(openCtx, etcd.Options{Endpoints: eps})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	p := fmt.Sprintf("/open-ctx/%d/", time.Now().UnixNano())
	before, err := s.Watch(ctx, p, 0)
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	after, err := s.Watch(ctx, p, 0)
	if err != nil {
		t.Fatalf("Watch after Open's context ended: %v", err)
	}
	rev, err := s.Put(ctx, p+"a", []byte("v"))
	if err != nil {
		t.Fatalf("Put after Open's context ended: %v", err)
	}
	if kv, err := s.Get(ctx, p+"a"); err != nil || kv.ModRevision != rev {
		t.Fatalf("Get after Open's context ended: %+v, %v", kv, err)
	}
	for _, ch := range []<-chan backends.Event{before, after} {
		if ev := next(t, ch); ev.Err != nil || ev.KV.ModRevision != rev {
			t.Fatalf("watch after Open's context ended: %+v, want the write at %d", ev, rev)
		}
	}
}
