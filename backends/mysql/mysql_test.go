package mysql_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/k3/k3-storage/backends"
	"github.com/k3/k3-storage/backends/backendtest"
	"github.com/k3/k3-storage/backends/mysql"
	"github.com/k3/k3-storage/backends/mysql/mysqltest"
	"github.com/k3/k3-storage/internal/testenv"
)

func TestMain(m *testing.M) {
	if os.Getenv(helperEnv) != "" {
		os.Exit(helperMain())
	}
	code := testenv.Main(m)
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintln(os.Stderr, "goleak:", err)
			code = 1
		}
	}
	os.Exit(code)
}

// open opens a Store on opts and closes it when the test ends.
func open(tb testing.TB, opts mysql.Options) *mysql.Store {
	tb.Helper()
	ctx, cancel := context.WithTimeout(tb.Context(), 30*time.Second)
	defer cancel()
	s, err := mysql.Open(ctx, opts)
	if err != nil {
		tb.Fatalf("Open: %v", err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	opts := mysqltest.NewDatabase(t)
	backendtest.Run(t, func(tb testing.TB) backends.Store { return open(tb, opts) }, backendtest.Traits{})
}

// TestLeastPrivilege runs the conformance suite as a user with only
// SELECT, INSERT, UPDATE and DELETE on a database whose schema exists (made
// by a privileged user's first Open): the privileges a Store needs.
func TestLeastPrivilege(t *testing.T) {
	admin := mysqltest.NewDatabase(t)
	open(t, admin).Close() // creates the schema
	opts := admin
	opts.User, opts.Password = "k3least"+randomHex(t), "pw-"+randomHex(t)
	server := mysqltest.ServerOptions(t)
	mysqltest.Exec(t, server,
		fmt.Sprintf("CREATE USER '%s'@'%%' IDENTIFIED BY '%s'", opts.User, opts.Password),
		fmt.Sprintf("GRANT SELECT, INSERT, UPDATE, DELETE ON `%s`.* TO '%s'@'%%'", opts.Database, opts.User))
	t.Cleanup(func() { mysqltest.Exec(t, server, fmt.Sprintf("DROP USER IF EXISTS '%s'@'%%'", opts.User)) })
	backendtest.Run(t, func(tb testing.TB) backends.Store { return open(tb, opts) }, backendtest.Traits{})
}

// TestSlowWatcherHoldsBoundedBytes: while its reader reads nothing, a
// watcher takes at most about sendBytes of the events of 48 values of
// 1 MiB (a channel of 128 copies once held up to 128 of them), and once the
// reader reads, every event arrives once, in order, with its value intact.
// A second watcher, started at the first write's revision after the writes,
// replays them from the log under the same bound.
func TestSlowWatcherHoldsBoundedBytes(t *testing.T) {
	s := open(t, mysqltest.NewDatabase(t))
	ctx := t.Context()
	live, err := s.Watch(ctx, "/slow/", 0)
	if err != nil {
		t.Fatal(err)
	}
	if cap(live) > 1 {
		t.Fatalf("the watch channel buffers %d events; each may hold two values of up to 1.5 MiB", cap(live))
	}
	const n = 48
	value := func(i int) []byte { return bytes.Repeat([]byte{byte('a' + i%26)}, 1<<20) }
	revs := make([]int64, n)
	for i := range revs {
		if revs[i], err = s.Put(ctx, fmt.Sprintf("/slow/%02d", i), value(i)); err != nil {
			t.Fatal(err)
		}
	}
	// 48 revisions are well within what the log retains.
	replayed, err := s.Watch(ctx, "/slow/", revs[0])
	if err != nil {
		t.Fatal(err)
	}
	for _, ch := range []<-chan backends.Event{live, replayed} {
		for i := range n {
			select {
			case ev, ok := <-ch:
				if !ok || ev.Err != nil {
					t.Fatalf("event %d: channel open %v, err %v", i, ok, ev.Err)
				}
				if want := fmt.Sprintf("/slow/%02d", i); ev.KV.Key != want || ev.KV.ModRevision != revs[i] || !bytes.Equal(ev.KV.Value, value(i)) {
					t.Fatalf("event %d: %s at %d (%d bytes), want %s at %d", i, ev.KV.Key, ev.KV.ModRevision, len(ev.KV.Value), want, revs[i])
				}
			case <-time.After(time.Minute):
				t.Fatalf("event %d did not arrive", i)
			}
		}
	}
	held := mysql.WatchMaxHeld(s)
	t.Logf("a watcher held at most %.1f MiB at once", float64(held)/(1<<20))
	// sendBytes (4 MiB) and the event that crosses it.
	if limit := int64(6 << 20); held > limit || held < 1<<20 {
		t.Fatalf("a watcher took %d bytes at once, want between 1 MiB and %d", held, limit)
	}
}
