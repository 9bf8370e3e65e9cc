package backendtest

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"testing"
	"time"

	"github.com/k3/k3-storage/backends"
)

// testListLimitNegative: a Limit of 0 or less means no limit.
func testListLimitNegative(t *testing.T, s backends.Store, p string) {
	ctx := ctxOf(t)
	for i := range 5 {
		mustCreate(t, s, fmt.Sprintf("%s%d", p, i), "v")
	}
	for _, limit := range []int{0, -1, -1000} {
		page, err := s.List(ctx, p, backends.ListOptions{Limit: limit})
		if err != nil || len(page.Items) != 5 || page.More {
			t.Fatalf("List with Limit %d: %d items, More=%v, err %v; want all 5 and no More", limit, len(page.Items), page.More, err)
		}
		page, err = s.List(ctx, p, backends.ListOptions{After: p + "1", Limit: limit})
		if err != nil || len(page.Items) != 3 || page.More {
			t.Fatalf("List after %q with Limit %d: %d items, More=%v, err %v; want 3 and no More", p+"1", limit, len(page.Items), page.More, err)
		}
	}
}

// testWatchInvalidRevision: Watch itself refuses a negative fromRev.
func testWatchInvalidRevision(t *testing.T, s backends.Store, p string) {
	ctx := ctxOf(t)
	for _, rev := range []int64{-1, -2, math.MinInt64} {
		ch, err := s.Watch(ctx, p, rev)
		if !errors.Is(err, backends.ErrInvalidRevision) {
			t.Fatalf("Watch from revision %d: channel %v, error %v; want ErrInvalidRevision from Watch itself", rev, ch != nil, err)
		}
		if ch != nil {
			t.Fatalf("Watch from revision %d returned a channel with its error", rev)
		}
	}
}

// testWatchFutureRevision: a fromRev above the current revision waits for
// that revision and skips the writes before it.
func testWatchFutureRevision(t *testing.T, s backends.Store, p string) {
	ctx := ctxOf(t)
	cur := mustCreate(t, s, p+"before", "v")
	ch := watch(t, s, p, cur+3)
	var revs []int64
	for i := range 4 {
		rev, err := s.Put(ctx, fmt.Sprintf("%sk%d", p, i), []byte("v"))
		if err != nil {
			t.Fatal(err)
		}
		revs = append(revs, rev)
	}
	if revs[0] != cur+1 || revs[3] != cur+4 {
		t.Fatalf("writes at revisions %v after %d: another writer shares the store", revs, cur)
	}
	for _, want := range revs[2:] {
		if ev := recv(t, ch); ev.KV.ModRevision != want {
			t.Fatalf("watch from future revision %d: got an event at %d, want %d", cur+3, ev.KV.ModRevision, want)
		}
	}
}

// testCountRev checks CountRev against Count, List and the revisions of
// the writes before it.
func testCountRev(t *testing.T, s backends.Store, p string) {
	c, ok := s.(backends.RevisionCounter)
	if !ok {
		t.Skip("store does not implement backends.RevisionCounter")
	}
	ctx := ctxOf(t)
	want := func(prefix string, wantN, wantRev int64) {
		t.Helper()
		n, rev, err := c.CountRev(ctx, prefix)
		if err != nil || n != wantN || rev != wantRev {
			t.Fatalf("CountRev(%q) = %d, %d, %v; want %d keys at revision %d", prefix, n, rev, err, wantN, wantRev)
		}
		page, err := s.List(ctx, prefix, backends.ListOptions{})
		if err != nil || int64(len(page.Items)) != n || page.Revision != rev {
			t.Fatalf("List(%q) after CountRev = %d, %d: %d keys at revision %d, %v", prefix, n, rev, len(page.Items), page.Revision, err)
		}
	}
	last := mustCreate(t, s, p+"y/0", "v")
	want(p+"x/", 0, last)
	for i := range 7 {
		last = mustCreate(t, s, fmt.Sprintf("%sx/%d", p, i), "v")
	}
	want(p+"x/", 7, last)
	last, err := s.Put(ctx, p+"x/0", []byte("w"))
	if err != nil {
		t.Fatal(err)
	}
	want(p+"x/", 7, last)
	if last, err = s.Delete(ctx, p+"x/3", 0); err != nil {
		t.Fatal(err)
	}
	want(p+"x/", 6, last)
	want(p, 7, last)
	if n, rev, err := c.CountRev(ctx, ""); err != nil || n < 7 || rev != last {
		t.Fatalf("CountRev of all keys = %d, %d, %v; want at least 7 keys at revision %d", n, rev, err, last)
	}
	long := p + string(make([]byte, backends.MaxKeySize))
	_, _, err = c.CountRev(ctx, long)
	wantErr(t, fmt.Sprintf("CountRev of a %d-byte prefix", len(long)), err, backends.ErrInvalidKey)
}

// countSample is one CountRev result.
type countSample struct{ n, rev int64 }

// testCountRevConcurrentWriters takes counts while writers create and
// delete keys, and checks each against the true count at its revision,
// rebuilt from a watch that saw every change: the count and its revision
// are one snapshot. A watch from the first count's revision + 1, applied
// to it, must give the final count.
func testCountRevConcurrentWriters(t *testing.T, s backends.Store, p string) {
	c, ok := s.(backends.RevisionCounter)
	if !ok {
		t.Skip("store does not implement backends.RevisionCounter")
	}
	ctx := ctxOf(t)
	const writers, perWriter, keys = 4, 40, 25
	for i := range 20 {
		mustCreate(t, s, fmt.Sprintf("%s%02d", p, i), "v")
	}
	n0, rev0, err := c.CountRev(ctx, p)
	if err != nil || n0 != 20 {
		t.Fatalf("CountRev before the writers = %d, %d, %v; want 20 keys", n0, rev0, err)
	}
	all := watch(t, s, p, rev0+1)

	var wg sync.WaitGroup
	start, done := make(chan struct{}), make(chan struct{})
	errs := make(chan error, writers)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			for i := range perWriter {
				k := fmt.Sprintf("%s%02d", p, (w*7+i*3)%keys)
				var err error
				if i%3 == 2 {
					if _, err = s.Delete(ctx, k, 0); errors.Is(err, backends.ErrNotFound) {
						err = nil
					}
				} else {
					_, err = s.Put(ctx, k, []byte(fmt.Sprint(w, i)))
				}
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	go func() { wg.Wait(); close(done) }()
	close(start)

	var samples []countSample
	var follow <-chan backends.Event
	for running := true; running; {
		select {
		case <-done:
			running = false
		default:
		}
		n, rev, err := c.CountRev(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		if len(samples) > 0 && rev < samples[len(samples)-1].rev {
			t.Fatalf("CountRev revision went back from %d to %d", samples[len(samples)-1].rev, rev)
		}
		samples = append(samples, countSample{n, rev})
		if follow == nil {
			follow = watch(t, s, p, rev+1)
		}
	}
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	final := samples[len(samples)-1]
	page, err := s.List(ctx, p, backends.ListOptions{})
	if err != nil || page.Revision != final.rev || int64(len(page.Items)) != final.n {
		t.Fatalf("final CountRev = %d keys at %d, List = %d keys at %d, %v", final.n, final.rev, len(page.Items), page.Revision, err)
	}

	// The true count after each revision, from the watch of every change.
	counts := map[int64]int64{rev0: n0}
	n, last := n0, rev0
	for last < final.rev {
		ev := recv(t, all)
		n += countDelta(ev)
		last = ev.KV.ModRevision
		counts[last] = n
	}
	if last != final.rev {
		t.Fatalf("the watch passed the final revision %d at %d", final.rev, last)
	}
	during := 0
	for _, sm := range samples {
		want, ok := counts[sm.rev]
		if !ok {
			t.Fatalf("CountRev reported revision %d, which is no write under the prefix between %d and %d", sm.rev, rev0, final.rev)
		}
		if sm.n != want {
			t.Fatalf("CountRev = %d keys at revision %d; the store held %d then", sm.n, sm.rev, want)
		}
		if sm.rev > rev0 && sm.rev < final.rev {
			during++
		}
	}

	first := samples[0]
	n, last = first.n, first.rev
	for last < final.rev {
		ev := recv(t, follow)
		if ev.KV.ModRevision <= last {
			t.Fatalf("watch from CountRev's revision + 1 delivered revision %d after %d", ev.KV.ModRevision, last)
		}
		n += countDelta(ev)
		last = ev.KV.ModRevision
	}
	if n != final.n {
		t.Fatalf("count %d at revision %d plus the watch from %d gives %d at %d, want %d",
			first.n, first.rev, first.rev+1, n, last, final.n)
	}
	t.Logf("%d counts, %d of them taken between the first and the last write", len(samples), during)
}

// countDelta is what an event changes in a count of keys.
func countDelta(ev backends.Event) int64 {
	switch ev.Type {
	case backends.Created:
		return 1
	case backends.Deleted:
		return -1
	}
	return 0
}

// WantHistory is the reference model of backends.Historian: the History a
// store with the given traits must return for opts, given writes (every
// write ever made to the key, oldest first, as HistoryEntry values: Deleted
// ones with Key and ModRevision only) and the store's compacted and current
// revisions at the read.
func WantHistory(writes []backends.HistoryEntry, compacted, current int64, opts backends.HistoryOptions, traits Traits) backends.History {
	h := backends.History{Compacted: compacted, Revision: current}
	// The versions the store knows, newest first: the writes above
	// compacted, and the key's state at compacted, made by the newest write
	// at or below it unless that deleted the key.
	var known []backends.HistoryEntry
	for i := len(writes) - 1; i >= 0; i-- {
		w := writes[i]
		if w.KV.ModRevision > compacted {
			known = append(known, w)
			continue
		}
		if w.Type != backends.Deleted {
			known = append(known, w)
		}
		break
	}
	var list []backends.HistoryEntry
	for _, e := range known {
		if opts.Before <= 0 || e.KV.ModRevision < opts.Before {
			list = append(list, e)
		}
	}
	if traits.HistoryStopsAtDelete {
		// Snapshot reads stop where the key did not exist.
		read := current
		if opts.Before > 0 && opts.Before-1 < current {
			read = opts.Before - 1
		}
		for i, e := range list {
			if e.Type == backends.Deleted {
				list = list[:i]
				break
			}
		}
		if len(list) == 0 {
			h.StopsAtDelete = read > compacted
		} else {
			last := list[len(list)-1]
			h.StopsAtDelete = last.Type == backends.Created && last.KV.CreateRevision-1 > compacted
		}
	}
	if opts.Limit > 0 && len(list) > opts.Limit {
		list, h.More, h.StopsAtDelete = list[:opts.Limit], true, false
	}
	h.Entries = list
	return h
}

// historyLog records the writes to one key, for WantHistory.
type historyLog struct {
	t      *testing.T
	s      backends.Store
	key    string
	writes []backends.HistoryEntry
}

func (l *historyLog) current() (backends.KeyValue, bool) {
	if len(l.writes) == 0 || l.writes[len(l.writes)-1].Type == backends.Deleted {
		return backends.KeyValue{}, false
	}
	return l.writes[len(l.writes)-1].KV, true
}

func (l *historyLog) create(value string) int64 {
	l.t.Helper()
	rev := mustCreate(l.t, l.s, l.key, value)
	l.writes = append(l.writes, backends.HistoryEntry{Type: backends.Created, KV: backends.KeyValue{
		Key: l.key, Value: []byte(value), CreateRevision: rev, ModRevision: rev, Version: 1}})
	return rev
}

func (l *historyLog) update(value string) int64 {
	l.t.Helper()
	cur, ok := l.current()
	if !ok {
		l.t.Fatalf("update of %q, which the test deleted", l.key)
	}
	rev, err := l.s.Update(ctxOf(l.t), l.key, []byte(value), cur.ModRevision)
	if err != nil {
		l.t.Fatalf("Update(%q): %v", l.key, err)
	}
	l.writes = append(l.writes, backends.HistoryEntry{Type: backends.Updated, KV: backends.KeyValue{
		Key: l.key, Value: []byte(value), CreateRevision: cur.CreateRevision, ModRevision: rev, Version: cur.Version + 1}})
	return rev
}

func (l *historyLog) delete() int64 {
	l.t.Helper()
	cur, _ := l.current()
	rev, err := l.s.Delete(ctxOf(l.t), l.key, cur.ModRevision)
	if err != nil {
		l.t.Fatalf("Delete(%q): %v", l.key, err)
	}
	l.writes = append(l.writes, backends.HistoryEntry{Type: backends.Deleted, KV: backends.KeyValue{Key: l.key, ModRevision: rev}})
	return rev
}

// revisions returns the store's current and compacted revisions, from
// Revisioner when the store has it, or else from a write (compacted 0).
func revisions(t *testing.T, s backends.Store) (current, compacted int64) {
	t.Helper()
	r, ok := s.(backends.Revisioner)
	if !ok {
		t.Fatal("the History tests need backends.Revisioner")
	}
	current, compacted, err := r.Revision(ctxOf(t))
	if err != nil {
		t.Fatal(err)
	}
	return current, compacted
}

// checkHistory compares History with WantHistory for every interesting
// Before (each write's revision, one above it, past the end, 1, none) and
// Limit, and pages through the whole history at several limits.
func checkHistory(t *testing.T, s backends.Store, logs []*historyLog, traits Traits) {
	t.Helper()
	h := s.(backends.Historian)
	ctx := ctxOf(t)
	current, compacted := revisions(t, s)
	for _, l := range logs {
		befores := []int64{0, 1, current, current + 1, current + 100}
		for _, w := range l.writes {
			befores = append(befores, w.KV.ModRevision, w.KV.ModRevision+1)
		}
		for _, before := range befores {
			limits := []int{0, 1, 2}
			if before == 0 {
				limits = append(limits, -1, 3)
			}
			for _, limit := range limits {
				opts := backends.HistoryOptions{Before: before, Limit: limit}
				got, err := h.History(ctx, l.key, opts)
				if err != nil {
					t.Fatalf("History(%q, %+v): %v", l.key, opts, err)
				}
				want := WantHistory(l.writes, compacted, current, opts, traits)
				if diff := diffHistory(got, want); diff != "" {
					t.Fatalf("History(%q, %+v) %s\n got %s\nwant %s", l.key, opts, diff, fmtHistory(got), fmtHistory(want))
				}
			}
		}
		whole := WantHistory(l.writes, compacted, current, backends.HistoryOptions{}, traits)
		for _, limit := range []int{1, 2, 3} {
			var paged []backends.HistoryEntry
			opts := backends.HistoryOptions{Limit: limit}
			for pages := 0; ; pages++ {
				if pages > len(l.writes)+1 {
					t.Fatalf("paging History(%q) by %d does not end", l.key, limit)
				}
				got, err := h.History(ctx, l.key, opts)
				if err != nil {
					t.Fatal(err)
				}
				if len(got.Entries) > limit {
					t.Fatalf("History(%q, %+v) returned %d entries", l.key, opts, len(got.Entries))
				}
				paged = append(paged, got.Entries...)
				if !got.More {
					if got.StopsAtDelete != whole.StopsAtDelete {
						t.Fatalf("last page of History(%q) by %d: StopsAtDelete %v, want %v", l.key, limit, got.StopsAtDelete, whole.StopsAtDelete)
					}
					break
				}
				opts.Before = got.Entries[len(got.Entries)-1].KV.ModRevision
			}
			if diff := diffEntries(paged, whole.Entries); diff != "" {
				t.Fatalf("History(%q) paged by %d: %s\n got %s\nwant %s", l.key, limit, diff, fmtEntries(paged), fmtEntries(whole.Entries))
			}
		}
	}
}

func diffHistory(got, want backends.History) string {
	switch {
	case got.More != want.More:
		return fmt.Sprintf("More = %v, want %v", got.More, want.More)
	case got.Compacted != want.Compacted:
		return fmt.Sprintf("Compacted = %d, want %d", got.Compacted, want.Compacted)
	case got.StopsAtDelete != want.StopsAtDelete:
		return fmt.Sprintf("StopsAtDelete = %v, want %v", got.StopsAtDelete, want.StopsAtDelete)
	case got.Revision != want.Revision:
		return fmt.Sprintf("Revision = %d, want %d", got.Revision, want.Revision)
	}
	return diffEntries(got.Entries, want.Entries)
}

func diffEntries(got, want []backends.HistoryEntry) string {
	for i := range max(len(got), len(want)) {
		switch {
		case i >= len(got):
			return fmt.Sprintf("entry %d missing", i)
		case i >= len(want):
			return fmt.Sprintf("entry %d is one too many", i)
		case !sameEntry(got[i], want[i]):
			return fmt.Sprintf("entry %d differs", i)
		}
	}
	return ""
}

func sameEntry(a, b backends.HistoryEntry) bool {
	return a.Type == b.Type && a.KV.Key == b.KV.Key && string(a.KV.Value) == string(b.KV.Value) &&
		(a.KV.Value == nil) == (b.KV.Value == nil) && a.KV.CreateRevision == b.KV.CreateRevision &&
		a.KV.ModRevision == b.KV.ModRevision && a.KV.Version == b.KV.Version
}

func fmtEntries(es []backends.HistoryEntry) string {
	s := "["
	for i, e := range es {
		if i > 0 {
			s += " "
		}
		s += e.Type.String() + fmtKV(e.KV)
	}
	return s + "]"
}

func fmtHistory(h backends.History) string {
	return fmt.Sprintf("{More:%v Compacted:%d StopsAtDelete:%v Revision:%d %s}", h.More, h.Compacted, h.StopsAtDelete, h.Revision, fmtEntries(h.Entries))
}

// testHistory: create, update ×4, delete, re-create, update; a key deleted
// for good; a key that never existed. Every page of History is compared
// with the model.
func testHistory(t *testing.T, s backends.Store, p string, traits Traits) {
	h, ok := s.(backends.Historian)
	if !ok {
		t.Skip("store does not implement backends.Historian")
	}
	ctx := ctxOf(t)
	k := &historyLog{t: t, s: s, key: p + "k"}
	k.create("v1")
	for i := 2; i <= 5; i++ {
		k.update(fmt.Sprintf("v%d", i))
	}
	k.delete()
	k.create("w1")
	k.update("w2")
	gone := &historyLog{t: t, s: s, key: p + "gone"}
	gone.create("x")
	gone.update("y")
	gone.delete()
	empty := &historyLog{t: t, s: s, key: p + "never"}
	// A key with only an empty value: the value is present, not nil.
	blank := &historyLog{t: t, s: s, key: p + "blank"}
	blank.create("")

	got, err := h.History(ctx, k.key, backends.HistoryOptions{})
	if err != nil {
		t.Fatal(err)
	}
	wantLen := 8
	if traits.HistoryStopsAtDelete {
		wantLen = 2
	}
	if len(got.Entries) != wantLen || got.Entries[0].KV.Version != 2 || string(got.Entries[0].KV.Value) != "w2" {
		t.Fatalf("History(%q) = %s, want %d entries from w2", k.key, fmtHistory(got), wantLen)
	}
	for _, e := range got.Entries {
		if e.Type != backends.Deleted && e.KV.Value == nil {
			t.Fatalf("History(%q): a %v entry without a value: %s", k.key, e.Type, fmtKV(e.KV))
		}
	}
	checkHistory(t, s, []*historyLog{k, gone, empty, blank}, traits)

	_, err = h.History(ctx, "", backends.HistoryOptions{})
	wantErr(t, "History of the empty key", err, backends.ErrInvalidKey)
	_, err = h.History(ctx, k.key, backends.HistoryOptions{Before: -1})
	wantErr(t, "History before revision -1", err, backends.ErrInvalidRevision)
}

// testHistoryCompacted: after each of several compactions, History reports
// the store's compacted revision, keeps exactly the versions the store
// still knows (including the one current at the compacted revision) and
// invents none.
func testHistoryCompacted(t *testing.T, s backends.Store, p string, traits Traits) {
	if _, ok := s.(backends.Historian); !ok {
		t.Skip("store does not implement backends.Historian")
	}
	c, ok := s.(backends.Compactor)
	if !ok {
		t.Skip("store does not implement backends.Compactor")
	}
	ctx := ctxOf(t)
	other := p + "other"
	gap := func() int64 {
		t.Helper()
		rev, err := s.Put(ctx, other, []byte("gap"))
		if err != nil {
			t.Fatal(err)
		}
		return rev
	}
	still := &historyLog{t: t, s: s, key: p + "still"}
	still.create("s")
	k := &historyLog{t: t, s: s, key: p + "k"}
	r1 := k.create("v1")
	k.update("v2")
	k.update("v3")
	g1 := gap()
	k.update("v4")
	r5 := k.update("v5")
	k.delete()
	rc := k.create("w1")
	g2 := gap()
	k.update("w2")
	logs := []*historyLog{k, still}
	checkHistory(t, s, logs, traits)

	// Compacting to each revision keeps the key's state at the revision
	// before it, written earlier: v1 at r1; v3, written before g1, at g1-1;
	// v4 at r5-1; none at rc-1 (deleted); w1, created before g2, at g2-1.
	for _, rev := range []int64{r1 + 1, g1, r5, rc, g2} {
		if err := c.Compact(ctx, rev); err != nil {
			t.Fatalf("Compact(%d): %v", rev, err)
		}
		if _, compacted := revisions(t, s); compacted != rev-1 {
			t.Fatalf("after Compact(%d) the store reports compacted revision %d, want %d", rev, compacted, rev-1)
		}
		t.Run(fmt.Sprintf("after-%d", rev-r1), func(t *testing.T) {
			checkHistory(t, s, logs, traits)
		})
	}
}

// testWatchPrevKVAfterCompaction: after Compact(rev), a Watch from rev
// delivers the change at rev with its PrevKV, although the previous version
// was written before rev, and a Watch from rev-1 fails.
func testWatchPrevKVAfterCompaction(t *testing.T, s backends.Store, p string) {
	c, ok := s.(backends.Compactor)
	if !ok {
		t.Skip("store does not implement backends.Compactor")
	}
	ctx := ctxOf(t)
	k := p + "k"
	r1 := mustCreate(t, s, k, "v1")
	mustCreate(t, s, p+"other", "x")
	r2, err := s.Update(ctx, k, []byte("v2"), r1)
	if err != nil {
		t.Fatal(err)
	}
	r3, err := s.Delete(ctx, k, r2)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []struct {
		rev  int64
		typ  backends.EventType
		prev backends.KeyValue
	}{
		{r2, backends.Updated, backends.KeyValue{Key: k, Value: []byte("v1"), CreateRevision: r1, ModRevision: r1, Version: 1}},
		{r3, backends.Deleted, backends.KeyValue{Key: k, Value: []byte("v2"), CreateRevision: r1, ModRevision: r2, Version: 2}},
	} {
		if err := c.Compact(ctx, want.rev); err != nil {
			t.Fatalf("Compact(%d): %v", want.rev, err)
		}
		if !watchCompacted(t, s, p, want.rev-1) {
			t.Fatalf("Watch from revision %d after Compact(%d) started", want.rev-1, want.rev)
		}
		ev := recv(t, watch(t, s, k, want.rev))
		if ev.Type != want.typ || ev.KV.ModRevision != want.rev || ev.PrevKV == nil {
			t.Fatalf("Watch from revision %d after Compact(%d): first event %v at %d with PrevKV %v; want %v at %d with PrevKV",
				want.rev, want.rev, ev.Type, ev.KV.ModRevision, ev.PrevKV, want.typ, want.rev)
		}
		p := want.prev
		wantKV(t, *ev.PrevKV, p.Key, string(p.Value), p.CreateRevision, p.ModRevision, p.Version)
	}
}

// testPing: a Pinger answers a working store within a short deadline, also
// while writers keep every connection busy, and does not touch the data.
func testPing(t *testing.T, s backends.Store, p string) {
	pg, ok := s.(backends.Pinger)
	if !ok {
		t.Skip("store does not implement backends.Pinger")
	}
	ctx := ctxOf(t)
	rev := mustCreate(t, s, p+"a", "v")
	for range 3 {
		pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		err := pg.Ping(pctx)
		cancel()
		if err != nil {
			t.Fatalf("Ping of a working store: %v", err)
		}
	}
	// Writers saturate the store; a ping still answers.
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 32 {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := s.Put(ctx, fmt.Sprintf("%sw%d/%d", p, w, i%8), []byte("v")); err != nil {
					t.Errorf("Put: %v", err)
					return
				}
			}
		})
	}
	for range 10 {
		pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		err := pg.Ping(pctx)
		cancel()
		if err != nil {
			close(stop)
			wg.Wait()
			t.Fatalf("Ping while writers keep the store busy: %v", err)
		}
	}
	close(stop)
	wg.Wait()
	if kv, err := s.Get(ctx, p+"a"); err != nil || kv.ModRevision != rev {
		t.Fatalf("Get after Ping: %+v, %v; want the key untouched at revision %d", kv, err, rev)
	}
}
