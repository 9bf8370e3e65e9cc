package memory_test

import (
	"fmt"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/k3/k3-storage/backends"
	"github.com/k3/k3-storage/backends/memory"
)

// filled returns a store holding n keys /registry/pods/ns-XXX/pod-XXXXXXX.
func filled(b *testing.B, n int) (*memory.Store, []string) {
	b.Helper()
	s := memory.New(memory.Options{History: 1000})
	b.Cleanup(func() { s.Close() })
	keys := make([]string, n)
	value := []byte(`{"kind":"Pod","apiVersion":"v1"}`)
	for i := range keys {
		keys[i] = string(appendKey(nil, i))
		if _, err := s.Put(b.Context(), keys[i], value); err != nil {
			b.Fatal(err)
		}
	}
	return s, keys
}

var sizes = []int{10_000, 1_000_000}

// BenchmarkGet reads keys in a scattered order. The caller builds each key
// as a k3 process would (so the key itself is hot in cache and what is
// measured is the store's lookup); it costs about 40 ns of the total, see
// BenchmarkKeyBuild.
func BenchmarkGet(b *testing.B) {
	for _, n := range sizes {
		b.Run(fmt.Sprintf("keys=%d", n), func(b *testing.B) {
			s, _ := filled(b, n)
			ctx := b.Context()
			buf := make([]byte, 0, 64)
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				buf = appendKey(buf[:0], (i*7919)%n)
				if _, err := s.Get(ctx, string(buf)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkKeyBuild(b *testing.B) {
	buf := make([]byte, 0, 64)
	var sink int
	for i := 0; b.Loop(); i++ {
		buf = appendKey(buf[:0], (i*7919)%1_000_000)
		sink += len(string(buf))
	}
	_ = sink
}

// appendKey appends the key filled uses for index i.
func appendKey(buf []byte, i int) []byte {
	buf = append(buf, "/registry/pods/ns-"...)
	buf = appendPadded(buf, i%1000, 3)
	buf = append(buf, "/pod-"...)
	return appendPadded(buf, i, 7)
}

func appendPadded(buf []byte, v, width int) []byte {
	var tmp [20]byte
	d := strconv.AppendInt(tmp[:0], int64(v), 10)
	for range width - len(d) {
		buf = append(buf, '0')
	}
	return append(buf, d...)
}

func BenchmarkPut(b *testing.B) {
	s := memory.New(memory.Options{})
	defer s.Close()
	ctx := b.Context()
	value := []byte(`{"kind":"Pod","apiVersion":"v1"}`)
	for i := 0; b.Loop(); i++ {
		if _, err := s.Put(ctx, fmt.Sprintf("/registry/pods/default/pod-%d", i%100_000), value); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkUpdateCAS(b *testing.B) {
	s := memory.New(memory.Options{})
	defer s.Close()
	ctx := b.Context()
	rev, err := s.Create(ctx, "/counter", []byte("0"))
	if err != nil {
		b.Fatal(err)
	}
	value := []byte("1")
	for b.Loop() {
		if rev, err = s.Update(ctx, "/counter", value, rev); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkListFirstPage lists the first 100 keys of a prefix holding all n
// keys; the time must not depend on n.
func BenchmarkListFirstPage(b *testing.B) {
	for _, n := range sizes {
		b.Run(fmt.Sprintf("keys=%d", n), func(b *testing.B) {
			s, _ := filled(b, n)
			ctx := b.Context()
			b.ResetTimer()
			for b.Loop() {
				page, err := s.List(ctx, "/registry/pods/", backends.ListOptions{Limit: 100})
				if err != nil || len(page.Items) != 100 || !page.More {
					b.Fatalf("page of %d, more %v, err %v", len(page.Items), page.More, err)
				}
			}
		})
	}
}

// BenchmarkWatchLatency measures the time from calling Put to receiving its
// event on a running Watch, reporting the median and the 99th percentile.
func BenchmarkWatchLatency(b *testing.B) {
	s := memory.New(memory.Options{})
	defer s.Close()
	ctx := b.Context()
	ch, err := s.Watch(ctx, "/w/", 0)
	if err != nil {
		b.Fatal(err)
	}
	value := []byte("v")
	lat := make([]time.Duration, 0, 1<<16)
	for i := 0; b.Loop(); i++ {
		start := time.Now()
		rev, err := s.Put(ctx, "/w/k", value)
		if err != nil {
			b.Fatal(err)
		}
		ev := <-ch
		lat = append(lat, time.Since(start))
		if ev.KV.ModRevision != rev {
			b.Fatalf("event at %d, want %d", ev.KV.ModRevision, rev)
		}
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Nanoseconds()), "p50-ns")
	b.ReportMetric(float64(lat[len(lat)*99/100].Nanoseconds()), "p99-ns")
}

// BenchmarkCount counts a prefix holding a tenth of the keys; the time must
// grow with log² of the key count, not with the count.
func BenchmarkCount(b *testing.B) {
	for _, n := range sizes {
		b.Run(fmt.Sprintf("keys=%d", n), func(b *testing.B) {
			s, _ := filled(b, n)
			ctx := b.Context()
			b.ResetTimer()
			for b.Loop() {
				c, err := s.Count(ctx, "/registry/pods/ns-0")
				if err != nil || c != int64(n/10) {
					b.Fatalf("count %d, %v; want %d", c, err, n/10)
				}
			}
		})
	}
}
