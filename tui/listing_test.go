package tui

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/k3/k3-storage/backends"
	"github.com/k3/k3-storage/backends/memory"
)

func TestChildOf(t *testing.T) {
	tests := []struct {
		name, prefix, key, want string
		dir                     bool
	}{
		{"root leaf", "", "plain", "plain", false},
		{"root slash tree", "", "/registry/pods/a", "/", true},
		{"root dir without slash", "", "config/x", "config/", true},
		{"nested dir", "/registry/", "/registry/pods/default/a", "/registry/pods/", true},
		{"nested leaf", "/registry/pods/default/", "/registry/pods/default/a", "/registry/pods/default/a", false},
		{"empty segment", "a/", "a//b", "a//", true},
		{"key equal to level", "/registry/", "/registry/", "/registry/", false},
		{"trailing slash key", "/registry/", "/registry/x/", "/registry/x/", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, dir := childOf(tt.prefix, tt.key)
			if got != tt.want || dir != tt.dir {
				t.Fatalf("childOf(%q, %q) = %q, %v; want %q, %v", tt.prefix, tt.key, got, dir, tt.want, tt.dir)
			}
		})
	}
}

func TestParentOf(t *testing.T) {
	for in, want := range map[string]string{
		"": "", "/": "", "/registry/": "/", "/registry/pods/": "/registry/", "config/": "", "a//": "a/",
	} {
		if got := parentOf(in); got != want {
			t.Errorf("parentOf(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestAfterCoversDirectory: the read position after a directory is at or
// above every key the directory can hold, and below the next child.
func TestAfterCoversDirectory(t *testing.T) {
	d := "/registry/pods/"
	after := readPos{d, true}.after()
	longest := d + strings.Repeat("\xff", backends.MaxKeySize-len(d))
	for _, k := range []string{d, d + "a", d + "\xff\xff", longest, d + strings.Repeat("z", backends.MaxKeySize-len(d))} {
		if k > after {
			t.Errorf("key %q sorts after the directory's read position", k[:min(len(k), 40)])
		}
	}
	if next := "/registry/pods0"; next <= after {
		t.Errorf("the next child %q is skipped", next)
	}
	if got := (readPos{"k", false}).after(); got != "k" {
		t.Errorf("leaf after = %q", got)
	}
}

// fill adds keys named by f(i) for i in [0, n) with small values.
func fill(tb testing.TB, s backends.Store, n int, f func(i int) string) {
	tb.Helper()
	ctx := context.Background()
	for i := 0; i < n; i++ {
		if _, err := s.Put(ctx, f(i), []byte(fmt.Sprintf(`{"n":%d}`, i))); err != nil {
			tb.Fatal(err)
		}
	}
}

// TestEnumerateSkipsDirectories: listing a level costs about one List per
// child, not one per key, however large the directories are.
func TestEnumerateSkipsDirectories(t *testing.T) {
	mem := memory.New(memory.Options{})
	defer mem.Close()
	fill(t, mem, 20000, func(i int) string { return fmt.Sprintf("/r/ns-%02d/pod-%05d", i%10, i) })
	fill(t, mem, 5, func(i int) string { return fmt.Sprintf("/r/leaf-%d", i) })
	fill(t, mem, 3, func(i int) string { return fmt.Sprintf("/r/ns-05-x/%d", i) })
	s := &countingStore{Store: mem}
	res, err := enumerate(context.Background(), s, fetchReq{q: newQuery("/r/", false, ""), want: 100})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range res.items {
		names = append(names, strings.TrimPrefix(e.name, "/r/"))
	}
	want := "leaf-0,leaf-1,leaf-2,leaf-3,leaf-4,ns-00/,ns-01/,ns-02/,ns-03/,ns-04/,ns-05-x/,ns-05/,ns-06/,ns-07/,ns-08/,ns-09/"
	if got := strings.Join(names, ","); got != want {
		t.Fatalf("children %s\nwant     %s", got, want)
	}
	if res.more {
		t.Error("more after the last child")
	}
	if l, n := s.lists.Load(), s.items.Load(); l > 20 || n > 400 {
		t.Errorf("%d List calls reading %d keys for 16 children of 20008 keys", l, n)
	}
}

// TestEnumerateFilter: a substring filter scans children, skipping inside
// directories, and a "^" filter is a range read.
func TestEnumerateFilter(t *testing.T) {
	mem := memory.New(memory.Options{})
	defer mem.Close()
	fill(t, mem, 3000, func(i int) string { return fmt.Sprintf("/p/%s/pod-%04d", []string{"alpha", "beta", "gamma"}[i%3], i) })
	fill(t, mem, 300, func(i int) string { return fmt.Sprintf("/p/Beta-%03d", i) })
	tests := []struct {
		name, filter string
		want         int
		maxItems     int64
	}{
		{"smart case matches both", "beta", 301, 1000},
		{"upper case is exact", "Beta", 300, 1000},
		{"anchored range", "^gam", 1, 20},
		{"no match", "zzz", 0, 1000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &countingStore{Store: mem}
			res, err := enumerate(context.Background(), s, fetchReq{q: newQuery("/p/", false, tt.filter), want: 1000})
			if err != nil {
				t.Fatal(err)
			}
			if len(res.items) != tt.want {
				t.Fatalf("%d matches, want %d", len(res.items), tt.want)
			}
			if n := s.items.Load(); n > tt.maxItems {
				t.Errorf("read %d keys", n)
			}
		})
	}
}

// TestVirtualWindow moves through a level of 10,000 keys: the browser
// holds a bounded window, finds the right key after paging far down, back
// up (through anchors) and to both ends.
func TestVirtualWindow(t *testing.T) {
	mem := memory.New(memory.Options{})
	defer mem.Close()
	const n = 10000
	key := func(i int) string { return fmt.Sprintf("/k/%05d", i) }
	fill(t, mem, n, key)
	s := &countingStore{Store: mem}
	d := newDriver(t, s, 80, 24)
	d.press("enter") // "k/" (the root's sole child "/" opens by itself)
	if d.b().level != "/k/" || d.selected() != key(0) {
		t.Fatalf("level %q selected %q", d.b().level, d.selected())
	}
	rows := d.b().rows
	for i := 0; i < 200; i++ {
		d.press("pgdown")
	}
	if want := key(200 * rows); d.selected() != want {
		t.Fatalf("after 200 pages: %q, want %q", d.selected(), want)
	}
	if len(d.b().list.items) > maxWindow {
		t.Fatalf("window holds %d children", len(d.b().list.items))
	}
	for i := 0; i < 150; i++ {
		d.press("pgup")
	}
	if want := key(50 * rows); d.selected() != want {
		t.Fatalf("after paging back: %q, want %q", d.selected(), want)
	}
	for i := 0; i < 3; i++ {
		d.press("up")
	}
	if want := key(50*rows - 3); d.selected() != want {
		t.Fatalf("after up: %q, want %q", d.selected(), want)
	}
	d.press("end")
	if want := key(n - 1); d.selected() != want || d.b().cursor != n-1 {
		t.Fatalf("end: %q at %d, want %q", d.selected(), d.b().cursor, want)
	}
	if d.b().position() != "10,000/10,000" {
		t.Errorf("position %q", d.b().position())
	}
	d.press("home")
	if d.selected() != key(0) || d.b().cursor != 0 {
		t.Fatalf("home: %q at %d", d.selected(), d.b().cursor)
	}
	if len(d.b().list.items) > maxWindow {
		t.Fatalf("window holds %d children", len(d.b().list.items))
	}
	// Every row on screen is the right key.
	for r := 0; r < rows; r++ {
		if e, ok := d.b().list.at(r); !ok || e.name != key(r) {
			t.Fatalf("row %d: %+v", r, e)
		}
	}
}

// TestWatchKeepsWindowExact: changes reported by the watch keep the rows,
// indices and counts of the window right.
func TestWatchKeepsWindowExact(t *testing.T) {
	mem := memory.New(memory.Options{})
	defer mem.Close()
	fill(t, mem, 1000, func(i int) string { return fmt.Sprintf("/k/%04d", i*2) })
	fill(t, mem, 10, func(i int) string { return fmt.Sprintf("/k/d/%d", i) })
	d := newDriver(t, &countingStore{Store: mem}, 80, 24)
	d.press("enter") // into "/k/"
	for i := 0; i < 20; i++ {
		d.press("pgdown")
	}
	before := d.selected()
	idx := d.b().cursor
	ev := func(typ backends.EventType, k string, rev int64) backends.Event {
		return backends.Event{Type: typ, KV: backends.KeyValue{Key: k, ModRevision: rev, CreateRevision: rev, Version: 1}}
	}
	// Above the window: indices move; in the window: rows appear and go.
	d.b().applyEvents([]backends.Event{
		ev(backends.Created, "/k/0001", 2000),
		ev(backends.Created, "/k/0003", 2001),
		ev(backends.Deleted, "/k/0000", 2002),
	}, d.now, true)
	if d.selected() != before || d.b().cursor != idx+1 {
		t.Fatalf("selection %q at %d, was %q at %d", d.selected(), d.b().cursor, before, idx)
	}
	mid := d.b().list.items[len(d.b().list.items)/2].name
	inserted := mid + "5"
	d.b().applyEvents([]backends.Event{ev(backends.Created, inserted, 2003)}, d.now, true)
	if i, ok := d.b().list.find(inserted); !ok || d.b().list.items[i].flash != flashCreated {
		t.Fatalf("%q not inserted", inserted)
	}
	d.b().applyEvents([]backends.Event{ev(backends.Deleted, mid, 2004)}, d.now, true)
	if _, ok := d.b().list.find(mid); ok {
		t.Fatalf("%q not removed", mid)
	}
	// The window agrees with a fresh read at the same indices.
	names := make([]string, 0, 1100)
	for i := 0; i < 1000; i++ {
		names = append(names, fmt.Sprintf("/k/%04d", i*2))
	}
	names = append(names, "/k/0001", "/k/0003", inserted, "/k/d/")
	sort.Strings(names)
	names = remove(remove(names, "/k/0000"), mid)
	for i, e := range d.b().list.items {
		if want := names[d.b().list.start+i]; e.name != want {
			t.Fatalf("row %d: %q, want %q", d.b().list.start+i, e.name, want)
		}
	}
	// An anchor still finds its child.
	for _, a := range d.b().list.anchors {
		if a.idx < len(names) && a.pos.before(names[a.idx]) == false {
			t.Fatalf("anchor %d (%q) is past %q", a.idx, a.pos.key, names[a.idx])
		}
	}
}

func remove(s []string, v string) []string {
	for i, x := range s {
		if x == v {
			return append(s[:i], s[i+1:]...)
		}
	}
	return s
}

// TestCountsFollowWatch: a directory's count, read exact at a revision,
// moves with created and deleted keys, and a directory that empties
// disappears.
func TestCountsFollowWatch(t *testing.T) {
	mem := memory.New(memory.Options{})
	defer mem.Close()
	fill(t, mem, 3, func(i int) string { return fmt.Sprintf("/r/a/%d", i) })
	fill(t, mem, 1, func(i int) string { return "/r/b/0" })
	d := newDriver(t, &countingStore{Store: mem}, 80, 24)
	d.press("enter") // into "/r/"
	if c := d.b().counts["/r/a/"]; c.n != 3 || !c.exact || c.rev != 4 {
		t.Fatalf("count %+v", c)
	}
	d.b().applyEvents([]backends.Event{
		{Type: backends.Created, KV: backends.KeyValue{Key: "/r/a/9", ModRevision: 5}},
		{Type: backends.Created, KV: backends.KeyValue{Key: "/r/a/3", ModRevision: 3}}, // already counted
		{Type: backends.Deleted, KV: backends.KeyValue{Key: "/r/b/0", ModRevision: 6}},
	}, d.now, true)
	if c := d.b().counts["/r/a/"]; c.n != 4 {
		t.Fatalf("count %+v", c)
	}
	if _, ok := d.b().list.find("/r/b/"); ok {
		t.Fatal("the emptied directory is still listed")
	}
	if c := d.b().counts["/r/"]; c.n != 4 {
		t.Fatalf("level count %+v", c)
	}
}

// TestValueScroll scrolls a long value in the value pane, within bounds,
// in text and hex.
func TestValueScroll(t *testing.T) {
	mem := memory.New(memory.Options{})
	defer mem.Close()
	var items []string
	for i := 0; i < 100; i++ {
		items = append(items, fmt.Sprintf(`{"i":%d}`, i))
	}
	value := "[" + strings.Join(items, ",") + "]"
	if _, err := mem.Create(context.Background(), "big", []byte(value)); err != nil {
		t.Fatal(err)
	}
	d := newDriver(t, &countingStore{Store: mem}, 80, 24)
	d.press("enter") // focus the value
	if d.b().mode != modeValue {
		t.Fatalf("mode %v", d.b().mode)
	}
	body := d.b().valueBody()
	if body != d.b().rows-3 {
		t.Fatalf("%d rows for the value below a one-row key", body)
	}
	d.press("pgdown", "pgdown")
	if got := d.b().val.offset; got != 2*body {
		t.Fatalf("offset %d", got)
	}
	d.press("end")
	total := len(d.b().val.lines) // 100 objects of 3 lines, plus the brackets
	if total != 302 || d.b().val.offset != total-body {
		t.Fatalf("end: offset %d of %d lines", d.b().val.offset, total)
	}
	if view := d.m.View(); !strings.Contains(view, fmt.Sprintf("行 %d-%d/%d", total-body+1, total, total)) {
		t.Fatalf("no position in\n%s", view)
	}
	d.press("down")
	if d.b().val.offset != total-body {
		t.Fatal("scrolled past the end")
	}
	d.press("x", "end")
	if n := hexLines(len(value), hexLayoutFor(d.b().valueWidth()).n); d.b().val.offset != n-body {
		t.Fatalf("hex end: offset %d of %d lines", d.b().val.offset, n)
	}
	d.press("esc")
	if d.b().mode != modeBrowse {
		t.Fatalf("esc: mode %v", d.b().mode)
	}
}

// TestEscAndRefresh: esc clears a filter first, then goes up a level
// with the directory we left selected; r re-reads and keeps the cursor.
func TestEscAndRefresh(t *testing.T) {
	mem := memory.New(memory.Options{})
	defer mem.Close()
	fill(t, mem, 300, func(i int) string { return fmt.Sprintf("/a/b/%03d", i) })
	cs := &countingStore{Store: mem}
	d := newDriver(t, cs, 80, 24)
	d.press("enter", "enter") // "a/", "b/"
	d.press("/", "2", "5", "enter")
	if d.b().filter != "25" || d.b().list.end() != 13 { // 025, 125, 225, 250…259
		t.Fatalf("filter %q: %d rows", d.b().filter, d.b().list.end())
	}
	d.press("esc")
	if d.b().filter != "" || d.b().level != "/a/b/" || d.b().list.end() < 64 {
		t.Fatalf("esc: filter %q level %q rows %d", d.b().filter, d.b().level, d.b().list.end())
	}
	d.press("pgdown", "pgdown", "down")
	at := d.selected()
	lists := cs.lists.Load()
	d.press("r")
	if d.selected() != at || cs.lists.Load() == lists {
		t.Fatalf("refresh: %q, was %q (%d reads)", d.selected(), at, cs.lists.Load()-lists)
	}
	d.press("esc")
	if d.b().level != "/a/" || d.selected() != "/a/b/" {
		t.Fatalf("esc: level %q selected %q", d.b().level, d.selected())
	}
}
