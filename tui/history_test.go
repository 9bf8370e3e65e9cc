package tui

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/k3/k3-storage/backends"
	"github.com/k3/k3-storage/backends/memory"
)

// podVersions writes three versions of one pod: created Pending, then
// Running, then with a label. It returns the store and the key.
func podVersions(t *testing.T) (backends.Store, string) {
	t.Helper()
	return versions(t,
		`{"kind":"Pod","metadata":{"name":"web"},"status":{"phase":"Pending"}}`,
		`{"kind":"Pod","metadata":{"name":"web"},"status":{"phase":"Running"}}`,
		`{"kind":"Pod","metadata":{"name":"web","labels":{"app":"web"}},"status":{"phase":"Running"}}`)
}

// openHistory walks to /registry/pods/default/ and opens the history of
// its first key, whose three versions podVersions wrote.
func (h *harness) openHistory(want ...string) {
	h.t.Helper()
	h.historyKey(append([]string{txtHistTitle, "3 个版本"}, want...)...)
}

// historyKey walks to /registry/pods/default/, the only directory on the
// way down, and opens the history of its first key.
func (h *harness) historyKey(want ...string) {
	h.t.Helper()
	h.waitFor("1 个键")
	h.descend("/registry/", "/registry/pods/")
	h.open(0, "/registry/pods/default/")
	h.keys("H")
	h.waitFor(want...)
}

// versions is a store holding the key /registry/pods/default/web written
// with each value in turn.
func versions(t *testing.T, values ...string) (*memory.Store, string) {
	t.Helper()
	const k = "/registry/pods/default/web"
	store := newStore(t, k, values[0])
	for _, v := range values[1:] {
		if _, err := store.Put(context.Background(), k, []byte(v)); err != nil {
			t.Fatal(err)
		}
	}
	return store, k
}

// TestHistoryDiffs: H lists the key's versions newest first, each with a
// unified diff of the pretty-printed JSON against the version before;
// enter shows the version whole; esc goes back to the browser.
func TestHistoryDiffs(t *testing.T) {
	clock := newTestClock()
	store, _ := podVersions(t)
	h := startHarness(t, readyEngine(clock, store), Options{}, 120, 30)
	h.openHistory("rev 3", txtHistCurrent, `+    "labels": {`, `+      "app": "web"`)
	h.keys("down")
	h.waitFor(`-    "phase": "Pending"`, `+    "phase": "Running"`)
	h.keys("down")
	// The first version is compared with nothing: every line is new.
	h.waitFor(`+  "kind": "Pod",`, txtHistComplete)
	h.keys("up", "enter")
	h.waitFor(txtHistFull)
	fm := h.golden()
	b := fm.br
	if b.mode != modeHistory || b.hist.cursor != 1 || !b.hist.full {
		t.Fatalf("mode %v cursor %d full %v", b.mode, b.hist.cursor, b.hist.full)
	}
	var types []backends.EventType
	for _, e := range b.hist.entries {
		types = append(types, e.Type)
	}
	if len(types) != 3 || types[0] != backends.Updated || types[2] != backends.Created {
		t.Fatalf("entries %v", types)
	}
}

// TestHistoryRestore: R and y write the selected version's value as a new
// version (a compare-and-swap at the newest revision read), and the view
// reads the history again by itself.
func TestHistoryRestore(t *testing.T) {
	clock := newTestClock()
	store, k := podVersions(t)
	h := startHarness(t, readyEngine(clock, store), Options{}, 120, 30)
	h.openHistory()
	h.keys("down", "down", "R")
	h.waitFor("用 rev 1 的版本 1 覆盖当前值（rev 3）")
	h.keys("y")
	h.waitFor("已恢复 rev 1 的值（新版本 rev 4）", "4 个版本")
	fm := h.finish()
	kv := get(t, store, k)
	if want := `{"kind":"Pod","metadata":{"name":"web"},"status":{"phase":"Pending"}}`; string(kv.Value) != want || kv.Version != 4 || kv.ModRevision != 4 {
		t.Fatalf("after restore: %+v", kv)
	}
	if e := fm.br.hist.entries; len(e) != 4 || e[0].KV.ModRevision != 4 {
		t.Fatalf("history not read again: %d entries", len(e))
	}
}

// silentWatch hides every change from the console's watch, so that a
// write by someone else is not seen before a restore.
type silentWatch struct{ backends.Store }

func (s silentWatch) Watch(ctx context.Context, prefix string, fromRev int64) (<-chan backends.Event, error) {
	ch := make(chan backends.Event)
	go func() {
		<-ctx.Done()
		close(ch)
	}()
	return ch, nil
}

func (s silentWatch) History(ctx context.Context, key string, opts backends.HistoryOptions) (backends.History, error) {
	return s.Store.(backends.Historian).History(ctx, key, opts)
}

// TestHistoryRestoreConflict: a write by someone else after the history
// was read makes the restore fail with a conflict; nothing is
// overwritten.
func TestHistoryRestoreConflict(t *testing.T) {
	clock := newTestClock()
	store, k := podVersions(t)
	h := startHarness(t, readyEngine(clock, silentWatch{store}), Options{}, 120, 30)
	h.openHistory()
	if _, err := store.Put(context.Background(), k, []byte(`{"other":"writer"}`)); err != nil {
		t.Fatal(err)
	}
	h.keys("down", "R")
	h.waitFor("用 rev 2 的版本 2")
	h.keys("y")
	h.waitFor("冲突：读取历史后该键又被修改，未覆盖")
	h.finish()
	if kv := get(t, store, k); string(kv.Value) != `{"other":"writer"}` || kv.ModRevision != 4 {
		t.Fatalf("overwritten: %+v", kv)
	}
}

// TestHistoryCompacted: where the store no longer knows older versions
// the view says so, and the oldest known version is not compared with a
// made-up one.
func TestHistoryCompacted(t *testing.T) {
	clock := newTestClock()
	store, _ := podVersions(t)
	ctx := context.Background()
	if err := store.(interface {
		Compact(context.Context, int64) error
	}).Compact(ctx, 3); err != nil {
		t.Fatal(err)
	}
	h := startHarness(t, readyEngine(clock, store), Options{}, 120, 30)
	h.historyKey("2 个版本", "rev 2 及更早的历史已压缩")
	h.keys("down")
	h.waitFor(txtHistNoPrev)
	h.finish()
}

// TestHistoryHostile: values that carry terminal escape sequences are
// diffed and shown escaped, never sent to the terminal.
func TestHistoryHostile(t *testing.T) {
	clock := newTestClock()
	store, _ := versions(t, "plain\n", "plain\n\x1b]52;c;cHduZWQ=\x07\x1b[2J\n")
	h := startHarness(t, readyEngine(clock, store), Options{}, 120, 30)
	h.historyKey(`+\x1b]52;c;cHduZWQ=\x07\x1b[2J`)
	fm := h.finish()
	if v := fm.View(); strings.Contains(v, "\x1b]52") || strings.Contains(v, "\x1b[2J") {
		t.Fatal("a stored escape sequence reached the screen")
	}
}

// TestHistoryEndNote: the last line says where the history ends, for each
// way a store can end it.
func TestHistoryEndNote(t *testing.T) {
	created := backends.HistoryEntry{Type: backends.Created, KV: backends.KeyValue{ModRevision: 7, Version: 1}}
	for _, c := range []struct {
		h    historyState
		want string
	}{
		{historyState{entries: []backends.HistoryEntry{created}, stopsAtDelete: true, rev: 9}, "（rev 6 时键不存在，更早的不可见）"},
		{historyState{stopsAtDelete: true, rev: 9}, "（rev 9 时键不存在，更早的不可见）"},
		{historyState{entries: []backends.HistoryEntry{created}, compacted: 5}, "（rev 5 及更早的历史已压缩）"},
		{historyState{entries: []backends.HistoryEntry{created}, more: true}, "…"},
		{historyState{entries: []backends.HistoryEntry{created}}, txtHistComplete},
		{historyState{}, txtHistEmpty},
	} {
		if got := strings.TrimSpace(c.h.endNote()); got != c.want {
			t.Errorf("%+v: %q, want %q", c.h, got, c.want)
		}
	}
}

// TestHistoryRestoreAskedBeforeAChange: a change made while the question
// is open withdraws it (the view reads the history again), and a y then
// writes nothing; where the console cannot see the change, the restore is
// based on what the question showed and fails with a conflict.
func TestHistoryRestoreAskedBeforeAChange(t *testing.T) {
	for _, seen := range []bool{true, false} {
		t.Run(map[bool]string{true: "seen", false: "unseen"}[seen], func(t *testing.T) {
			clock := newTestClock()
			store, k := podVersions(t)
			var s backends.Store = store
			if !seen {
				s = silentWatch{store}
			}
			h := startHarness(t, readyEngine(clock, s), Options{}, 120, 30)
			h.openHistory()
			h.keys("down", "down", "R")
			h.waitFor("覆盖当前值（rev 3）")
			if _, err := store.Put(context.Background(), k, []byte(`{"other":"writer"}`)); err != nil {
				t.Fatal(err)
			}
			if seen {
				h.waitFor(txtHistRestoreStale, "4 个版本")
			}
			h.keys("y")
			if !seen {
				h.waitFor("冲突：读取历史后该键又被修改，未覆盖")
			}
			fm := h.finish()
			if kv := get(t, store, k); string(kv.Value) != `{"other":"writer"}` || kv.ModRevision != 4 {
				t.Fatalf("overwritten: %+v", kv)
			}
			if fm.br.hist.confirm {
				t.Fatal("the question is still open")
			}
		})
	}
}

// TestHistoryPagesAndReload: a long history is read a page at a time as
// the cursor goes down, and a change to the key adds the new version on
// top without dropping the pages read or moving the selection.
func TestHistoryPagesAndReload(t *testing.T) {
	clock := newTestClock()
	var values []string
	for i := 1; i <= 120; i++ {
		values = append(values, fmt.Sprintf("v%d", i))
	}
	store, k := versions(t, values...)
	ctx := context.Background()
	h := startHarness(t, readyEngine(clock, store), Options{}, 120, 30)
	h.historyKey("≥50 个版本")
	h.keys("end")
	h.waitFor("≥100 个版本")
	h.keys("end")
	h.waitFor("120 个版本")
	h.keys("end")
	h.waitFor("@@ -0,0 +1,1 @@", "+v1")
	h.keys("up")
	h.waitFor("-v1", "+v2")
	if _, err := store.Put(ctx, k, []byte("v121")); err != nil {
		t.Fatal(err)
	}
	h.waitFor("121 个版本")
	fm := h.finish()
	hs := fm.br.hist
	if len(hs.entries) != 121 || hs.more || hs.entries[0].KV.ModRevision != 121 {
		t.Fatalf("%d entries, more %v", len(hs.entries), hs.more)
	}
	if sel := hs.entries[hs.cursor].KV; sel.ModRevision != 2 {
		t.Fatalf("selection moved to rev %d", sel.ModRevision)
	}
}

// TestHistoryEmptyValue: a version with an empty value is said to be one,
// in the diff and in full, and nothing keeps spinning.
func TestHistoryEmptyValue(t *testing.T) {
	clock := newTestClock()
	store, _ := versions(t, "", "now set")
	h := startHarness(t, readyEngine(clock, store), Options{}, 120, 30)
	h.historyKey("+now set")
	h.keys("down")
	h.waitFor(txtHistCreatedEmpty)
	h.keys("enter")
	h.waitFor(txtHistFull, txtEmptyValue)
	fm := h.finish()
	if !fm.br.hist.paneReady || fm.br.hist.busy {
		t.Fatal("the empty value's pane is still being rendered")
	}
}

// TestHistoryRestoreDeleted: a key deleted while its history is open can
// be brought back from it (a Create), even with a filter on the level; the
// view stays on the history.
func TestHistoryRestoreDeleted(t *testing.T) {
	clock := newTestClock()
	store, k := podVersions(t)
	h := startHarness(t, readyEngine(clock, store), Options{}, 120, 30)
	h.openHistory()
	h.keys("esc", "/")
	h.typeText("we")
	h.keys("enter")
	h.waitFor("过滤 we")
	h.keys("H")
	h.waitFor("3 个版本")
	if _, err := store.Delete(context.Background(), k, 0); err != nil {
		t.Fatal(err)
	}
	// The selection stays on the version it was on, now the second.
	h.waitFor("4 个版本", txtHistDeleted)
	h.keys("R")
	h.waitFor("用 rev 3 的版本 3 覆盖当前值（rev 4）")
	h.keys("y")
	h.waitFor("已恢复 rev 3 的值（新版本 rev 5）")
	fm := h.finish()
	if fm.br.mode != modeHistory || fm.br.filter != "we" {
		t.Fatalf("mode %v filter %q", fm.br.mode, fm.br.filter)
	}
	if kv := get(t, store, k); kv.Version != 1 || !strings.Contains(string(kv.Value), `"app":"web"`) {
		t.Fatalf("restored %+v", kv)
	}
}
