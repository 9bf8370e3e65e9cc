package tui

import (
	"testing"
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
