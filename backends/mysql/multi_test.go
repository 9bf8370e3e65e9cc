package mysql_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/k3/k3-storage/backends"
	"github.com/k3/k3-storage/backends/mysql"
	"github.com/k3/k3-storage/backends/mysql/mysqltest"
)

// TestTwoStores runs two Stores with separate connection pools on one
// database, as two processes would: each sees the other's writes on Get,
// List and Watch, and their concurrent writes share one gap-free revision
// sequence that a watch on either delivers in order.
func TestTwoStores(t *testing.T) {
	opts := mysqltest.NewDatabase(t)
	a, b := open(t, opts), open(t, opts)
	ctx := ctxOf(t)

	rev, err := b.Create(ctx, "/x", []byte("from b"))
	if err != nil {
		t.Fatal(err)
	}
	if kv, err := a.Get(ctx, "/x"); err != nil || string(kv.Value) != "from b" || kv.ModRevision != rev {
		t.Fatalf("A's Get of B's write: %q at %d, %v", kv.Value, kv.ModRevision, err)
	}
	if page, err := a.List(ctx, "/", backends.ListOptions{}); err != nil || len(page.Items) != 1 || page.Revision != rev {
		t.Fatalf("A's List after B's write: %d items at revision %d, %v; want 1 at %d", len(page.Items), page.Revision, err, rev)
	}

	chA, err := a.Watch(ctx, "/w/", 0)
	if err != nil {
		t.Fatal(err)
	}
	chB, err := b.Watch(ctx, "/w/", 0)
	if err != nil {
		t.Fatal(err)
	}
	const perStore = 60
	var wg sync.WaitGroup
	var mu sync.Mutex
	var acked []int64
	for i, s := range []*mysql.Store{a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range perStore {
				rev, err := s.Put(ctx, fmt.Sprintf("/w/%d/%d", i, j%10), []byte(fmt.Sprint(j)))
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				acked = append(acked, rev)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	slices.Sort(acked)
	for i := 1; i < len(acked); i++ {
		if acked[i] != acked[i-1]+1 {
			t.Fatalf("revisions acknowledged across two pools are not gap-free: %d then %d", acked[i-1], acked[i])
		}
	}
	for name, ch := range map[string]<-chan backends.Event{"A": chA, "B": chB} {
		for _, want := range acked {
			if ev := recv(t, ch); ev.KV.ModRevision != want {
				t.Fatalf("watch on %s: revision %d, want %d", name, ev.KV.ModRevision, want)
			}
		}
	}
}

// TestWatchSeesOtherStoreWithinPollInterval measures, by event arrival,
// how long a write by one Store takes to reach a watch on another, which
// only polls. Polling every PollInterval puts the median near half of it
// plus one query; the bounds are generous (3× for the median, 20× for the
// worst) so that a loaded machine passes, yet a poller that missed its
// ticker (seeing only the next local commit, or a much longer interval)
// fails.
func TestWatchSeesOtherStoreWithinPollInterval(t *testing.T) {
	opts := mysqltest.NewDatabase(t)
	const poll = 100 * time.Millisecond
	opts.PollInterval = poll
	watcher, writer := open(t, opts), open(t, opts)
	ctx := ctxOf(t)
	ch, err := watcher.Watch(ctx, "/", 0)
	if err != nil {
		t.Fatal(err)
	}
	const writes = 15
	var latencies []time.Duration
	for i := range writes {
		rev, err := writer.Put(ctx, "/k", []byte(fmt.Sprint(i)))
		if err != nil {
			t.Fatal(err)
		}
		written := time.Now()
		select {
		case ev := <-ch:
			if ev.Err != nil || ev.KV.ModRevision != rev {
				t.Fatalf("event %v at %d, want revision %d", ev.Err, ev.KV.ModRevision, rev)
			}
			latencies = append(latencies, time.Since(written))
		case <-time.After(20 * poll):
			t.Fatalf("write %d did not reach the other Store's watch within %v (PollInterval %v)", i, 20*poll, poll)
		}
	}
	slices.Sort(latencies)
	median, worst := latencies[writes/2], latencies[writes-1]
	t.Logf("cross-store latency: median %v, worst %v with PollInterval %v", median, worst, poll)
	if median > 3*poll {
		t.Fatalf("median cross-store latency %v, want within 3×PollInterval (%v)", median, 3*poll)
	}
}

// Helper process protocol: the parent runs this test binary again with
// helperEnv set to the JSON of helperArgs; the child prints "ready" once
// its watch is registered, then follows the script in helperMain.
const helperEnv = "K3_MYSQL_TEST_HELPER"

type helperArgs struct {
	Options mysql.Options
	Writes  int
}

// TestTwoProcesses writes and watches one database from two OS processes:
// the child writes keys the parent watches and reads, then waits on its own
// watch for the parent's acknowledgement.
func TestTwoProcesses(t *testing.T) {
	opts := mysqltest.NewDatabase(t)
	s := open(t, opts)
	ctx := ctxOf(t)
	ch, err := s.Watch(ctx, "/child/", 0)
	if err != nil {
		t.Fatal(err)
	}
	args, err := json.Marshal(helperArgs{Options: opts, Writes: 20})
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), helperEnv+"="+string(args))
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	lines := bufio.NewScanner(stdout)
	if !lines.Scan() || lines.Text() != "ready" {
		t.Fatalf("helper did not get ready: %q; stderr:\n%s", lines.Text(), stderr.String())
	}
	go func() { exited <- cmd.Wait() }()

	var last int64
	for i := range 20 {
		ev := recv(t, ch)
		key := fmt.Sprintf("/child/%d", i)
		if ev.Type != backends.Created || ev.KV.Key != key || (last != 0 && ev.KV.ModRevision != last+1) {
			t.Fatalf("event %d from the child: %v %q at %d (previous %d)", i, ev.Type, ev.KV.Key, ev.KV.ModRevision, last)
		}
		last = ev.KV.ModRevision
		if kv, err := s.Get(ctx, key); err != nil || kv.ModRevision != ev.KV.ModRevision {
			t.Fatalf("Get(%q) of the child's write: %v, %v", key, kv.ModRevision, err)
		}
	}
	ack, err := s.Create(ctx, "/parent/ack", []byte(fmt.Sprint(last)))
	if err != nil {
		t.Fatal(err)
	}
	if ack != last+1 {
		t.Fatalf("parent's write got revision %d after the child's last %d", ack, last)
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("helper failed: %v; stderr:\n%s", err, stderr.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("helper did not exit; stderr:\n%s", stderr.String())
	}
}

// helperMain is the child of TestTwoProcesses.
func helperMain() int {
	fail := func(format string, args ...any) int {
		fmt.Fprintf(os.Stderr, "helper: "+format+"\n", args...)
		return 1
	}
	var args helperArgs
	if err := json.Unmarshal([]byte(os.Getenv(helperEnv)), &args); err != nil {
		return fail("%v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := mysql.Open(ctx, args.Options)
	if err != nil {
		return fail("open: %v", err)
	}
	defer s.Close()
	ch, err := s.Watch(ctx, "/parent/", 0)
	if err != nil {
		return fail("watch: %v", err)
	}
	fmt.Println("ready")
	var last int64
	for i := range args.Writes {
		if last, err = s.Create(ctx, fmt.Sprintf("/child/%d", i), []byte("v")); err != nil {
			return fail("create: %v", err)
		}
	}
	select {
	case ev := <-ch:
		if ev.Err != nil || ev.KV.Key != "/parent/ack" || string(ev.KV.Value) != fmt.Sprint(last) {
			return fail("unexpected event %v %q=%q", ev.Err, ev.KV.Key, ev.KV.Value)
		}
		if kv, err := s.Get(ctx, "/parent/ack"); err != nil || kv.ModRevision != ev.KV.ModRevision {
			return fail("get of the parent's write: %v", err)
		}
	case <-ctx.Done():
		return fail("no acknowledgement from the parent: %v", ctx.Err())
	}
	return 0
}
