package tui

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/k3/k3-storage/backends"
)

// descend opens each level in turn, each being the only child of the one
// before.
func (h *harness) descend(levels ...string) {
	h.t.Helper()
	for _, l := range levels {
		h.open(0, l)
	}
}

func get(t *testing.T, s backends.Store, key string) backends.KeyValue {
	t.Helper()
	kv, err := s.Get(context.Background(), key)
	if err != nil {
		t.Fatalf("get %q: %v", key, err)
	}
	return kv
}

// TestCreateFlow creates a key with n, enter and ctrl+s and then shows it
// where it lives.
func TestCreateFlow(t *testing.T) {
	clock := newTestClock()
	store := newStore(t)
	h := startHarness(t, readyEngine(clock, store), Options{}, 80, 24)
	h.waitFor(txtEmptyLevel)
	h.keys("n")
	h.waitFor(txtNewTitle)
	h.typeText("/registry/pods/default/bar")
	h.keys("enter")
	h.waitFor(txtValueHint)
	h.typeText(`{"kind":"Pod"}`)
	h.keys("ctrl+s")
	h.waitFor("已创建 /registry/pods/default/bar", `"kind": "Pod"`)
	fm := h.golden()
	if kv := get(t, store, "/registry/pods/default/bar"); string(kv.Value) != `{"kind":"Pod"}` || kv.Version != 1 {
		t.Fatalf("stored %+v", kv)
	}
	if e, ok := fm.br.selected(); !ok || e.name != "/registry/pods/default/bar" {
		t.Fatalf("selected %+v", e)
	}
	// The view moved to the new key's folder, whose watch started after
	// the write: the feed has the write all the same.
	if f := fm.br.feed; len(f) != 1 || f[0].key != "/registry/pods/default/bar" || f[0].typ != backends.Created {
		t.Fatalf("feed %+v", f)
	}
}

// TestCreateExisting reports ErrKeyExists and keeps the form open.
func TestCreateExisting(t *testing.T) {
	clock := newTestClock()
	store := newStore(t, "/registry/pods/default/bar", `{"kind":"Pod"}`)
	h := startHarness(t, readyEngine(clock, store), Options{}, 80, 24)
	h.waitFor("共 1 个键")
	h.keys("n")
	h.waitFor(txtNewTitle)
	h.typeText("/registry/pods/default/bar")
	h.keys("enter")
	h.waitFor(txtValueHint)
	h.typeText(`{"kind":"Pod","new":true}`)
	h.keys("ctrl+s")
	h.waitFor("键已存在")
	fm := h.golden()
	if fm.br.mode != modeNewValue {
		t.Fatalf("mode %v after a failed create", fm.br.mode)
	}
	if kv := get(t, store, "/registry/pods/default/bar"); string(kv.Value) != `{"kind":"Pod"}` {
		t.Fatalf("overwritten: %q", kv.Value)
	}
}

// TestEditFlow edits a value and saves it with Update at the revision
// shown.
func TestEditFlow(t *testing.T) {
	clock := newTestClock()
	store := newStore(t, "/registry/pods/default/bar", `{"kind":"Pod"}`)
	h := startHarness(t, readyEngine(clock, store), Options{}, 80, 24)
	h.waitFor("共 1 个键")
	h.descend("/registry/", "/registry/pods/")
	h.open(0, "/registry/pods/default/", `"kind": "Pod"`)
	h.keys("e")
	h.waitFor("编辑 /registry/pods/default/bar（基于 rev 1）")
	h.keys("end", "backspace")
	h.typeText(`,"spec":{"nodeName":"node-1"}}`)
	h.keys("ctrl+s")
	h.waitFor("已保存", `"nodeName": "node-1"`)
	h.golden()
	kv := get(t, store, "/registry/pods/default/bar")
	if string(kv.Value) != `{"kind":"Pod","spec":{"nodeName":"node-1"}}` || kv.Version != 2 {
		t.Fatalf("stored %q version %d", kv.Value, kv.Version)
	}
}

// TestEditConflict: another writer updates the key between opening the
// editor and saving. The editor warns as soon as the watch reports it,
// and the save is refused as a conflict instead of overwriting.
func TestEditConflict(t *testing.T) {
	clock := newTestClock()
	store := newStore(t, "/registry/pods/default/bar", `{"kind":"Pod"}`)
	h := startHarness(t, readyEngine(clock, store), Options{}, 80, 24)
	h.waitFor("共 1 个键")
	h.descend("/registry/", "/registry/pods/")
	h.open(0, "/registry/pods/default/", `"kind": "Pod"`)
	h.keys("e")
	h.waitFor("编辑 /registry/pods/default/bar")
	other := `{"kind":"Pod","status":{"phase":"Running"}}`
	if _, err := store.Put(context.Background(), "/registry/pods/default/bar", []byte(other)); err != nil {
		t.Fatal(err)
	}
	h.waitFor("现为 rev 2")
	h.keys("end", "backspace")
	h.typeText(`,"mine":true}`)
	h.keys("ctrl+s")
	h.waitFor("冲突")
	fm := h.golden()
	if fm.br.mode != modeEdit {
		t.Fatalf("mode %v: the editor should stay open with the user's text", fm.br.mode)
	}
	if got := fm.br.ed.area.Value(); got != `{"kind":"Pod","mine":true}` {
		t.Fatalf("editor text %q", got)
	}
	if kv := get(t, store, "/registry/pods/default/bar"); string(kv.Value) != other {
		t.Fatalf("the other writer's value was overwritten: %q", kv.Value)
	}
}

// TestDeleteFlow deletes a key after confirming with y; any other key
// cancels.
func TestDeleteFlow(t *testing.T) {
	clock := newTestClock()
	store := newStore(t,
		"/registry/pods/default/a", `{"kind":"Pod"}`,
		"/registry/pods/default/b", `{"kind":"Pod"}`)
	h := startHarness(t, readyEngine(clock, store), Options{}, 80, 24)
	h.waitFor("共 2 个键")
	h.descend("/registry/", "/registry/pods/")
	h.open(0, "/registry/pods/default/", `"kind": "Pod"`)
	h.keys("d")
	h.waitFor("删除 /registry/pods/default/a（rev 1）？")
	h.keys("n")
	h.waitFor(txtDeleteCancelled)
	h.keys("d")
	h.waitFor("按 y 确认")
	h.keys("y")
	// The count and the change feed follow the watch's report of it.
	h.waitFor("已删除 /registry/pods/default/a", "共 1 个键", "- a")
	fm := h.golden()
	if _, err := store.Get(context.Background(), "/registry/pods/default/a"); !errors.Is(err, backends.ErrNotFound) {
		t.Fatalf("a still there: %v", err)
	}
	if fm.br.list.end() != 1 {
		t.Fatalf("%d rows after the delete", fm.br.list.end())
	}
	get(t, store, "/registry/pods/default/b")
}

// TestDeleteConflict refuses to delete a key changed since it was shown.
func TestDeleteConflict(t *testing.T) {
	clock := newTestClock()
	store := newStore(t, "k", "v1")
	h := startHarness(t, readyEngine(clock, store), Options{}, 80, 24)
	h.waitFor("共 1 个键", "v1")
	h.keys("d")
	h.waitFor("按 y 确认")
	// Update the key without the console seeing it first: its watch is
	// fast, so make the change and confirm in one go.
	if _, err := store.Put(context.Background(), "k", []byte("v2")); err != nil {
		t.Fatal(err)
	}
	h.keys("y")
	h.waitFor(txtErrDeleteConflict)
	get(t, store, "k")
}

// TestReadOnly refuses n, e and d and says so.
func TestReadOnly(t *testing.T) {
	clock := newTestClock()
	store := newStore(t, "k", "v1")
	h := startHarness(t, readyEngine(clock, store), Options{ReadOnly: true}, 80, 24)
	h.waitFor("共 1 个键", "v1", txtReadOnlyBadge)
	h.keys("n")
	h.waitFor(txtReadOnlyRefused)
	h.keys("e", "d")
	fm := h.golden()
	if fm.br.mode != modeBrowse {
		t.Fatalf("mode %v in read-only mode", fm.br.mode)
	}
	if kv := get(t, store, "k"); kv.Version != 1 {
		t.Fatalf("written in read-only mode: %+v", kv)
	}
}

// TestCreatePrefill: n fills the key field with the level when the level
// can be shown and typed as it is; a level with control, invisible or
// invalid bytes is not filled in (the field would show and create another
// key), and the form says why.
func TestCreatePrefill(t *testing.T) {
	tests := []struct {
		name, level string
		prefill     bool
	}{
		{"plain", "/registry/", true},
		{"chinese", "/注册表/", true},
		{"bidi", "/e\u202evil/", false},
		{"escape", "/e\x1b[31mvil/", false},
		{"zero width", "/e\u200bvil/", false},
		{"invalid utf8", "/e\xffvil/", false},
		{"tab", "/e\tvil/", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store := newStore(t, tt.level+"x", "1")
			d := newDriver(t, &countingStore{Store: store}, 80, 24)
			d.press("enter", "enter")
			if d.b().level != tt.level {
				t.Fatalf("level %q", d.b().level)
			}
			d.press("n")
			got, warn := d.b().ed.keyInput.Value(), d.b().ed.warn
			if tt.prefill {
				if got != tt.level || warn != "" {
					t.Fatalf("key field %q warn %q, want the level", got, warn)
				}
				return
			}
			if got != "" || warn != txtNoPrefill {
				t.Fatalf("key field %q warn %q, want it empty with a reason", got, warn)
			}
			checkInert(t, []byte(d.m.View()))
		})
	}
}

// TestCancelWhileSaving: once ctrl+s sent the write, esc cannot cancel it
// (the write happens regardless): the form stays open, says it is saving,
// and closes with the write's result.
func TestCancelWhileSaving(t *testing.T) {
	store := newStore(t, "a", "1", "b", "2")
	d := newDriver(t, &countingStore{Store: store}, 80, 24)
	d.press("e", "end", "0")
	save := d.update(keyMsg("ctrl+s"))
	d.press("esc", "9")
	b := d.b()
	if b.mode != modeEdit || b.status.text != txtStillSaving || b.ed.area.Value() != "10" {
		t.Fatalf("mode %v status %q text %q", b.mode, b.status.text, b.ed.area.Value())
	}
	d.run(save)
	if b.mode != modeBrowse || b.status.kind != statusOK {
		t.Fatalf("after the write: mode %v status %q", b.mode, b.status.text)
	}
	if kv := get(t, store, "a"); string(kv.Value) != "10" {
		t.Fatalf("stored %q", kv.Value)
	}
}

// TestDeleteResultWhileSaving: a delete's result arriving while the
// editor saves does not end the editor's save.
func TestDeleteResultWhileSaving(t *testing.T) {
	store := newStore(t, "a", "1", "b", "2")
	d := newDriver(t, &countingStore{Store: store}, 80, 24)
	d.press("d")
	del := d.update(keyMsg("y"))
	d.press("down", "e", "end", "0")
	save := d.update(keyMsg("ctrl+s"))
	d.run(del)
	d.press("esc")
	if b := d.b(); b.mode != modeEdit || !b.ed.saving {
		t.Fatalf("mode %v saving %v after the delete's result", b.mode, b.ed.saving)
	}
	d.run(save)
	if kv := get(t, store, "b"); string(kv.Value) != "20" {
		t.Fatalf("stored %q", kv.Value)
	}
}

// TestCreateAfterCreate: after a save the browser is in the new key's
// folder, and the next n fills the field with it. Typing a full key (a
// leading "/") replaces the folder instead of being appended to it, and
// typing a name adds it to the folder; in flat mode alike. A key with "//"
// is saved only after a warning and a second enter.
func TestCreateAfterCreate(t *testing.T) {
	clock := newTestClock()
	store := newStore(t)
	h := startHarness(t, readyEngine(clock, store), Options{}, 80, 24)
	h.waitFor(txtEmptyLevel)
	create := func(k, v string, wait ...string) {
		h.keys("n")
		h.waitFor(txtNewTitle)
		h.typeText(k)
		h.keys("enter")
		h.waitFor(txtValueHint)
		h.typeText(v)
		h.keys("ctrl+s")
		h.waitFor(wait...)
	}
	create("/registry/pods/default/web", `{"kind":"Pod"}`, "已创建 /registry/pods/default/web", "/registry/pods/default/ · ")
	h.keys("n")
	h.waitFor(txtKeyHintPrefilled, txtKeyPrompt+"/registry/pods/default/")
	h.keys("esc")
	h.waitFor(txtEditCancelled)
	create("/registry/pods/default/redis", `{"kind":"Pod"}`, "已创建 /registry/pods/default/redis")
	create("db", `{"kind":"Pod"}`, "已创建 /registry/pods/default/db")
	h.keys("t")
	h.waitFor(txtFlatOn)
	create("/registry/pods/default/cache", "1", "已创建 /registry/pods/default/cache")
	// A doubled slash: warned, kept in the form, saved on a second enter.
	h.keys("n")
	h.waitFor(txtNewTitle)
	h.typeText("x//y")
	h.keys("enter")
	h.waitFor(txtDoubleSlash)
	h.keys("enter")
	h.waitFor(txtValueHint)
	h.typeText("1")
	h.keys("ctrl+s")
	h.waitFor("已创建 /registry/pods/default/x//y")
	h.finish()
	var keys []string
	page, err := store.List(context.Background(), "", backends.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, kv := range page.Items {
		keys = append(keys, kv.Key)
	}
	want := "/registry/pods/default/cache,/registry/pods/default/db,/registry/pods/default/redis,/registry/pods/default/web,/registry/pods/default/x//y"
	if got := strings.Join(keys, ","); got != want {
		t.Fatalf("keys %s\nwant %s", got, want)
	}
}

// TestEditNoLongerJSON: saving text that does not parse as JSON over a
// value that did asks first, saying where it stops parsing; a second
// ctrl+s saves it, any other key withdraws the question.
func TestEditNoLongerJSON(t *testing.T) {
	store := newStore(t, "k", `{"kind":"Pod"}`, "t", "plain text")
	d := newDriver(t, &countingStore{Store: store}, 80, 24)
	d.press("e", "end", "backspace", "ctrl+s")
	want := fmt.Sprintf(txtNotJSONAt, 1, 14)
	if b := d.b(); b.mode != modeEdit || b.ed.ask != want || b.ed.saving {
		t.Fatalf("mode %v ask %q saving %v", b.mode, b.ed.ask, b.ed.saving)
	}
	if view := d.m.View(); !strings.Contains(view, "? 原值是 JSON") {
		t.Fatalf("the question is not shown:\n%s", view)
	}
	d.press("x") // another key withdraws it
	if d.b().ed.ask != "" {
		t.Fatalf("ask %q after another key", d.b().ed.ask)
	}
	d.press("backspace", "ctrl+s", "ctrl+s")
	if kv := get(t, store, "k"); string(kv.Value) != `{"kind":"Pod"` {
		t.Fatalf("stored %q", kv.Value)
	}
	// Text over text, and JSON over JSON, save at once.
	d.press("down", "e", "end", "!", "ctrl+s")
	if kv := get(t, store, "t"); string(kv.Value) != "plain text!" {
		t.Fatalf("stored %q", kv.Value)
	}
}

func TestLineCol(t *testing.T) {
	for _, tt := range []struct {
		s         string
		off, l, c int
	}{
		{"abc", 0, 1, 1}, {"abc", 2, 1, 3}, {"a\nbc", 3, 2, 2}, {"中\n文x", 7, 2, 2}, {"ab", 99, 1, 3},
	} {
		if l, c := lineCol(tt.s, tt.off); l != tt.l || c != tt.c {
			t.Errorf("lineCol(%q, %d) = %d, %d; want %d, %d", tt.s, tt.off, l, c, tt.l, tt.c)
		}
	}
}

// TestEditTooManyLines: the text area holds at most maxEditLines lines and
// drops the rest; a longer value is not opened (saving it would cut it),
// and text pasted past the limit is reported.
func TestEditTooManyLines(t *testing.T) {
	long := strings.Repeat("x\n", maxEditLines) + "end"
	store := newStore(t, "k", long)
	d := newDriver(t, &countingStore{Store: store}, 80, 24)
	d.press("e")
	if b := d.b(); b.mode != modeBrowse || b.status.text != fmt.Sprintf(txtEditTooManyLines, maxEditLines) {
		t.Fatalf("mode %v status %q", b.mode, b.status.text)
	}
	d.press("n", "other", "enter")
	d.update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(long), Paste: true})
	if w := d.b().ed.warn; w != fmt.Sprintf(txtPasteTooManyLines, maxEditLines) {
		t.Fatalf("warn %q", w)
	}
}

// TestEditBeforeValue: e pressed while the value pane still reads the
// value opens the editor at once; it reads the value itself, and the keys
// typed meanwhile go to it, not to the browser.
func TestEditBeforeValue(t *testing.T) {
	store := newStore(t, "a", "value of a", "b", "value of b", "c", "value of c")
	d := newDriver(t, &countingStore{Store: store}, 80, 24)
	move := d.update(keyMsg("down")) // b's read is in flight
	edit := d.update(keyMsg("e"))
	if b := d.b(); b.mode != modeEdit || !b.ed.loading {
		t.Fatalf("mode %v loading %v", b.mode, b.ed.loading)
	}
	if view := d.m.View(); !strings.Contains(view, "编辑 b") || !strings.Contains(view, txtReading) {
		t.Fatalf("no reading editor:\n%s", view)
	}
	for _, k := range []string{"end", "!", "d", "n"} { // as browser keys: to the end, delete, new
		d.update(keyMsg(k))
	}
	d.run(move)
	d.run(edit)
	d.press("ctrl+s")
	if kv := get(t, store, "b"); string(kv.Value) != "value of b!dn" {
		t.Fatalf("stored %q", kv.Value)
	}
	if b := d.b(); b.mode != modeBrowse || d.selected() != "b" {
		t.Fatalf("mode %v selected %q", b.mode, d.selected())
	}
	// esc while it reads cancels, and the read's answer opens nothing.
	move = d.update(keyMsg("down"))
	edit = d.update(keyMsg("e"))
	d.update(keyMsg("esc"))
	d.run(move)
	d.run(edit)
	if b := d.b(); b.mode != modeBrowse {
		t.Fatalf("mode %v after esc", b.mode)
	}
	// A value the editor cannot take is refused once read.
	if _, err := store.Put(context.Background(), "c", []byte("bell\a")); err != nil {
		t.Fatal(err)
	}
	d.press("up")
	move = d.update(keyMsg("down"))
	edit = d.update(keyMsg("e"))
	d.run(move)
	d.run(edit)
	if b := d.b(); b.mode != modeBrowse || b.status.text != txtEditUnsafe {
		t.Fatalf("mode %v status %q", b.mode, b.status.text)
	}
}
