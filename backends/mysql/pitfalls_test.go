package mysql_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/k3/k3-storage/backends"
	"github.com/k3/k3-storage/backends/mysql/mysqltest"
)

func ctxOf(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// TestDistinctKeys checks keys a collating or padding column would merge,
// and that they are stored as distinct rows with their exact bytes.
func TestDistinctKeys(t *testing.T) {
	opts := mysqltest.NewDatabase(t)
	s := open(t, opts)
	ctx := ctxOf(t)
	keys := []string{"/a", "/A", "/a ", "/a  ", "/a\x00", "/a\x00b", "/a\xff", "/\xff", "/\xff\xff", "/é", "/e", "/E\u0301"}
	for i, k := range keys {
		if _, err := s.Create(ctx, k, []byte(fmt.Sprint(i))); err != nil {
			t.Fatalf("Create(%q): %v", k, err)
		}
	}
	for i, k := range keys {
		kv, err := s.Get(ctx, k)
		if err != nil || kv.Key != k || string(kv.Value) != fmt.Sprint(i) {
			t.Fatalf("Get(%q) = %q=%q, %v; want value %d", k, kv.Key, kv.Value, err, i)
		}
	}
	db := mysqltest.OpenDB(t, opts)
	var rows int
	if err := db.QueryRowContext(ctx, "SELECT COUNT(DISTINCT k) FROM k3_kv").Scan(&rows); err != nil || rows != len(keys) {
		t.Fatalf("k3_kv holds %d distinct keys (%v), want %d", rows, err, len(keys))
	}
	var stored []byte
	if err := db.QueryRowContext(ctx, "SELECT k FROM k3_kv WHERE value = '2'").Scan(&stored); err != nil || string(stored) != "/a " {
		t.Fatalf("the key with a trailing space is stored as %q (%v)", stored, err)
	}
	if _, err := s.Get(ctx, "/a   "); !errors.Is(err, backends.ErrNotFound) {
		t.Fatalf("Get of a key with one more trailing space: %v, want ErrNotFound", err)
	}
}

func TestValues(t *testing.T) {
	s := open(t, mysqltest.NewDatabase(t))
	ctx := ctxOf(t)
	ch, err := s.Watch(ctx, "/v/", 0)
	if err != nil {
		t.Fatal(err)
	}

	if _, err := s.Create(ctx, "/v/empty", nil); err != nil {
		t.Fatalf("Create with a nil value: %v", err)
	}
	if _, err := s.Put(ctx, "/v/empty2", []byte{}); err != nil {
		t.Fatalf("Put with an empty value: %v", err)
	}
	for _, k := range []string{"/v/empty", "/v/empty2"} {
		if kv, err := s.Get(ctx, k); err != nil || kv.Value == nil || len(kv.Value) != 0 {
			t.Fatalf("Get(%q) = %q (nil %v), %v; want an empty, non-nil value", k, kv.Value, kv.Value == nil, err)
		}
	}

	big := make([]byte, backends.MaxValueSize)
	for i := range big {
		big[i] = byte(i*31 + i>>9) // every byte value, including NUL, quote and backslash
	}
	r1, err := s.Create(ctx, "/v/big", big)
	if err != nil {
		t.Fatalf("Create of a %d-byte value: %v", len(big), err)
	}
	if kv, err := s.Get(ctx, "/v/big"); err != nil || !bytes.Equal(kv.Value, big) {
		t.Fatalf("a %d-byte value did not round-trip (got %d bytes, %v)", len(big), len(kv.Value), err)
	}
	big2 := bytes.Clone(big)
	big2[0], big2[len(big2)-1] = 'x', 'y'
	r2, err := s.Update(ctx, "/v/big", big2, r1)
	if err != nil {
		t.Fatalf("Update of a %d-byte value with another: %v", len(big), err)
	}
	page, err := s.List(ctx, "/v/b", backends.ListOptions{})
	if err != nil || len(page.Items) != 1 || !bytes.Equal(page.Items[0].Value, big2) {
		t.Fatalf("List did not return the big value (%d items, %v)", len(page.Items), err)
	}

	_, err = s.Put(ctx, "/v/big", append(bytes.Clone(big), 0))
	if !errors.Is(err, backends.ErrValueTooLarge) {
		t.Fatalf("Put of MaxValueSize+1 bytes: %v, want ErrValueTooLarge", err)
	}
	if kv, _ := s.Get(ctx, "/v/big"); kv.ModRevision != r2 {
		t.Fatalf("a rejected Put changed the key (mod revision %d, want %d)", kv.ModRevision, r2)
	}

	// The log row of the update carries a value and a previous value of
	// MaxValueSize each; the watch must deliver both intact.
	for i, key := range []string{"/v/empty", "/v/empty2", "/v/big"} {
		if ev := recv(t, ch); ev.Type != backends.Created || ev.KV.Key != key || len(ev.KV.Value) != len(big)*(i/2) {
			t.Fatalf("event %d: %v %q with %d bytes", i, ev.Type, ev.KV.Key, len(ev.KV.Value))
		}
	}
	ev := recv(t, ch)
	if ev.Type != backends.Updated || !bytes.Equal(ev.KV.Value, big2) || ev.PrevKV == nil || !bytes.Equal(ev.PrevKV.Value, big) {
		t.Fatalf("the watch event of the big update did not carry both values intact (%v)", ev.Type)
	}
}

func TestKeyLimits(t *testing.T) {
	s := open(t, mysqltest.NewDatabase(t))
	ctx := ctxOf(t)
	max := "/" + strings.Repeat("k", backends.MaxKeySize-2) + "\xff"
	if _, err := s.Create(ctx, max, []byte("v")); err != nil {
		t.Fatalf("Create of a %d-byte key: %v", len(max), err)
	}
	if kv, err := s.Get(ctx, max); err != nil || kv.Key != max {
		t.Fatalf("the %d-byte key did not round-trip: %v", len(max), err)
	}
	over := max + "x"
	for name, err := range map[string]error{
		"Create": second(s.Create(ctx, over, nil)),
		"Put":    second(s.Put(ctx, over, nil)),
		"Get":    second(s.Get(ctx, over)),
		"Update": second(s.Update(ctx, over, nil, 1)),
		"Delete": second(s.Delete(ctx, over, 0)),
		"List":   second(s.List(ctx, over, backends.ListOptions{})),
		"Count":  second(s.Count(ctx, over)),
		"Watch":  second(s.Watch(ctx, over, 0)),
	} {
		if !errors.Is(err, backends.ErrInvalidKey) {
			t.Errorf("%s of a %d-byte key: %v, want ErrInvalidKey", name, len(over), err)
		}
	}
}

func second[T any](_ T, err error) error { return err }

func TestConcurrentCASExact(t *testing.T) {
	s := open(t, mysqltest.NewDatabase(t))
	ctx := ctxOf(t)
	const workers, each = 16, 20
	first, err := s.Create(ctx, "/counter", []byte("0"))
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for done := 0; done < each; {
				kv, err := s.Get(ctx, "/counter")
				if err != nil {
					errs <- err
					return
				}
				var n int
				fmt.Sscan(string(kv.Value), &n)
				_, err = s.Update(ctx, "/counter", []byte(fmt.Sprint(n+1)), kv.ModRevision)
				switch {
				case err == nil:
					done++
				case !errors.Is(err, backends.ErrConflict):
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	kv, err := s.Get(ctx, "/counter")
	if err != nil {
		t.Fatal(err)
	}
	if string(kv.Value) != fmt.Sprint(workers*each) || kv.Version != workers*each+1 ||
		kv.ModRevision != first+workers*each || kv.CreateRevision != first {
		t.Fatalf("counter %s version %d mod %d create %d; want %d, %d, %d, %d (conflicts must not use revisions)",
			kv.Value, kv.Version, kv.ModRevision, kv.CreateRevision, workers*each, workers*each+1, first+workers*each, first)
	}
}

func TestDeleteAndRecreate(t *testing.T) {
	s := open(t, mysqltest.NewDatabase(t))
	ctx := ctxOf(t)
	r1, err := s.Create(ctx, "/k", []byte("a"))
	if err != nil {
		t.Fatal(err)
	}
	r2, err := s.Put(ctx, "/k", []byte("b"))
	if err != nil {
		t.Fatal(err)
	}
	ch, err := s.Watch(ctx, "/k", r1)
	if err != nil {
		t.Fatal(err)
	}
	r3, err := s.Delete(ctx, "/k", r2)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Create(ctx, "/k", []byte("c")); err != nil {
		t.Fatal(err)
	}
	kv, err := s.Get(ctx, "/k")
	if err != nil {
		t.Fatal(err)
	}
	if kv.CreateRevision != r3+1 || kv.ModRevision != r3+1 || kv.Version != 1 {
		t.Fatalf("re-created key: create %d mod %d version %d; want %d, %d, 1", kv.CreateRevision, kv.ModRevision, kv.Version, r3+1, r3+1)
	}
	want := []struct {
		typ           backends.EventType
		create, mod   int64
		version       int64
		prevV, prevMd int64
	}{
		{backends.Created, r1, r1, 1, 0, 0},
		{backends.Updated, r1, r2, 2, 1, r1},
		{backends.Deleted, 0, r3, 0, 2, r2},
		{backends.Created, r3 + 1, r3 + 1, 1, 0, 0},
	}
	for i, w := range want {
		ev := recv(t, ch)
		got := ev.KV
		if ev.Type != w.typ || got.CreateRevision != w.create || got.ModRevision != w.mod || got.Version != w.version {
			t.Fatalf("event %d: %v create %d mod %d version %d; want %v %d %d %d", i, ev.Type, got.CreateRevision, got.ModRevision, got.Version, w.typ, w.create, w.mod, w.version)
		}
		if w.prevV == 0 != (ev.PrevKV == nil) {
			t.Fatalf("event %d: PrevKV %v", i, ev.PrevKV)
		}
		if ev.PrevKV != nil && (ev.PrevKV.Version != w.prevV || ev.PrevKV.ModRevision != w.prevMd || ev.PrevKV.CreateRevision != r1) {
			t.Fatalf("event %d: PrevKV %+v, want version %d mod %d create %d", i, *ev.PrevKV, w.prevV, w.prevMd, r1)
		}
	}
}

// TestWatchAcrossCompaction checks that a Watch from a compacted revision
// fails, one from the compaction revision replays, and a watcher that was
// replaying from the log when the log was compacted under it ends with
// ErrCompacted instead of skipping revisions.
func TestWatchAcrossCompaction(t *testing.T) {
	s := open(t, mysqltest.NewDatabase(t))
	ctx := ctxOf(t)
	const n = 1500 // several replay batches
	first, err := s.Put(ctx, "/c/0", []byte("v"))
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i < n; i++ {
		if _, err := s.Put(ctx, fmt.Sprintf("/c/%d", i%50), []byte("v")); err != nil {
			t.Fatal(err)
		}
	}
	last := first + n - 1

	// Not read yet: it replays the first batch from the log and blocks on
	// its full channel.
	slow, err := s.Watch(ctx, "/c/", first)
	if err != nil {
		t.Fatal(err)
	}
	cut := last - 10
	if err := s.Compact(ctx, cut); err != nil {
		t.Fatal(err)
	}
	cur, compacted, err := s.Revision(ctx)
	if err != nil || cur != last || compacted != cut-1 {
		t.Fatalf("Revision() = %d, %d, %v; want %d, %d", cur, compacted, err, last, cut-1)
	}
	if _, err := s.Watch(ctx, "/c/", cut-1); !errors.Is(err, backends.ErrCompacted) {
		t.Fatalf("Watch from revision %d after Compact(%d): %v, want ErrCompacted", cut-1, cut, err)
	}
	from, err := s.Watch(ctx, "/c/", cut)
	if err != nil {
		t.Fatal(err)
	}
	for want := cut; want <= last; want++ {
		if ev := recv(t, from); ev.KV.ModRevision != want {
			t.Fatalf("watch from the compaction revision: got %d, want %d", ev.KV.ModRevision, want)
		}
	}

	next := first
	for {
		select {
		case ev, ok := <-slow:
			if !ok {
				t.Fatal("the slow watcher's channel closed without ErrCompacted")
			}
			if ev.Err != nil {
				if !errors.Is(ev.Err, backends.ErrCompacted) {
					t.Fatalf("slow watcher ended with %v, want ErrCompacted", ev.Err)
				}
				if next >= cut {
					t.Fatalf("slow watcher reached revision %d, beyond the compaction, before ErrCompacted", next)
				}
				return
			}
			if ev.KV.ModRevision != next {
				t.Fatalf("slow watcher got revision %d, want %d (no gaps)", ev.KV.ModRevision, next)
			}
			next++
		case <-time.After(10 * time.Second):
			t.Fatalf("slow watcher stalled at revision %d", next)
		}
	}
}

// TestAutomaticCompaction checks that History bounds the log.
func TestAutomaticCompaction(t *testing.T) {
	opts := mysqltest.NewDatabase(t)
	opts.History = 40
	s := open(t, opts)
	ctx := ctxOf(t)
	var last int64
	for i := range 200 {
		rev, err := s.Put(ctx, fmt.Sprintf("/a/%d", i%7), []byte("v"))
		if err != nil {
			t.Fatal(err)
		}
		last = rev
	}
	// Compaction runs in the background after every History/10th revision
	// (4): the last write (200) asks to keep revisions from last-History+1
	// on. Poll the real state until it got there.
	want := last - opts.History
	deadline := time.Now().Add(20 * time.Second)
	for {
		_, compacted, err := s.Revision(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if compacted == want {
			break
		}
		if compacted > want || time.Now().After(deadline) {
			t.Fatalf("compacted revision %d, want %d (last write %d, History %d)", compacted, want, last, opts.History)
		}
		time.Sleep(10 * time.Millisecond)
	}
	var rows, oldest int64
	db := mysqltest.OpenDB(t, opts)
	for {
		if err := db.QueryRowContext(ctx, "SELECT COUNT(*), MIN(rev) FROM k3_log").Scan(&rows, &oldest); err != nil {
			t.Fatal(err)
		}
		if oldest == want+1 || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if rows != opts.History || oldest != want+1 {
		t.Fatalf("log holds %d rows from revision %d; want %d from %d", rows, oldest, opts.History, want+1)
	}
	if _, err := s.Watch(ctx, "/", want); !errors.Is(err, backends.ErrCompacted) {
		t.Fatalf("Watch from %d: %v, want ErrCompacted", want, err)
	}
}

// recv returns the next event, failing the test on an error event, a
// closed channel or 10s of silence.
func recv(t *testing.T, ch <-chan backends.Event) backends.Event {
	t.Helper()
	select {
	case ev, ok := <-ch:
		if !ok {
			t.Fatal("watch channel closed")
		}
		if ev.Err != nil {
			t.Fatalf("watch ended with %v", ev.Err)
		}
		return ev
	case <-time.After(10 * time.Second):
		t.Fatal("no watch event within 10s")
	}
	panic("unreachable")
}
