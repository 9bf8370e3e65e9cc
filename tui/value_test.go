package tui

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"

	"github.com/k3/k3-storage/backends"
)

// TestValueFollowsQuickMoves: the cursor moves twice while the first
// value read is in flight; the pane ends up showing where the cursor
// stopped, not the key passed on the way.
func TestValueFollowsQuickMoves(t *testing.T) {
	store := newStore(t, "a", "value of a", "b", "value of b", "c", "value of c")
	d := newDriver(t, &countingStore{Store: store}, 80, 24)
	if d.selected() != "a" || !d.b().val.loaded {
		t.Fatalf("selected %q loaded %v", d.selected(), d.b().val.loaded)
	}
	first := d.update(keyMsg("down"))  // reads b
	second := d.update(keyMsg("down")) // c, while b's read is in flight
	d.run(first)
	d.run(second)
	v := d.b().val
	if d.selected() != "c" || v.key != "c" || !v.loaded || string(v.kv.Value) != "value of c" {
		t.Fatalf("selected %q; pane %q loaded %v value %q", d.selected(), v.key, v.loaded, v.kv.Value)
	}
	if d.b().valBusy {
		t.Fatal("a value read is still marked in flight")
	}
}

// TestValueFollowsWatchRemoval: the selected key is deleted by another
// writer; the cursor stays on its row, now the next key, and the pane
// shows that key's value, not the deleted one's.
func TestValueFollowsWatchRemoval(t *testing.T) {
	store := newStore(t, "a", "value of a", "b", "value of b", "c", "value of c")
	d := newDriver(t, &countingStore{Store: store}, 80, 24)
	rev, err := store.Delete(context.Background(), "a", 0)
	if err != nil {
		t.Fatal(err)
	}
	// The last batch of a watch that then ended: its events count all
	// the same.
	d.run(func() tea.Msg {
		return watchEventsMsg{gen: d.b().watch.gen, closed: true, events: []backends.Event{
			{Type: backends.Deleted, KV: backends.KeyValue{Key: "a", ModRevision: rev}},
		}}
	})
	v := d.b().val
	if d.selected() != "b" || v.key != "b" || !v.loaded || string(v.kv.Value) != "value of b" {
		t.Fatalf("selected %q; pane %q loaded %v value %q", d.selected(), v.key, v.loaded, v.kv.Value)
	}
}

// TestValueFollowsEmptiedDirectory: a directory under the cursor turns
// out empty when counted and leaves the list; the pane shows the key that
// takes its row.
func TestValueFollowsEmptiedDirectory(t *testing.T) {
	store := newStore(t, "d/x", "in d", "k", "value of k")
	d := newDriver(t, &countingStore{Store: store}, 80, 24)
	if d.selected() != "d/" {
		t.Fatalf("selected %q", d.selected())
	}
	if _, err := store.Delete(context.Background(), "d/x", 0); err != nil {
		t.Fatal(err)
	}
	c := d.b().counts["d/"]
	c.stale, c.at = true, time.Time{}
	d.b().counts["d/"] = c
	d.run(d.b().ensureCounts(time.Time{}))
	v := d.b().val
	if d.selected() != "k" || v.key != "k" || !v.loaded || string(v.kv.Value) != "value of k" {
		t.Fatalf("selected %q; pane %q loaded %v value %q", d.selected(), v.key, v.loaded, v.kv.Value)
	}
}

// longValues are values of about n bytes whose text is one line (or a
// few very long ones).
func longValues(n int) map[string]string {
	cjk := strings.Repeat("中", n/3-2)
	return map[string]string{
		"ascii":       strings.Repeat("a", n),
		"cjk":         cjk,
		"json string": `{"data":"` + strings.Repeat("é", n/2-10) + `"}`,
		"json key":    `{"` + strings.Repeat("k", n-10) + `":1}`,
		"yaml":        "data: " + strings.Repeat("x", n-20) + "\nother: 1\n",
		"escapes":     strings.Repeat("\x1b[31m\u202e", n/8),
		"binary":      "\x00" + strings.Repeat("\xff", n-1),
		"long lines":  strings.Repeat(strings.Repeat("字", 2000)+"\n", max(n/6001, 2)),
	}
}

// TestRenderValueCutsLongLines: each line of a value is cut once when it
// is rendered, to a bounded width, with a mark that it goes on.
func TestRenderValueCutsLongLines(t *testing.T) {
	st := newStyles(true).value
	for name, v := range longValues(64 << 10) {
		t.Run(name, func(t *testing.T) {
			_, lines := renderValue([]byte(v), st)
			cut := 0
			for i, l := range lines {
				if w := ansi.StringWidth(l); w > maxLineCells+ansi.StringWidth(txtLineCut) {
					t.Fatalf("line %d is %d cells wide (%d bytes)", i, w, len(l))
				}
				if strings.HasSuffix(l, txtLineCut) {
					cut++
				}
			}
			if cut == 0 {
				t.Fatalf("no line is marked as cut (%d lines)", len(lines))
			}
		})
	}
	// Short lines are left alone.
	_, lines := renderValue([]byte(`{"a":"`+strings.Repeat("b", 300)+`"}`), st)
	if strings.Contains(strings.Join(lines, "\n"), txtLineCut) {
		t.Fatalf("a short line was cut: %q", lines)
	}
}

// TestLongValueFrame: a frame showing a 1.5 MiB one-line value draws the
// start of the line, and the hex view still reaches its last byte.
func TestLongValueFrame(t *testing.T) {
	v := strings.Repeat("中", backends.MaxValueSize/3-2) + "尾"
	store := newStore(t, "big", v)
	d := newDriver(t, &countingStore{Store: store}, 80, 24)
	if view := d.m.View(); !strings.Contains(view, "中中中中中中") || !strings.Contains(view, "x 查看全部字节") {
		t.Fatalf("the value (wrapped, with the mark of the cut) is not shown:\n%s", view)
	}
	d.press("w")
	if view := d.m.View(); !strings.Contains(view, "中中中中中中…") {
		t.Fatalf("the value is not shown cut:\n%s", view)
	}
	d.press("enter", "x", "end")
	if view := d.m.View(); !strings.Contains(view, "e5 b0 be") { // 尾
		t.Fatalf("the hex view does not reach the last byte:\n%s", view)
	}
}

// BenchmarkLongValueFrame measures a frame (View) showing a value of the
// largest size the stores accept (1.5 MiB) whose text is one line, or long
// lines, at 80×24.
//
//	go test ./tui/ -run '^$' -bench BenchmarkLongValueFrame -benchmem
func BenchmarkLongValueFrame(b *testing.B) {
	values := longValues(backends.MaxValueSize)
	names := make([]string, 0, len(values))
	for name := range values {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		b.Run(name, func(b *testing.B) {
			store := newStore(b, "big", values[name])
			d := newDriver(b, &countingStore{Store: store}, 80, 24)
			if !d.b().val.loaded {
				b.Fatal("value not loaded")
			}
			if d.b().val.kind == kindBinary {
				d.press("x") // as text
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				_ = d.m.View()
			}
		})
	}
}

func TestWrapRows(t *testing.T) {
	for _, tt := range []struct {
		in    string
		width int
		want  []string
	}{
		{"short", 10, []string{"short"}},
		{"abcdefgh", 3, []string{"abc", "def", "gh"}},
		{"中文字", 5, []string{"中文", "字"}},
		{"\x1b[31mabcdef\x1b[0mgh", 3, []string{"\x1b[31mabc\x1b[0m", "\x1b[31mdef\x1b[0m", "gh"}},
		{"\x1b[1m\x1b[31mabcd\x1b[0m", 2, []string{"\x1b[1m\x1b[31mab\x1b[0m", "\x1b[1m\x1b[31mcd\x1b[0m"}},
	} {
		if got := wrapRows(tt.in, tt.width); strings.Join(got, "|") != strings.Join(tt.want, "|") {
			t.Errorf("wrapRows(%q, %d) = %q, want %q", tt.in, tt.width, got, tt.want)
		}
	}
}

// TestValueWraps: a long one-line value that does not parse as JSON is
// readable in full: its lines wrap in the pane (w cuts them instead), and
// a long key wraps above it. Scrolling counts the wrapped rows.
func TestValueWraps(t *testing.T) {
	k := "/registry/pods/default/" + strings.Repeat("a-very-long-name-", 4) + "end"
	v := `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"web","namespace":"default","labels":{"app":"web"}},"spec":{"nodeName":"node-1"}` // no closing brace
	store := newStore(t, k, v+"\n"+strings.Repeat("line\n", 40))
	d := newDriver(t, &countingStore{Store: store}, 80, 24)
	d.press("enter", "enter", "enter", "enter") // into /registry/pods/default/, the value
	flat := strings.ReplaceAll(d.m.View(), "│", "")
	flat = strings.Join(strings.Fields(flat), "")
	if !strings.Contains(flat, strings.ReplaceAll(v, " ", "")) || !strings.Contains(flat, "a-very-long-name-end") {
		t.Fatalf("the value or the key is not shown in full:\n%s", d.m.View())
	}
	body := d.b().valueBody()
	d.press("end")
	view := d.m.View()
	if !strings.Contains(view, fmt.Sprintf("/%d ─", len(d.b().val.lines))) {
		t.Fatalf("no position at the end:\n%s", view)
	}
	// From the end, paging up a whole screen of rows reaches the first line.
	for i := 0; i < 10; i++ {
		d.press("pgup")
	}
	if v := d.b().val; v.offset != 0 || v.sub != 0 {
		t.Fatalf("offset %d sub %d after paging up (body %d)", v.offset, v.sub, body)
	}
	d.press("w")
	if view := d.m.View(); !strings.Contains(view, `{"apiVersion":"v1","kind":"Pod","metadata":{…`) || !strings.Contains(view, txtWrapOff) {
		t.Fatalf("w does not cut long lines:\n%s", view)
	}
}
