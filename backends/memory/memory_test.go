package memory_test

import (
	"errors"
	"fmt"
	"testing"

	"go.uber.org/goleak"

	"github.com/k3/k3-storage/backends"
	"github.com/k3/k3-storage/backends/backendtest"
	"github.com/k3/k3-storage/backends/memory"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestConformance(t *testing.T) {
	backendtest.Run(t, func(testing.TB) backends.Store { return memory.New(memory.Options{}) })
}

func TestHistoryBound(t *testing.T) {
	ctx := t.Context()
	s := memory.New(memory.Options{History: 10})
	defer s.Close()
	first, err := s.Put(ctx, "/a", []byte("0"))
	if err != nil {
		t.Fatal(err)
	}
	// A watcher that is not read falls behind as soon as more than History
	// events arrive after its position.
	slow, err := s.Watch(ctx, "/", first)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 300 {
		if _, err := s.Put(ctx, "/a", []byte(fmt.Sprint(i))); err != nil {
			t.Fatal(err)
		}
	}
	cur, compacted, err := s.Revision(ctx)
	if err != nil || cur != first+300 || compacted != cur-10 {
		t.Fatalf("Revision() = %d, %d, %v; want %d, %d", cur, compacted, err, first+300, first+290)
	}
	if _, err := s.Watch(ctx, "/", compacted); !errors.Is(err, backends.ErrCompacted) {
		t.Fatalf("Watch from revision %d beyond kept history: %v, want ErrCompacted", compacted, err)
	}
	if _, err := s.Watch(ctx, "/", compacted+1); err != nil {
		t.Fatalf("Watch from the oldest kept revision: %v", err)
	}
	last := first - 1
	for ev := range slow {
		if ev.Err != nil {
			if !errors.Is(ev.Err, backends.ErrCompacted) {
				t.Fatalf("slow watcher ended with %v, want ErrCompacted", ev.Err)
			}
			return
		}
		if ev.KV.ModRevision != last+1 {
			t.Fatalf("slow watcher got revision %d after %d", ev.KV.ModRevision, last)
		}
		last++
	}
	t.Fatal("slow watcher's channel closed without ErrCompacted")
}
