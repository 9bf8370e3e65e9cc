package tui

import (
	"context"
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
	if view := d.m.View(); !strings.Contains(view, "中中中中中中…") {
		t.Fatalf("the value is not shown:\n%s", view)
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
