package tui

import (
	"bytes"
	"context"
	"fmt"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/k3/k3-storage/backends"
	"github.com/k3/k3-storage/backends/memory"
)

// TestLiveChanges: another process writes in the browsed level; created
// keys appear (+), updated ones flash (~), deleted ones disappear, and the
// change feed lists the latest.
func TestLiveChanges(t *testing.T) {
	clock := newTestClock()
	store := newStore(t,
		"/registry/pods/default/a", `{"kind":"Pod","metadata":{"name":"a"},"status":{"phase":"Pending"}}`,
		"/registry/pods/default/b", `{"kind":"Pod","metadata":{"name":"b"}}`,
		"/registry/pods/default/c", `{"kind":"Pod","metadata":{"name":"c"}}`)
	h := startHarness(t, readyEngine(clock, store), Options{}, 80, 24)
	h.waitFor("共 3 个键")
	h.descend("/registry/", "/registry/pods/")
	h.open(0, "/registry/pods/default/", `"name": "a"`)
	ctx := context.Background()
	if _, err := store.Create(ctx, "/registry/pods/default/d", []byte(`{"kind":"Pod"}`)); err != nil {
		t.Fatal(err)
	}
	if _, err := store.Put(ctx, "/registry/pods/default/a", []byte(`{"kind":"Pod","metadata":{"name":"a"},"status":{"phase":"Running"}}`)); err != nil {
		t.Fatal(err)
	}
	if _, err := store.Delete(ctx, "/registry/pods/default/c", 0); err != nil {
		t.Fatal(err)
	}
	h.waitFor("- c", "~ a  .status.phase: Pending → Running", `"phase": "Running"`)
	fm := h.golden()
	var names []string
	for _, e := range fm.br.list.items {
		names = append(names, e.name[len("/registry/pods/default/"):]+string(" +~"[e.flash]))
	}
	if got := strings.Join(names, ","); got != "a~,b ,d+" {
		t.Fatalf("rows %s", got)
	}
	if c := fm.br.counts["/registry/pods/default/"]; c.n != 3 || !c.exact {
		t.Fatalf("count %+v", c)
	}
}

// failingWatch wraps a store so that its first watches fail with
// ErrCompacted, as the only event, as the contract allows.
type failingWatch struct {
	backends.Store
	fail atomic.Int32
}

func (f *failingWatch) Watch(ctx context.Context, prefix string, rev int64) (<-chan backends.Event, error) {
	if f.fail.Add(-1) >= 0 {
		ch := make(chan backends.Event, 1)
		ch <- backends.Event{Err: backends.ErrCompacted}
		close(ch)
		return ch, nil
	}
	return f.Store.Watch(ctx, prefix, rev)
}

// TestWatchRecovers: a watch that fails is reported in the header, and
// after the backoff the browser re-lists and re-watches.
func TestWatchRecovers(t *testing.T) {
	clock := newTestClock()
	mem := newStore(t, "/a/1", "one", "k", "v")
	store := &failingWatch{Store: mem}
	store.fail.Store(2)
	h := startHarness(t, readyEngine(clock, store), Options{}, 80, 24)
	h.waitFor(txtLiveBroken, "revision compacted", "500ms")
	clock.Set(at(600 * time.Millisecond)) // the first retry fails again
	h.waitFor(txtLiveBroken, "1.0s")
	clock.Set(at(2 * time.Second))
	h.waitFor("● " + txtLive)
	if _, err := mem.Create(context.Background(), "/b", []byte("two")); err != nil {
		t.Fatal(err)
	}
	h.waitFor("+ /b")
	fm := h.finish()
	if !fm.br.watch.live || len(fm.br.feed) != 1 || fm.br.feed[0].key != "/b" {
		t.Fatalf("live %v feed %+v", fm.br.watch.live, fm.br.feed)
	}
}

// refusingWatch wraps a store so that its first watches fail to start.
type refusingWatch struct {
	backends.Store
	refuse atomic.Int32
}

func (r *refusingWatch) Watch(ctx context.Context, prefix string, rev int64) (<-chan backends.Event, error) {
	if r.refuse.Add(-1) >= 0 {
		return nil, errNoWatch
	}
	return r.Store.Watch(ctx, prefix, rev)
}

// watchGoroutines counts the watch goroutines of one memory store (the
// store is the first argument in the stack trace).
func watchGoroutines(s *memory.Store) int {
	buf := make([]byte, 1<<20)
	n := runtime.Stack(buf, true)
	return bytes.Count(buf[:n], []byte(fmt.Sprintf("memory.(*Store).watch(%p", s)))
}

// TestWatchFollowsLevel: leaving a level cancels its watch, so there is
// one watch however far one browses, and none after quitting.
func TestWatchFollowsLevel(t *testing.T) {
	clock := newTestClock()
	store := newStore(t, "/registry/pods/default/a", "1", "/registry/pods/default/b", "2")
	h := startHarness(t, readyEngine(clock, store), Options{}, 80, 24)
	h.waitFor("共 2 个键")
	h.descend("/registry/", "/registry/pods/", "/registry/pods/default/")
	h.keys("left")
	h.waitFor("/registry/pods/ · ")
	h.keys("left")
	h.waitFor("/registry/ · ")
	h.keys("left")
	h.waitFor("/ · ")
	waitUntil(t, func() bool { return watchGoroutines(store) == 1 })
	h.keys("q")
	fm := h.final()
	if fm.exitCode() != 0 {
		t.Fatalf("exit code %d", fm.exitCode())
	}
	waitUntil(t, func() bool { return watchGoroutines(store) == 0 })
}

// waitUntil polls cond for a few seconds.
func waitUntil(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in 5s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestWatchStartsAfterQuickChange: the read that would start a level's
// watch is superseded (by flat mode, a filter) before it returns; the
// read that replaces it starts the watch instead.
func TestWatchStartsAfterQuickChange(t *testing.T) {
	tests := []struct {
		name string
		keys []string // pressed while the level's first read is in flight
	}{
		{"flat mode", []string{"t"}},
		{"filter", []string{"/", "1"}},
		{"flat mode and filter", []string{"t", "/", "a"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store := newStore(t, "/a/1", "one", "/a/2", "two", "/b", "three", "c", "four")
			d := newDriver(t, store, 80, 24)
			if !d.b().watch.live {
				t.Fatal("the root's watch did not start")
			}
			cmds := []tea.Cmd{d.update(keyMsg("enter"))} // into "/"
			for _, k := range tt.keys {
				cmds = append(cmds, d.update(keyMsg(k)))
			}
			for _, c := range cmds {
				d.run(c)
			}
			if !d.b().watch.live || d.b().level != "/" {
				t.Fatalf("level %q: watch live %v; header %q", d.b().level, d.b().watch.live, d.b().liveStatus(d.now))
			}
		})
	}
}

// TestWatchRestartsAfterQuickChange: a broken watch's retry re-reads the
// level; flat mode supersedes that read; the watch restarts all the same.
func TestWatchRestartsAfterQuickChange(t *testing.T) {
	mem := newStore(t, "/a/1", "one", "/b", "two")
	store := &refusingWatch{Store: mem}
	store.refuse.Store(1)
	d := newDriver(t, store, 80, 24)
	if d.b().watch.live || d.b().watch.err == "" {
		t.Fatalf("live %v err %q: the first watch should have failed", d.b().watch.live, d.b().watch.err)
	}
	retry := d.b().tick(d.b().watch.retryAt)
	flat := d.update(keyMsg("t"))
	d.run(retry)
	d.run(flat)
	if !d.b().watch.live {
		t.Fatalf("the watch did not restart; header %q", d.b().liveStatus(d.now))
	}
}

// created is the watch event of a key a test created.
func created(kv backends.KeyValue) backends.Event {
	return backends.Event{Type: backends.Created, KV: kv}
}

// TestCountBeforeWatch: the console's tick counts the level before its
// first read returns, and another writer adds a key before that read; the
// watch starts after the read, so it never reports that key. The count
// must not be kept as exact: it is taken again.
func TestCountBeforeWatch(t *testing.T) {
	tests := []struct {
		name string
		// landsAfterRead: the count's answer arrives after the first read
		// (and the watch's start); otherwise before.
		landsAfterRead bool
	}{
		{"count lands first", false},
		{"read lands first", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store := newStore(t, "a/1", "1", "b", "2")
			d, init := newDriverPending(t, store, 80, 24)
			counting := d.b().tick(d.now)
			var counted tea.Msg
			if tt.landsAfterRead {
				counted = counting() // counted now, delivered later
			} else {
				d.run(counting)
			}
			if _, err := store.Create(context.Background(), "a/3", []byte("3")); err != nil {
				t.Fatal(err)
			}
			d.run(init)
			if counted != nil {
				d.run(func() tea.Msg { return counted })
			}
			if c := d.b().counts[""]; c.n != 3 || !c.exact || c.stale {
				t.Fatalf("level count %+v, want 3 exact", c)
			}
		})
	}
}

// TestCountAfterWatchEvent: a count taken before a change arrives after
// the watch reported that change; the count must not undo it.
func TestCountAfterWatchEvent(t *testing.T) {
	store := newStore(t, "a", "1", "b", "2")
	d := newDriver(t, store, 80, 24)
	c := d.b().counts[""]
	c.stale = true
	d.b().counts[""] = c
	counting := d.b().ensureCounts(time.Time{})
	counted := counting() // at the current revision
	if _, err := store.Create(context.Background(), "c", []byte("3")); err != nil {
		t.Fatal(err)
	}
	evs := []backends.Event{created(get(t, store, "c"))}
	d.run(func() tea.Msg {
		return watchEventsMsg{gen: d.b().watch.gen, closed: true, events: evs}
	})
	d.run(func() tea.Msg { return counted })
	d.press("down") // a key press reads what is stale
	if c := d.b().counts[""]; c.n != 3 || !c.exact || c.stale {
		t.Fatalf("level count %+v, want 3 exact", c)
	}
}

// TestCountOwnWrite: another writer creates a key, then the console
// creates one before the watch reported the first. Applying our own write
// at once must not make the count skip the other writer's change.
func TestCountOwnWrite(t *testing.T) {
	store := newStore(t, "k1", "1", "k2", "2")
	d := newDriver(t, store, 80, 24)
	if c := d.b().counts[""]; c.n != 2 || !c.exact || !d.b().watch.live {
		t.Fatalf("level count %+v live %v", c, d.b().watch.live)
	}
	ctx := context.Background()
	if _, err := store.Create(ctx, "other", []byte("theirs")); err != nil {
		t.Fatal(err)
	}
	d.press("n", "mine", "enter", "v", "ctrl+s")
	if d.b().status.kind != statusOK {
		t.Fatalf("status %q", d.b().status.text)
	}
	// The watch reports both writes, in order.
	evs := []backends.Event{created(get(t, store, "other")), created(get(t, store, "mine"))}
	d.run(func() tea.Msg {
		return watchEventsMsg{gen: d.b().watch.gen, closed: true, events: evs}
	})
	if c := d.b().counts[""]; c.n != 4 || !c.exact {
		t.Fatalf("level count %+v, want 4 exact", c)
	}
}
