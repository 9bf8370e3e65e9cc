package etcd_test

import (
	"bytes"
	"errors"
	"fmt"
	"testing"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/k3/k3-storage/backends"
	"github.com/k3/k3-storage/backends/etcd"
	"github.com/k3/k3-storage/backends/etcd/etcdtest"
)

// authCluster runs one member with auth on: root, and user k3 that may
// read and write every key, and user app that may use only /app/.
func authCluster(t *testing.T) (eps []string, root *clientv3.Client) {
	t.Helper()
	const rootPassword = "root-Pa55word"
	c := etcdtest.New(t, etcdtest.Config{Direct: true})
	c.EnableAuth(t, rootPassword, "k3", "k3-Pa55word")
	eps = c.Endpoints()
	root, err := clientv3.New(clientv3.Config{Endpoints: eps, Username: "root", Password: rootPassword, Logger: zap.NewNop()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { root.Close() })
	ctx := t.Context()
	for _, step := range []func() error{
		func() error { _, err := root.RoleAdd(ctx, "app"); return err },
		func() error {
			_, err := root.RoleGrantPermission(ctx, "app", "/app/", clientv3.GetPrefixRangeEnd("/app/"), clientv3.PermissionType(clientv3.PermReadWrite))
			return err
		},
		func() error { _, err := root.UserAdd(ctx, "app", "app-Pa55word"); return err },
		func() error { _, err := root.UserGrantRole(ctx, "app", "app"); return err },
	} {
		if err := step(); err != nil {
			t.Fatal(err)
		}
	}
	return eps, root
}

// next returns the next event of ch, failing after 10s.
func next(t *testing.T, ch <-chan backends.Event) backends.Event {
	t.Helper()
	select {
	case ev, ok := <-ch:
		if !ok {
			t.Fatal("watch channel closed")
		}
		return ev
	case <-time.After(10 * time.Second):
		t.Fatal("no watch event within 10s")
	}
	panic("unreachable")
}

// TestWatchPermissionDenied: a watch of a range the user may not read ends
// with a permission error rather than retrying for ever: from Watch itself
// when its first read (the current revision, or whether fromRev is
// compacted) is refused, or else as the final event.
func TestWatchPermissionDenied(t *testing.T) {
	eps, _ := authCluster(t)
	s := open(t, etcd.Options{Endpoints: eps, Username: "app", Password: "app-Pa55word"})
	rev, err := s.Put(t.Context(), "/app/a", []byte("v"))
	if err != nil {
		t.Fatal(err)
	}
	for _, from := range []int64{0, rev} {
		if _, err := s.Watch(t.Context(), "/other/", from); !errors.Is(err, rpctypes.ErrPermissionDenied) {
			t.Fatalf("Watch outside the user's range from revision %d: %v, want permission denied", from, err)
		}
	}
	// Revision 1 needs no read before the watch: etcd refuses the stream.
	ch, err := s.Watch(t.Context(), "/other/", 1)
	if err != nil {
		t.Fatal(err)
	}
	ev := next(t, ch)
	if !errors.Is(ev.Err, rpctypes.ErrPermissionDenied) {
		t.Fatalf("watch outside the user's range: event %+v, want a final permission-denied error", ev)
	}
	if _, ok := <-ch; ok {
		t.Fatal("channel not closed after the final event")
	}
}

// TestWatchTokenInvalidated: the server forgets every auth token (as a
// restarted member or an expired simple token does) while a watch's gRPC
// stream stays open. A watch started afterwards, which clientv3 would put
// on that stream with its stale token, must still deliver, and so must the
// watch already running.
func TestWatchTokenInvalidated(t *testing.T) {
	eps, root := authCluster(t)
	ctx := t.Context()
	s := open(t, etcd.Options{Endpoints: eps, Username: "k3", Password: "k3-Pa55word"})
	const p = "/token/"
	before, err := s.Watch(ctx, p, 0)
	if err != nil {
		t.Fatal(err)
	}
	// Disabling auth drops every token; enabling it again starts afresh.
	if _, err := root.AuthDisable(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := root.AuthEnable(ctx); err != nil {
		t.Fatal(err)
	}
	after, err := s.Watch(ctx, p, 0)
	if err != nil {
		t.Fatal(err)
	}
	rev, err := s.Put(ctx, p+"a", []byte("v"))
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []struct {
		name string
		ch   <-chan backends.Event
	}{{"running", before}, {"new", after}} {
		if ev := next(t, w.ch); ev.Err != nil || ev.KV.ModRevision != rev {
			t.Fatalf("%s watch after the tokens were dropped: %+v, want the write at %d", w.name, ev, rev)
		}
	}
}

// TestWatchSlowReaderBounded: while its reader does not read, a watcher
// holds about MaxWatchBytes of events and pauses its etcd stream rather
// than let it (or clientv3 behind it) queue every write; once the reader
// reads again, every event arrives once, in order.
func TestWatchSlowReaderBounded(t *testing.T) {
	s := open(t, etcd.Options{Endpoints: etcdtest.Start(t)})
	ctx := t.Context()
	p := fmt.Sprintf("/slow/%d/", time.Now().UnixNano())
	ch, err := s.Watch(ctx, p, 0)
	if err != nil {
		t.Fatal(err)
	}
	// Updates of 1 MiB values: 2 MiB per event with the previous value,
	// three times what the watcher may hold.
	value := bytes.Repeat([]byte{'v'}, 1<<20)
	n := 3 * etcd.MaxWatchBytes / (2 << 20)
	var revs []int64
	for i := range n {
		rev, err := s.Put(ctx, fmt.Sprintf("%s%d", p, i%4), value)
		if err != nil {
			t.Fatal(err)
		}
		revs = append(revs, rev)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		if pauses, _, _ := etcd.WatchStats(s); pauses > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the watcher of a reader that does not read never paused its stream")
		}
		time.Sleep(10 * time.Millisecond)
	}
	// One revision (here one event) may come on top of the limit; one more
	// event waits in the channel, not counted here.
	const event = 2<<20 + 1024
	if _, _, held := etcd.WatchStats(s); held > etcd.MaxWatchBytes+event {
		t.Fatalf("watcher held %d bytes for its reader, want at most %d", held, etcd.MaxWatchBytes+event)
	}
	for i, want := range revs {
		ev := next(t, ch)
		if ev.Err != nil || ev.KV.ModRevision != want || len(ev.KV.Value) != len(value) {
			t.Fatalf("event %d: revision %d (%d bytes), %v; want revision %d", i, ev.KV.ModRevision, len(ev.KV.Value), ev.Err, want)
		}
	}
	if _, _, held := etcd.WatchStats(s); held > etcd.MaxWatchBytes+event {
		t.Fatalf("watcher held %d bytes for its reader, want at most %d", held, etcd.MaxWatchBytes+event)
	}
	// Nothing more, nothing twice: a write after the backlog is next.
	rev, err := s.Put(ctx, p+"last", []byte("v"))
	if err != nil {
		t.Fatal(err)
	}
	if ev := next(t, ch); ev.Err != nil || ev.KV.ModRevision != rev {
		t.Fatalf("event after the backlog: revision %d, %v; want %d", ev.KV.ModRevision, ev.Err, rev)
	}
}

// TestWatchFromCompactionRevision: a watch stream that (re)starts at etcd's
// compaction revision gets an update there without its previous version,
// since etcd reads that at the compacted revision before. The contract
// counts that revision as compacted: Watch refuses it, and a watcher whose
// stream starts there anyway (a restart racing a compaction) ends with
// ErrCompacted instead of delivering an Updated event without PrevKV.
func TestWatchFromCompactionRevision(t *testing.T) {
	ctx := t.Context()
	eps := etcdtest.Start(t)
	s := open(t, etcd.Options{Endpoints: eps})
	raw, err := clientv3.New(clientv3.Config{Endpoints: eps, DialTimeout: 10 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	p := fmt.Sprintf("/compaction-rev/%d/", time.Now().UnixNano())
	r1, err := s.Create(ctx, p+"k", []byte("v1"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Put(ctx, p+"other", nil); err != nil {
		t.Fatal(err)
	}
	r2, err := s.Update(ctx, p+"k", []byte("v2"), r1)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Compact(ctx, r2); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Watch(ctx, p, r2); !errors.Is(err, backends.ErrCompacted) {
		t.Fatalf("Watch from etcd's compaction revision %d: %v, want ErrCompacted", r2, err)
	}
	ev := next(t, etcd.WatchUnchecked(ctx, s, p, r2))
	if !errors.Is(ev.Err, backends.ErrCompacted) {
		t.Fatalf("a stream started at etcd's compaction revision %d delivered %v %+v (PrevKV %v), want the final ErrCompacted",
			r2, ev.Type, ev.KV, ev.PrevKV)
	}
}
