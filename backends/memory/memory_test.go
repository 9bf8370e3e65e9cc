package memory_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/k3/k3-storage/backends"
	"github.com/k3/k3-storage/backends/backendtest"
	"github.com/k3/k3-storage/backends/memory"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestConformance(t *testing.T) {
	backendtest.Run(t, func(testing.TB) backends.Store { return memory.New(memory.Options{}) }, backendtest.Traits{})
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

// TestCountMatchesList checks the rank-based Count against a listing for
// many prefixes over keys with shared and 0xFF-heavy prefixes.
func TestCountMatchesList(t *testing.T) {
	ctx := t.Context()
	s := memory.New(memory.Options{})
	defer s.Close()
	r := rand.New(rand.NewPCG(1, 2))
	alphabet := []string{"a", "b", "/", "\xff", "\x00", "ab", "a/"}
	randKey := func() string {
		var b strings.Builder
		for range 1 + r.IntN(6) {
			b.WriteString(alphabet[r.IntN(len(alphabet))])
		}
		return b.String()
	}
	for range 3000 {
		if _, err := s.Put(ctx, randKey(), nil); err != nil {
			t.Fatal(err)
		}
	}
	for range 300 {
		if _, err := s.Delete(ctx, randKey(), 0); err != nil && !errors.Is(err, backends.ErrNotFound) {
			t.Fatal(err)
		}
	}
	prefixes := []string{"", "\xff", "\xff\xff", "a", "a/", "\x00"}
	for range 300 {
		k := randKey()
		prefixes = append(prefixes, k[:min(len(k), 1+r.IntN(3))])
	}
	for _, p := range prefixes {
		page, err := s.List(ctx, p, backends.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		n, err := s.Count(ctx, p)
		if err != nil || n != int64(len(page.Items)) {
			t.Fatalf("Count(%q) = %d, %v; List has %d", p, n, err, len(page.Items))
		}
	}
}
