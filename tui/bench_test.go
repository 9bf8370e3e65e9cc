package tui

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/k3/k3-storage/backends/memory"
)

// scaleStore fills a memory store with n pods spread over 10 namespaces
// (/registry/pods/ns-00/pod-0000000 …), small JSON values, plus a few
// services.
func scaleStore(tb testing.TB, n int) *memory.Store {
	tb.Helper()
	s := memory.New(memory.Options{})
	ctx := context.Background()
	for i := 0; i < n; i++ {
		k := fmt.Sprintf("/registry/pods/ns-%02d/pod-%07d", i%10, i)
		if _, err := s.Put(ctx, k, []byte(`{"kind":"Pod","metadata":{"name":"pod-`+strconv.Itoa(i)+`"}}`)); err != nil {
			tb.Fatal(err)
		}
	}
	for i := 0; i < 10; i++ {
		if _, err := s.Put(ctx, fmt.Sprintf("/registry/services/default/svc-%d", i), []byte(`{"kind":"Service"}`)); err != nil {
			tb.Fatal(err)
		}
	}
	return s
}

// keypress is one kind of key press measured: setup brings the console
// to where the key is pressed, key is the key, and undo (not timed) puts
// things back when the key cannot simply be pressed again.
type keypress struct {
	name  string
	setup []string
	key   string
	undo  func(d *driver) []string
}

// atEnd presses home once the cursor nears the end of the level.
func atEnd(d *driver) []string {
	l := &d.b().list
	if !l.more && d.b().cursor >= l.end()-d.b().rows-1 {
		return []string{"home"}
	}
	return nil
}

func keypresses() []keypress {
	return []keypress{
		{name: "down", setup: []string{"enter", "enter", "enter", "enter"}, key: "down", undo: atEnd},
		{name: "pgdown", setup: []string{"enter", "enter", "enter", "enter"}, key: "pgdown", undo: atEnd},
		{name: "expand", setup: []string{"enter", "enter", "enter"}, key: "enter",
			undo: func(*driver) []string { return []string{"left"} }},
		{name: "back", setup: []string{"enter", "enter", "enter", "enter"}, key: "left",
			undo: func(*driver) []string { return []string{"enter"} }},
		{name: "filter", setup: []string{"enter", "enter", "enter", "enter", "/"}, key: "7",
			undo: func(*driver) []string { return []string{"backspace"} }},
		{name: "flat", setup: nil, key: "t",
			undo: func(*driver) []string { return []string{"t"} }},
		{name: "end", setup: []string{"enter", "enter", "enter", "enter"}, key: "end",
			undo: func(*driver) []string { return []string{"home"} }},
	}
}

// BenchmarkKeypress measures one key press of each kind at 80×24: the
// time to the first frame (Update + View, reported as frame-ns/op) and
// the whole op (ns/op), which adds running the commands the key issued
// (the store reads) and the frames that show their results. Counting is
// included where a key shows new directories. Watches are off (their
// reading command waits for changes).
func BenchmarkKeypress(b *testing.B) {
	sizes := []int{10_000, 1_000_000}
	if testing.Short() {
		sizes = sizes[:1]
	}
	for _, n := range sizes {
		store := scaleStore(b, n)
		for _, kp := range keypresses() {
			b.Run(fmt.Sprintf("keys=%s/%s", sizeLabel(n), kp.name), func(b *testing.B) {
				d := newDriver(b, &countingStore{Store: store}, 80, 24)
				d.press(kp.setup...)
				var frame time.Duration
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					start := time.Now()
					cmd := d.update(keyMsg(kp.key))
					_ = d.m.View()
					frame += time.Since(start)
					d.run(cmd)
					_ = d.m.View()
					if kp.undo != nil {
						if undo := kp.undo(d); undo != nil {
							b.StopTimer()
							d.press(undo...)
							b.StartTimer()
						}
					}
				}
				b.ReportMetric(float64(frame.Nanoseconds())/float64(b.N), "frame-ns/op")
			})
		}
		store.Close()
	}
}

func sizeLabel(n int) string {
	if n >= 1_000_000 {
		return strconv.Itoa(n/1_000_000) + "M"
	}
	return strconv.Itoa(n/1000) + "k"
}

// rss reads the resident set size (and its peak) from /proc.
func rss(tb testing.TB) (cur, peak int64) {
	tb.Helper()
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		tb.Skip("no /proc/self/status:", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		v, _ := strconv.ParseInt(f[1], 10, 64)
		switch f[0] {
		case "VmRSS:":
			cur = v << 10
		case "VmHWM:":
			peak = v << 10
		}
	}
	return cur, peak
}

// BenchmarkScaleMillion browses a store of 1,000,000 keys: every key press
// must give a frame in under 16 ms, and it reports the frame times and the
// process's memory, the store's and the console's. Run it with
// -benchtime=1x: one iteration is 2,723 key presses.
func BenchmarkScaleMillion(b *testing.B) {
	t := b
	runtime.GC()
	base, _ := rss(t)
	var ms runtime.MemStats
	store := scaleStore(t, 1_000_000)
	defer store.Close()
	runtime.GC()
	debug.FreeOSMemory()
	runtime.ReadMemStats(&ms)
	storeHeap := int64(ms.HeapAlloc)
	afterStore, _ := rss(t)

	cs := &countingStore{Store: store}
	allocBefore := ms.TotalAlloc
	worst := map[string]time.Duration{}
	var frames []time.Duration
	var d *driver
	press := func(name, key string) {
		start := time.Now()
		cmd := d.update(keyMsg(key))
		_ = d.m.View()
		f := time.Since(start)
		frames = append(frames, f)
		worst[name] = max(worst[name], f)
		d.run(cmd)
		_ = d.m.View()
	}
	for b.Loop() {
		d = newDriver(t, cs, 80, 24)
		press("expand", "enter")
		press("expand", "enter")
		press("expand", "enter")
		for i := 0; i < 3; i++ {
			press("down", "down")
		}
		press("expand", "enter")
		for i := 0; i < 2000; i++ {
			press("down", "down")
		}
		for i := 0; i < 300; i++ {
			press("pgdown", "pgdown")
		}
		for i := 0; i < 300; i++ {
			press("pgup", "pgup")
		}
		press("end", "end")
		press("home", "home")
		press("filter", "/")
		for _, c := range "pod-00042" {
			press("filter", string(c))
		}
		press("filter", "esc")
		press("back", "left")
		press("flat", "t")
		for i := 0; i < 100; i++ {
			press("pgdown", "pgdown")
		}
		press("flat", "t")
	}

	_, peak := rss(t)
	runtime.GC()
	debug.FreeOSMemory()
	runtime.ReadMemStats(&ms)
	consoleHeap := int64(ms.HeapAlloc) - storeHeap
	cur, _ := rss(t)
	t.Logf("browsing allocated %d MiB in %d key presses (%d List calls reading %d keys, %d Counts, %d Gets)",
		(ms.TotalAlloc-allocBefore)>>20, len(frames), cs.lists.Load(), cs.items.Load(), cs.counts.Load(), cs.gets.Load())
	sort.Slice(frames, func(i, j int) bool { return frames[i] < frames[j] })
	t.Logf("frames: %d, median %v, p99 %v, max %v", len(frames), frames[len(frames)/2],
		frames[len(frames)*99/100], frames[len(frames)-1])
	b.ReportMetric(float64(frames[len(frames)/2].Microseconds()), "median-frame-µs")
	b.ReportMetric(float64(frames[len(frames)-1].Microseconds()), "worst-frame-µs")
	for name, w := range worst {
		t.Logf("worst %-7s frame %v", name, w)
		if w > 16*time.Millisecond {
			t.Errorf("%s: a frame took %v", name, w)
		}
	}
	t.Logf("RSS: test binary %d MiB; with the 1M-key store %d MiB (store heap %d MiB); peak while browsing %d MiB; after browsing and a GC %d MiB; console heap %+d KiB, window %d rows, %d anchors",
		base>>20, afterStore>>20, storeHeap>>20, peak>>20, cur>>20, consoleHeap>>10, len(d.b().list.items), len(d.b().list.anchors))
	b.ReportMetric(float64(cur>>20), "RSS-MiB")
	if cur > 150<<20 {
		t.Logf("RSS %d MiB is over 150 MiB", cur>>20)
	}
}
