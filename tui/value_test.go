package tui

import (
	"context"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

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
