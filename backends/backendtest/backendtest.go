// Package backendtest is the conformance suite for backends.Store: every
// backend must pass Run unchanged, against a real server.
package backendtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/k3/k3-storage/backends"
)

// Open returns a Store for one subtest. Stores may share one server, so the
// suite never assumes an empty store or a particular starting revision: each
// subtest writes only under a prefix of its own and checks revisions
// relative to each other. Subtests run one after another, never in
// parallel, so that "+1 per write" can be checked. The suite closes the
// store (Close must tolerate a second call).
type Open func(tb testing.TB) backends.Store

// eventWait bounds how long the suite waits for an expected watch event.
const eventWait = 10 * time.Second

// Traits says where a backend legitimately knows less than the contract
// allows. The suite asserts exactly the behaviour they describe, so a
// backend declares each one rather than skipping a check. The zero value is
// a backend that knows everything the contract names.
type Traits struct {
	// HistoryStopsAtDelete: the store's History cannot see past a revision
	// where the key did not exist, and reports that with
	// backends.History.StopsAtDelete (etcd, which reads history as
	// snapshots of past revisions rather than from a change log).
	HistoryStopsAtDelete bool
}

// Run runs the whole conformance suite against stores made by open, which
// have the given traits.
func Run(t *testing.T, open Open, traits Traits) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s backends.Store, p string)
	}{
		{"CreateGetPut", testCreateGetPut},
		{"UpdateCAS", testUpdateCAS},
		{"DeleteCAS", testDeleteCAS},
		{"Recreate", testRecreate},
		{"ValueIsolation", testValueIsolation},
		{"BytewiseKeys", testBytewiseKeys},
		{"Pagination", testPagination},
		{"PrefixBoundaries", testPrefixBoundaries},
		{"Count", testCount},
		{"Limits", testLimits},
		{"WatchEvents", testWatchEvents},
		{"WatchPrefixFilter", testWatchPrefixFilter},
		{"WatchReplay", testWatchReplay},
		{"WatchCancel", testWatchCancel},
		{"ListThenWatch", testListThenWatch},
		{"WatchOrderConcurrentWriters", testWatchOrderConcurrentWriters},
		{"ConcurrentCAS", testConcurrentCAS},
		{"Compaction", testCompaction},
		{"WatchPrevKVAfterCompaction", testWatchPrevKVAfterCompaction},
		{"ListLimitNegative", testListLimitNegative},
		{"WatchInvalidRevision", testWatchInvalidRevision},
		{"WatchFutureRevision", testWatchFutureRevision},
		{"CountRev", testCountRev},
		{"CountRevConcurrentWriters", testCountRevConcurrentWriters},
		{"History", func(t *testing.T, s backends.Store, p string) { testHistory(t, s, p, traits) }},
		{"HistoryCompacted", func(t *testing.T, s backends.Store, p string) { testHistoryCompacted(t, s, p, traits) }},
		{"Ping", testPing},
		{"Close", testClose},
	}
	run := time.Now().UnixNano()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := open(t)
			t.Cleanup(func() { s.Close() })
			tt.fn(t, s, fmt.Sprintf("/backendtest/%d/%s/", run, tt.name))
		})
	}
}

func ctxOf(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func mustCreate(t *testing.T, s backends.Store, key, value string) int64 {
	t.Helper()
	rev, err := s.Create(ctxOf(t), key, []byte(value))
	if err != nil {
		t.Fatalf("Create(%q): %v", key, err)
	}
	return rev
}

func mustGet(t *testing.T, s backends.Store, key string) backends.KeyValue {
	t.Helper()
	kv, err := s.Get(ctxOf(t), key)
	if err != nil {
		t.Fatalf("Get(%q): %v", key, err)
	}
	return kv
}

func wantErr(t *testing.T, what string, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("%s: got error %v, want %v", what, err, target)
	}
}

func wantKV(t *testing.T, got backends.KeyValue, key, value string, create, mod, version int64) {
	t.Helper()
	want := backends.KeyValue{Key: key, Value: []byte(value), CreateRevision: create, ModRevision: mod, Version: version}
	if got.Key != want.Key || !bytes.Equal(got.Value, want.Value) ||
		got.CreateRevision != create || got.ModRevision != mod || got.Version != version {
		t.Fatalf("got %s, want %s", fmtKV(got), fmtKV(want))
	}
}

func fmtKV(kv backends.KeyValue) string {
	return fmt.Sprintf("{%q=%q create=%d mod=%d version=%d}", kv.Key, kv.Value, kv.CreateRevision, kv.ModRevision, kv.Version)
}

func testCreateGetPut(t *testing.T, s backends.Store, p string) {
	ctx := ctxOf(t)
	k := p + "a"
	_, err := s.Get(ctx, k)
	wantErr(t, "Get of a missing key", err, backends.ErrNotFound)

	r1 := mustCreate(t, s, k, "one")
	if r1 <= 0 {
		t.Fatalf("Create returned revision %d, want > 0", r1)
	}
	wantKV(t, mustGet(t, s, k), k, "one", r1, r1, 1)

	_, err = s.Create(ctx, k, []byte("again"))
	wantErr(t, "Create of an existing key", err, backends.ErrKeyExists)
	wantKV(t, mustGet(t, s, k), k, "one", r1, r1, 1)

	r2, err := s.Put(ctx, k, []byte("two"))
	if err != nil {
		t.Fatal(err)
	}
	if r2 != r1+1 {
		t.Fatalf("Put after a failed Create: revision %d, want %d (failed writes must not use a revision)", r2, r1+1)
	}
	wantKV(t, mustGet(t, s, k), k, "two", r1, r2, 2)

	k2 := p + "b"
	r3, err := s.Put(ctx, k2, []byte("new"))
	if err != nil {
		t.Fatal(err)
	}
	if r3 != r2+1 {
		t.Fatalf("Put of a new key: revision %d, want %d", r3, r2+1)
	}
	wantKV(t, mustGet(t, s, k2), k2, "new", r3, r3, 1)
}

func testUpdateCAS(t *testing.T, s backends.Store, p string) {
	ctx := ctxOf(t)
	k := p + "k"
	_, err := s.Update(ctx, k, []byte("x"), 1)
	wantErr(t, "Update of a missing key", err, backends.ErrNotFound)
	// A missing key's revision must not read as 0 (a naive CAS would
	// create the key here).
	_, err = s.Update(ctx, k, []byte("x"), 0)
	wantErr(t, "Update of a missing key at revision 0", err, backends.ErrNotFound)
	if _, err := s.Get(ctx, k); !errors.Is(err, backends.ErrNotFound) {
		t.Fatalf("Update at revision 0 created the key: %v", err)
	}

	r1 := mustCreate(t, s, k, "v1")
	r2, err := s.Update(ctx, k, []byte("v2"), r1)
	if err != nil {
		t.Fatalf("Update at the current revision: %v", err)
	}
	if r2 != r1+1 {
		t.Fatalf("Update revision %d, want %d", r2, r1+1)
	}
	wantKV(t, mustGet(t, s, k), k, "v2", r1, r2, 2)

	for _, stale := range []int64{r1, 0, r2 + 1000} {
		_, err = s.Update(ctx, k, []byte("lost"), stale)
		wantErr(t, fmt.Sprintf("Update at revision %d (current %d)", stale, r2), err, backends.ErrConflict)
	}
	wantKV(t, mustGet(t, s, k), k, "v2", r1, r2, 2)

	r3, err := s.Update(ctx, k, []byte("v3"), r2)
	if err != nil {
		t.Fatal(err)
	}
	if r3 != r2+1 {
		t.Fatalf("revision after failed updates %d, want %d", r3, r2+1)
	}
	wantKV(t, mustGet(t, s, k), k, "v3", r1, r3, 3)
}

func testDeleteCAS(t *testing.T, s backends.Store, p string) {
	ctx := ctxOf(t)
	k := p + "k"
	_, err := s.Delete(ctx, k, 0)
	wantErr(t, "Delete of a missing key", err, backends.ErrNotFound)
	_, err = s.Delete(ctx, k, 5)
	wantErr(t, "conditional Delete of a missing key", err, backends.ErrNotFound)

	r1 := mustCreate(t, s, k, "v")
	_, err = s.Delete(ctx, k, r1+1)
	wantErr(t, "Delete at a wrong revision", err, backends.ErrConflict)
	wantKV(t, mustGet(t, s, k), k, "v", r1, r1, 1)

	r2, err := s.Delete(ctx, k, r1)
	if err != nil {
		t.Fatalf("Delete at the current revision: %v", err)
	}
	if r2 != r1+1 {
		t.Fatalf("Delete revision %d, want %d", r2, r1+1)
	}
	_, err = s.Get(ctx, k)
	wantErr(t, "Get after Delete", err, backends.ErrNotFound)

	k2 := p + "unconditional"
	mustCreate(t, s, k2, "v")
	if _, err := s.Put(ctx, k2, []byte("w")); err != nil {
		t.Fatal(err)
	}
	r3, err := s.Delete(ctx, k2, 0)
	if err != nil {
		t.Fatalf("unconditional Delete: %v", err)
	}
	if _, err := s.Get(ctx, k2); !errors.Is(err, backends.ErrNotFound) {
		t.Fatalf("Get after unconditional Delete at %d: %v", r3, err)
	}
}

func testRecreate(t *testing.T, s backends.Store, p string) {
	ctx := ctxOf(t)
	k := p + "k"
	r1 := mustCreate(t, s, k, "first")
	r2, err := s.Update(ctx, k, []byte("first-2"), r1)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Delete(ctx, k, r2); err != nil {
		t.Fatal(err)
	}
	r4 := mustCreate(t, s, k, "second")
	wantKV(t, mustGet(t, s, k), k, "second", r4, r4, 1)
	if r4 == r1 {
		t.Fatal("a re-created key kept its old CreateRevision")
	}
	_, err = s.Update(ctx, k, []byte("x"), r2)
	wantErr(t, "Update at the previous incarnation's revision", err, backends.ErrConflict)
}

func testValueIsolation(t *testing.T, s backends.Store, p string) {
	ctx := ctxOf(t)
	k := p + "k"
	buf := []byte("original")
	if _, err := s.Put(ctx, k, buf); err != nil {
		t.Fatal(err)
	}
	copy(buf, "XXXXXXXX")
	got := mustGet(t, s, k)
	if string(got.Value) != "original" {
		t.Fatalf("store kept the caller's buffer: value %q after the caller changed it", got.Value)
	}
	copy(got.Value, "YYYYYYYY")
	if again := mustGet(t, s, k); string(again.Value) != "original" {
		t.Fatalf("store handed out its own buffer: value %q after the caller changed a Get result", again.Value)
	}

	empty := p + "empty"
	if _, err := s.Create(ctx, empty, nil); err != nil {
		t.Fatal(err)
	}
	if got := mustGet(t, s, empty); len(got.Value) != 0 {
		t.Fatalf("empty value read back as %q", got.Value)
	}

	all := make([]byte, 256*4)
	for i := range all {
		all[i] = byte(i)
	}
	bin := p + "binary"
	if _, err := s.Create(ctx, bin, all); err != nil {
		t.Fatal(err)
	}
	if got := mustGet(t, s, bin); !bytes.Equal(got.Value, all) {
		t.Fatalf("binary value with every byte did not round-trip (got %d bytes)", len(got.Value))
	}
}

// distinctKeys are keys that a collating or trimming database would merge.
func distinctKeys(p string) []string {
	return []string{
		p + "a", p + "A", p + "a ", p + "a  ", p + "a\x00", p + "a\x00b", p + "a\xff",
		p + "\xff", p + "\xff\xff", p + "b", p + "B", p + "é", p + "e", p + "\x00",
	}
}

func testBytewiseKeys(t *testing.T, s backends.Store, p string) {
	ctx := ctxOf(t)
	keys := distinctKeys(p)
	for i, k := range keys {
		if _, err := s.Create(ctx, k, []byte(fmt.Sprint(i))); err != nil {
			t.Fatalf("Create(%q): %v (keys differing only in case, trailing spaces, NUL or 0xFF must be distinct)", k, err)
		}
	}
	for i, k := range keys {
		if got := mustGet(t, s, k); string(got.Value) != fmt.Sprint(i) || got.Key != k {
			t.Fatalf("Get(%q) = %q=%q, want value %d", k, got.Key, got.Value, i)
		}
	}
	page, err := s.List(ctx, p, backends.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := slices.Clone(keys)
	slices.Sort(want) // Go string order is bytewise
	if got := keysOf(page.Items); !slices.Equal(got, want) {
		t.Fatalf("List order:\n got %q\nwant %q", got, want)
	}
	if n, err := s.Count(ctx, p); err != nil || n != int64(len(keys)) {
		t.Fatalf("Count = %d, %v; want %d", n, err, len(keys))
	}
}

func keysOf(items []backends.KeyValue) []string {
	keys := make([]string, len(items))
	for i, kv := range items {
		keys[i] = kv.Key
	}
	return keys
}

func testPagination(t *testing.T, s backends.Store, p string) {
	ctx := ctxOf(t)
	var want []string
	for i := range 25 {
		k := fmt.Sprintf("%sk%02d", p, i)
		want = append(want, k)
		mustCreate(t, s, k, "v")
	}
	var got []string
	after := ""
	var pages []int
	var rev int64
	for {
		page, err := s.List(ctx, p, backends.ListOptions{After: after, Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		if rev == 0 {
			rev = page.Revision
		}
		if page.Revision < rev {
			t.Fatalf("page revision went back from %d to %d", rev, page.Revision)
		}
		pages = append(pages, len(page.Items))
		got = append(got, keysOf(page.Items)...)
		if !page.More {
			break
		}
		if len(page.Items) == 0 {
			t.Fatal("List returned More with no items")
		}
		after = page.Items[len(page.Items)-1].Key
	}
	if !slices.Equal(pages, []int{10, 10, 5}) {
		t.Fatalf("page sizes %v, want [10 10 5]", pages)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("paged keys\n got %q\nwant %q", got, want)
	}

	exact, err := s.List(ctx, p, backends.ListOptions{Limit: 25})
	if err != nil || len(exact.Items) != 25 || exact.More {
		t.Fatalf("List with Limit = number of keys: %d items, More=%v, err %v; want 25, false", len(exact.Items), exact.More, err)
	}
	all, err := s.List(ctx, p, backends.ListOptions{})
	if err != nil || len(all.Items) != 25 || all.More {
		t.Fatalf("List without limit: %d items, More=%v, err %v", len(all.Items), all.More, err)
	}
	if all.Revision < rev {
		t.Fatalf("List revision %d is older than an earlier page's %d", all.Revision, rev)
	}
	mid, err := s.List(ctx, p, backends.ListOptions{After: p + "k10x"})
	if err != nil || len(mid.Items) != 14 || mid.Items[0].Key != p+"k11" {
		t.Fatalf("List after a key that does not exist: %q, %v", keysOf(mid.Items), err)
	}
	end, err := s.List(ctx, p, backends.ListOptions{After: p + "k24", Limit: 10})
	if err != nil || len(end.Items) != 0 || end.More {
		t.Fatalf("List after the last key: %q More=%v err %v", keysOf(end.Items), end.More, err)
	}
	before, err := s.List(ctx, p, backends.ListOptions{After: "/", Limit: 1})
	if err != nil || len(before.Items) != 1 || before.Items[0].Key != p+"k00" {
		t.Fatalf("List with After before the prefix: %q, %v", keysOf(before.Items), err)
	}
	beyond, err := s.List(ctx, p, backends.ListOptions{After: p + "\xff"})
	if err != nil || len(beyond.Items) != 0 {
		t.Fatalf("List with After past the prefix: %q, %v", keysOf(beyond.Items), err)
	}
}

func testPrefixBoundaries(t *testing.T, s backends.Store, p string) {
	ctx := ctxOf(t)
	for _, k := range []string{p + "a", p + "a/x", p + "a/y", p + "ab", p + "a0", p + "a.", p + "\xff\xffz", p + "\xff\xff"} {
		mustCreate(t, s, k, "v")
	}
	cases := []struct {
		prefix string
		want   []string
	}{
		{p + "a/", []string{p + "a/x", p + "a/y"}},
		{p + "a", []string{p + "a", p + "a.", p + "a/x", p + "a/y", p + "a0", p + "ab"}},
		{p + "\xff", []string{p + "\xff\xff", p + "\xff\xffz"}},
		{p + "a/x", []string{p + "a/x"}},
		{p + "nothing", nil},
	}
	for _, c := range cases {
		page, err := s.List(ctx, c.prefix, backends.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if got := keysOf(page.Items); !slices.Equal(got, c.want) && (len(got) != 0 || len(c.want) != 0) {
			t.Errorf("List(%q) = %q, want %q", c.prefix, got, c.want)
		}
		n, err := s.Count(ctx, c.prefix)
		if err != nil || n != int64(len(c.want)) {
			t.Errorf("Count(%q) = %d, %v; want %d", c.prefix, n, err, len(c.want))
		}
	}
	page, err := s.List(ctx, "", backends.ListOptions{After: p + "a/x", Limit: 2})
	if err != nil || !slices.Equal(keysOf(page.Items), []string{p + "a/y", p + "a0"}) || !page.More {
		t.Fatalf("List of all keys after %q: %q More=%v err %v", p+"a/x", keysOf(page.Items), page.More, err)
	}
}

func testCount(t *testing.T, s backends.Store, p string) {
	ctx := ctxOf(t)
	if n, err := s.Count(ctx, p); err != nil || n != 0 {
		t.Fatalf("Count of an empty prefix = %d, %v", n, err)
	}
	for i := range 7 {
		mustCreate(t, s, fmt.Sprintf("%sx/%d", p, i), "v")
	}
	mustCreate(t, s, p+"y/0", "v")
	if n, err := s.Count(ctx, p+"x/"); err != nil || n != 7 {
		t.Fatalf("Count = %d, %v; want 7", n, err)
	}
	if _, err := s.Delete(ctx, p+"x/3", 0); err != nil {
		t.Fatal(err)
	}
	if n, err := s.Count(ctx, p); err != nil || n != 7 {
		t.Fatalf("Count after a delete = %d, %v; want 7", n, err)
	}
	total, err := s.Count(ctx, "")
	if err != nil || total < 7 {
		t.Fatalf("Count of all keys = %d, %v; want at least 7", total, err)
	}
}

func testLimits(t *testing.T, s backends.Store, p string) {
	ctx := ctxOf(t)
	long := p + strings.Repeat("k", backends.MaxKeySize+1-len(p))
	maxKey := long[:backends.MaxKeySize]
	for _, k := range []string{"", long} {
		_, err := s.Get(ctx, k)
		wantErr(t, fmt.Sprintf("Get of a %d-byte key", len(k)), err, backends.ErrInvalidKey)
		_, err = s.Create(ctx, k, []byte("v"))
		wantErr(t, fmt.Sprintf("Create of a %d-byte key", len(k)), err, backends.ErrInvalidKey)
		_, err = s.Put(ctx, k, []byte("v"))
		wantErr(t, fmt.Sprintf("Put of a %d-byte key", len(k)), err, backends.ErrInvalidKey)
		_, err = s.Update(ctx, k, []byte("v"), 1)
		wantErr(t, fmt.Sprintf("Update of a %d-byte key", len(k)), err, backends.ErrInvalidKey)
		_, err = s.Delete(ctx, k, 0)
		wantErr(t, fmt.Sprintf("Delete of a %d-byte key", len(k)), err, backends.ErrInvalidKey)
	}
	if _, err := s.Create(ctx, maxKey, []byte("v")); err != nil {
		t.Fatalf("Create of a %d-byte key: %v", len(maxKey), err)
	}
	if got := mustGet(t, s, maxKey); got.Key != maxKey {
		t.Fatal("the longest allowed key did not round-trip")
	}

	big := make([]byte, backends.MaxValueSize)
	for i := range big {
		big[i] = byte(i*7 + i>>11)
	}
	bigKey := p + "big"
	r1, err := s.Create(ctx, bigKey, big)
	if err != nil {
		t.Fatalf("Create of a %d-byte value: %v", len(big), err)
	}
	if got := mustGet(t, s, bigKey); !bytes.Equal(got.Value, big) {
		t.Fatalf("a %d-byte value did not round-trip byte for byte (got %d bytes)", len(big), len(got.Value))
	}
	tooBig := append(big, 1)
	_, err = s.Put(ctx, bigKey, tooBig)
	wantErr(t, "Put of a value one byte over the limit", err, backends.ErrValueTooLarge)
	_, err = s.Update(ctx, bigKey, tooBig, r1)
	wantErr(t, "Update with a value over the limit", err, backends.ErrValueTooLarge)
	_, err = s.Create(ctx, p+"toobig", tooBig)
	wantErr(t, "Create of a value over the limit", err, backends.ErrValueTooLarge)
	if _, err := s.Get(ctx, p+"toobig"); !errors.Is(err, backends.ErrNotFound) {
		t.Fatalf("a rejected Create left a key behind: %v", err)
	}
	if got := mustGet(t, s, bigKey); got.ModRevision != r1 {
		t.Fatalf("a rejected Put changed the key: mod revision %d, want %d", got.ModRevision, r1)
	}
	r2, err := s.Put(ctx, p+"after", nil)
	if err != nil || r2 != r1+1 {
		t.Fatalf("revision after rejected writes = %d, %v; want %d", r2, err, r1+1)
	}
	if _, err := s.List(ctx, long, backends.ListOptions{}); !errors.Is(err, backends.ErrInvalidKey) {
		t.Fatalf("List of a %d-byte prefix: %v, want ErrInvalidKey", len(long), err)
	}
}

// recv returns the next event or fails after eventWait.
func recv(t *testing.T, ch <-chan backends.Event) backends.Event {
	t.Helper()
	select {
	case ev, ok := <-ch:
		if !ok {
			t.Fatal("watch channel closed early")
		}
		if ev.Err != nil {
			t.Fatalf("watch ended with %v", ev.Err)
		}
		return ev
	case <-time.After(eventWait):
		t.Fatalf("no watch event within %v", eventWait)
	}
	panic("unreachable")
}

func watch(t *testing.T, s backends.Store, prefix string, from int64) <-chan backends.Event {
	t.Helper()
	ch, err := s.Watch(ctxOf(t), prefix, from)
	if err != nil {
		t.Fatalf("Watch(%q, %d): %v", prefix, from, err)
	}
	return ch
}

func testWatchEvents(t *testing.T, s backends.Store, p string) {
	ctx := ctxOf(t)
	ch := watch(t, s, p, 0)
	k := p + "k"
	r1 := mustCreate(t, s, k, "v1")
	r2, err := s.Update(ctx, k, []byte("v2"), r1)
	if err != nil {
		t.Fatal(err)
	}
	r3, err := s.Delete(ctx, k, 0)
	if err != nil {
		t.Fatal(err)
	}

	ev := recv(t, ch)
	if ev.Type != backends.Created || ev.PrevKV != nil {
		t.Fatalf("first event %v prev=%v, want created without PrevKV", ev.Type, ev.PrevKV)
	}
	wantKV(t, ev.KV, k, "v1", r1, r1, 1)

	ev = recv(t, ch)
	if ev.Type != backends.Updated || ev.PrevKV == nil {
		t.Fatalf("second event %v prev=%v, want updated with PrevKV", ev.Type, ev.PrevKV)
	}
	wantKV(t, ev.KV, k, "v2", r1, r2, 2)
	wantKV(t, *ev.PrevKV, k, "v1", r1, r1, 1)

	ev = recv(t, ch)
	if ev.Type != backends.Deleted || ev.PrevKV == nil {
		t.Fatalf("third event %v prev=%v, want deleted with PrevKV", ev.Type, ev.PrevKV)
	}
	if ev.KV.Key != k || ev.KV.ModRevision != r3 || len(ev.KV.Value) != 0 {
		t.Fatalf("delete event KV %s, want key %q at revision %d without value", fmtKV(ev.KV), k, r3)
	}
	wantKV(t, *ev.PrevKV, k, "v2", r1, r2, 2)

	r4, err := s.Put(ctx, k, []byte("v3"))
	if err != nil {
		t.Fatal(err)
	}
	ev = recv(t, ch)
	if ev.Type != backends.Created {
		t.Fatalf("Put after delete gave %v, want created", ev.Type)
	}
	wantKV(t, ev.KV, k, "v3", r4, r4, 1)
	r5, err := s.Put(ctx, k, []byte("v4"))
	if err != nil {
		t.Fatal(err)
	}
	ev = recv(t, ch)
	if ev.Type != backends.Updated || ev.PrevKV == nil || string(ev.PrevKV.Value) != "v3" {
		t.Fatalf("Put over a key gave %v (prev %v), want updated from v3", ev.Type, ev.PrevKV)
	}
	wantKV(t, ev.KV, k, "v4", r4, r5, 2)
}

func testWatchPrefixFilter(t *testing.T, s backends.Store, p string) {
	ch := watch(t, s, p+"in/", 0)
	mustCreate(t, s, p+"out/1", "x")
	mustCreate(t, s, p+"in", "x")
	mustCreate(t, s, p+"in0", "x")
	want := mustCreate(t, s, p+"in/1", "x")
	ev := recv(t, ch)
	if ev.KV.Key != p+"in/1" || ev.KV.ModRevision != want {
		t.Fatalf("watch on %q delivered %q at %d first, want %q at %d", p+"in/", ev.KV.Key, ev.KV.ModRevision, p+"in/1", want)
	}
}

func testWatchReplay(t *testing.T, s backends.Store, p string) {
	var revs []int64
	for i := range 10 {
		revs = append(revs, mustCreate(t, s, fmt.Sprintf("%s%d", p, i), fmt.Sprint(i)))
	}
	ch := watch(t, s, p, revs[3])
	for i := 3; i < 10; i++ {
		ev := recv(t, ch)
		if ev.Type != backends.Created || ev.KV.ModRevision != revs[i] || string(ev.KV.Value) != fmt.Sprint(i) {
			t.Fatalf("replayed event %d: %v %s, want created at %d", i, ev.Type, fmtKV(ev.KV), revs[i])
		}
	}
	next := mustCreate(t, s, p+"live", "x")
	if ev := recv(t, ch); ev.KV.ModRevision != next {
		t.Fatalf("after replay got revision %d, want the live write at %d", ev.KV.ModRevision, next)
	}
}

func testWatchCancel(t *testing.T, s backends.Store, p string) {
	ctx, cancel := context.WithCancel(t.Context())
	ch, err := s.Watch(ctx, p, 0)
	if err != nil {
		t.Fatal(err)
	}
	mustCreate(t, s, p+"a", "v")
	recv(t, ch)
	cancel()
	deadline := time.After(eventWait)
	for {
		select {
		case ev, ok := <-ch:
			if !ok {
				return
			}
			if ev.Err != nil {
				t.Fatalf("a cancelled watch sent an error event: %v", ev.Err)
			}
		case <-deadline:
			t.Fatalf("watch channel not closed within %v of its context ending", eventWait)
		}
	}
}

// testListThenWatch checks the k8s pattern: List, then Watch from the
// page's revision + 1, while other goroutines write; the listed state plus
// the events must equal the final state, with no event missed or repeated.
func testListThenWatch(t *testing.T, s backends.Store, p string) {
	ctx := ctxOf(t)
	const writers, perWriter = 4, 40
	for i := range 20 {
		mustCreate(t, s, fmt.Sprintf("%sseed/%02d", p, i), "0")
	}
	var wg sync.WaitGroup
	start := make(chan struct{})
	errs := make(chan error, writers)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			for i := range perWriter {
				k := fmt.Sprintf("%sseed/%02d", p, (w*perWriter+i)%25)
				var err error
				if i%7 == 6 {
					_, err = s.Delete(ctx, k, 0)
					if errors.Is(err, backends.ErrNotFound) {
						err = nil
					}
				} else {
					_, err = s.Put(ctx, k, []byte(fmt.Sprintf("%d-%d", w, i)))
				}
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	close(start)
	page, err := s.List(ctx, p, backends.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ch := watch(t, s, p, page.Revision+1)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	final, err := s.List(ctx, p, backends.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}

	state := map[string]string{}
	for _, kv := range page.Items {
		state[kv.Key] = string(kv.Value)
	}
	last := page.Revision
	for last < final.Revision {
		ev := recv(t, ch)
		if ev.KV.ModRevision <= last {
			t.Fatalf("event at revision %d after revision %d: duplicate or out of order", ev.KV.ModRevision, last)
		}
		last = ev.KV.ModRevision
		if ev.Type == backends.Deleted {
			delete(state, ev.KV.Key)
		} else {
			state[ev.KV.Key] = string(ev.KV.Value)
		}
	}
	if last != final.Revision {
		t.Fatalf("watch reached revision %d, final list is at %d", last, final.Revision)
	}
	if len(state) != len(final.Items) {
		t.Fatalf("list+watch rebuilt %d keys, final list has %d", len(state), len(final.Items))
	}
	for _, kv := range final.Items {
		if v, ok := state[kv.Key]; !ok || v != string(kv.Value) {
			t.Fatalf("key %q: list+watch says %q (present %v), final list says %q", kv.Key, v, ok, kv.Value)
		}
	}
}

func testWatchOrderConcurrentWriters(t *testing.T, s backends.Store, p string) {
	ctx := ctxOf(t)
	const writers, perWriter = 4, 50
	ch := watch(t, s, p, 0)
	var wg sync.WaitGroup
	revs := make([][]int64, writers)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perWriter {
				rev, err := s.Put(ctx, fmt.Sprintf("%sw%d/%d", p, w, i), []byte("v"))
				if err != nil {
					t.Error(err)
					return
				}
				revs[w] = append(revs[w], rev)
			}
		}()
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	acked := map[int64]bool{}
	for _, rs := range revs {
		for _, r := range rs {
			if acked[r] {
				t.Fatalf("two writes acknowledged with revision %d", r)
			}
			acked[r] = true
		}
	}
	var last int64
	for range writers * perWriter {
		ev := recv(t, ch)
		if ev.KV.ModRevision <= last {
			t.Fatalf("event revision %d after %d", ev.KV.ModRevision, last)
		}
		if last != 0 && ev.KV.ModRevision != last+1 {
			t.Fatalf("event revision %d after %d: a gap although only this test writes", ev.KV.ModRevision, last)
		}
		if !acked[ev.KV.ModRevision] {
			t.Fatalf("event at revision %d that no writer was acknowledged with", ev.KV.ModRevision)
		}
		delete(acked, ev.KV.ModRevision)
		last = ev.KV.ModRevision
	}
	if len(acked) != 0 {
		t.Fatalf("%d acknowledged writes never arrived on the watch", len(acked))
	}
}

func testConcurrentCAS(t *testing.T, s backends.Store, p string) {
	ctx := ctxOf(t)
	const workers, each = 16, 10
	k := p + "counter"
	mustCreate(t, s, k, "0")
	var wg sync.WaitGroup
	var mu sync.Mutex
	conflicts := 0
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for done := 0; done < each; {
				kv, err := s.Get(ctx, k)
				if err != nil {
					t.Error(err)
					return
				}
				var n int
				fmt.Sscan(string(kv.Value), &n)
				_, err = s.Update(ctx, k, []byte(fmt.Sprint(n+1)), kv.ModRevision)
				switch {
				case err == nil:
					done++
				case errors.Is(err, backends.ErrConflict):
					mu.Lock()
					conflicts++
					mu.Unlock()
				default:
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	got := mustGet(t, s, k)
	if string(got.Value) != fmt.Sprint(workers*each) || got.Version != workers*each+1 {
		t.Fatalf("counter = %s at version %d after %d increments by %d goroutines, want %d at version %d",
			got.Value, got.Version, workers*each, workers, workers*each, workers*each+1)
	}
	t.Logf("%d conflicts retried", conflicts)
}

// watchCompacted reports whether Watch from rev fails with ErrCompacted,
// either from the call or as the channel's only event.
func watchCompacted(t *testing.T, s backends.Store, prefix string, rev int64) bool {
	t.Helper()
	ctx, cancel := context.WithCancel(ctxOf(t))
	defer cancel()
	ch, err := s.Watch(ctx, prefix, rev)
	if err != nil {
		if !errors.Is(err, backends.ErrCompacted) {
			t.Fatalf("Watch from compacted revision %d: %v, want ErrCompacted", rev, err)
		}
		return true
	}
	select {
	case ev, ok := <-ch:
		if !ok {
			t.Fatalf("Watch from revision %d closed without an event", rev)
		}
		if ev.Err != nil {
			if !errors.Is(ev.Err, backends.ErrCompacted) {
				t.Fatalf("Watch from compacted revision %d ended with %v, want ErrCompacted", rev, ev.Err)
			}
			if _, open := <-ch; open {
				t.Fatal("watch channel stayed open after its final error event")
			}
			return true
		}
		return false
	case <-time.After(eventWait):
		t.Fatalf("Watch from revision %d: neither an event nor ErrCompacted within %v", rev, eventWait)
	}
	return false
}

func testCompaction(t *testing.T, s backends.Store, p string) {
	c, ok := s.(backends.Compactor)
	if !ok {
		t.Skip("store does not implement backends.Compactor")
	}
	ctx := ctxOf(t)
	var revs []int64
	for i := range 5 {
		revs = append(revs, mustCreate(t, s, fmt.Sprintf("%s%d", p, i), "v"))
	}
	live := watch(t, s, p, revs[0])
	recv(t, live)

	if err := c.Compact(ctx, revs[3]); err != nil {
		t.Fatalf("Compact(%d): %v", revs[3], err)
	}
	if !watchCompacted(t, s, p, revs[1]) {
		t.Fatalf("Watch from revision %d after Compact(%d) started instead of failing with ErrCompacted", revs[1], revs[3])
	}
	ch := watch(t, s, p, revs[3])
	for _, want := range revs[3:] {
		if ev := recv(t, ch); ev.KV.ModRevision != want {
			t.Fatalf("watch from the compaction revision: got %d, want %d", ev.KV.ModRevision, want)
		}
	}
	if r, ok := s.(backends.Revisioner); ok {
		cur, compacted, err := r.Revision(ctx)
		if err != nil || cur < revs[4] || compacted != revs[3]-1 {
			t.Fatalf("Revision() = %d, %d, %v after Compact(%d) at revision %d", cur, compacted, err, revs[3], revs[4])
		}
	}
	if err := c.Compact(ctx, revs[4]+1_000_000); err == nil {
		t.Fatal("Compact beyond the current revision succeeded")
	}
	// Data is untouched by compaction.
	if got := mustGet(t, s, p+"0"); got.ModRevision != revs[0] {
		t.Fatalf("compaction changed a key: %s", fmtKV(got))
	}
}

func testClose(t *testing.T, s backends.Store, p string) {
	ctx := ctxOf(t)
	mustCreate(t, s, p+"a", "v")
	ch := watch(t, s, p, 0)
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	_, err := s.Get(ctx, p+"a")
	wantErr(t, "Get after Close", err, backends.ErrClosed)
	_, err = s.Put(ctx, p+"b", nil)
	wantErr(t, "Put after Close", err, backends.ErrClosed)
	_, err = s.List(ctx, p, backends.ListOptions{})
	wantErr(t, "List after Close", err, backends.ErrClosed)
	_, err = s.Watch(ctx, p, 0)
	wantErr(t, "Watch after Close", err, backends.ErrClosed)
	if c, ok := s.(backends.RevisionCounter); ok {
		_, _, err = c.CountRev(ctx, p)
		wantErr(t, "CountRev after Close", err, backends.ErrClosed)
	}
	if h, ok := s.(backends.Historian); ok {
		_, err = h.History(ctx, p+"a", backends.HistoryOptions{})
		wantErr(t, "History after Close", err, backends.ErrClosed)
	}
	if pg, ok := s.(backends.Pinger); ok {
		wantErr(t, "Ping after Close", pg.Ping(ctx), backends.ErrClosed)
	}

	select {
	case ev, ok := <-ch:
		if !ok {
			t.Fatal("watch closed without a final ErrClosed event")
		}
		wantErr(t, "final event of a watch on a closed store", ev.Err, backends.ErrClosed)
		if _, open := <-ch; open {
			t.Fatal("watch channel stayed open after its final event")
		}
	case <-time.After(eventWait):
		t.Fatalf("watch not ended within %v of Close", eventWait)
	}
}
