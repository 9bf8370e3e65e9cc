package memory

import (
	"testing"

	"github.com/k3/k3-storage/backends"
)

// TestEventRing: the ring holds the newest events up to its limit, in
// order, through growth, overwrites and drops.
func TestEventRing(t *testing.T) {
	ev := func(rev int64) backends.Event { return backends.Event{KV: backends.KeyValue{ModRevision: rev}} }
	r := newEventRing(100)
	oldest := int64(1)
	for rev := int64(1); rev <= 1000; rev++ {
		if r.push(ev(rev)) {
			oldest++
		}
		if rev%7 == 0 && r.len() > 3 {
			r.dropFront(3)
			oldest += 3
		}
		if want := int(rev - oldest + 1); r.len() != want || r.len() > 100 {
			t.Fatalf("after %d: %d events, want %d (at most 100)", rev, r.len(), want)
		}
		for i := range r.len() {
			if got := r.at(i).KV.ModRevision; got != oldest+int64(i) {
				t.Fatalf("after %d: event %d is revision %d, want %d", rev, i, got, oldest+int64(i))
			}
		}
	}
	if len(r.buf) != 100 {
		t.Fatalf("capacity %d, want the limit", len(r.buf))
	}
	r.reset()
	if r.len() != 0 || r.buf != nil {
		t.Fatal("reset kept events")
	}
}
