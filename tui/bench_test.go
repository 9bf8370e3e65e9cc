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

	"github.com/k3/k3-storage/backends"
	"github.com/k3/k3-storage/backends/etcd"
	"github.com/k3/k3-storage/backends/etcd/etcdtest"
	"github.com/k3/k3-storage/backends/memory"
)

// scaleServices is the number of services the scale data set holds after
// its pods.
const scaleServices = 10

// scalePair returns pair i of the scale data set of n pods: pods spread
// over 10 namespaces (/registry/pods/ns-00/pod-0000000 …) with small JSON
// values for i < n, then scaleServices services.
func scalePair(n, i int) (string, []byte) {
	if i >= n {
		return fmt.Sprintf("/registry/services/default/svc-%d", i-n), []byte(`{"kind":"Service"}`)
	}
	return fmt.Sprintf("/registry/pods/ns-%02d/pod-%07d", i%10, i),
		[]byte(`{"kind":"Pod","metadata":{"name":"pod-` + strconv.Itoa(i) + `"}}`)
}

// scaleStore fills a memory store with the scale data set of n pods.
func scaleStore(tb testing.TB, n int) *memory.Store {
	tb.Helper()
	s := memory.New(memory.Options{})
	ctx := context.Background()
	for i := 0; i < n+scaleServices; i++ {
		k, v := scalePair(n, i)
		if _, err := s.Put(ctx, k, v); err != nil {
			tb.Fatal(err)
		}
	}
	return s
}

// scaleEtcd opens a Store on etcd holding the scale data set of n pods,
// closed when tb ends. The etcd is the one K3_TEST_ETCD_ENDPOINTS names
// (give it one in another process to measure the console's memory alone;
// the benchmark owns /registry/ there: the data set is loaded once, over
// anything else under it, and reused by later runs) or else an embedded
// one, whose memory then counts in this process's.
func scaleEtcd(tb testing.TB, n int) (store backends.Store, external bool) {
	tb.Helper()
	ctx := context.Background()
	external = os.Getenv(etcdtest.EnvEndpoints) != ""
	endpoints := etcdtest.Start(tb)
	s, err := etcd.Open(ctx, etcd.Options{Endpoints: endpoints})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	have, err := s.Count(ctx, "/registry/")
	if err != nil {
		tb.Fatal(err)
	}
	if have != int64(n+scaleServices) {
		// Not this data set: replace whatever is under /registry/.
		start := time.Now()
		if err := etcdtest.DeletePrefix(ctx, endpoints, "/registry/"); err != nil {
			tb.Fatal(err)
		}
		if err := etcdtest.Fill(ctx, endpoints, n+scaleServices, func(i int) (string, []byte) { return scalePair(n, i) }); err != nil {
			tb.Fatal(err)
		}
		tb.Logf("loaded %d keys into etcd at %v in %v", n+scaleServices, endpoints, time.Since(start).Round(time.Second))
	}
	return s, external
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
		{name: "down", setup: []string{"enter", "enter", "enter"}, key: "down", undo: atEnd},
		{name: "pgdown", setup: []string{"enter", "enter", "enter"}, key: "pgdown", undo: atEnd},
		{name: "expand", setup: []string{"enter", "enter"}, key: "enter",
			undo: func(*driver) []string { return []string{"left"} }},
		{name: "back", setup: []string{"enter", "enter", "enter"}, key: "left",
			undo: func(*driver) []string { return []string{"enter"} }},
		{name: "filter", setup: []string{"enter", "enter", "enter", "/"}, key: "7",
			undo: func(*driver) []string { return []string{"backspace"} }},
		{name: "flat", setup: nil, key: "t",
			undo: func(*driver) []string { return []string{"t"} }},
		{name: "end", setup: []string{"enter", "enter", "enter"}, key: "end",
			undo: func(*driver) []string { return []string{"home"} }},
		{name: "history", setup: []string{"enter", "enter", "enter"}, key: "H",
			undo: func(*driver) []string { return []string{"esc"} }},
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
		benchKeypresses(b, "keys="+sizeLabel(n)+"/", store)
		store.Close()
	}
}

// BenchmarkKeypressEtcd is BenchmarkKeypress on etcd holding the 1M-key
// data set (see scaleEtcd: K3_TEST_ETCD_ENDPOINTS, or an embedded etcd).
func BenchmarkKeypressEtcd(b *testing.B) {
	store, _ := scaleEtcd(b, 1_000_000)
	benchKeypresses(b, "keys=1M/", store)
}

// benchKeypresses runs one sub-benchmark per kind of key press on store,
// named prefix + the kind.
func benchKeypresses(b *testing.B, prefix string, store backends.Store) {
	for _, kp := range keypresses() {
		b.Run(prefix+kp.name, func(b *testing.B) {
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

// resetPeak resets the process's peak RSS (VmHWM), so that each backend's
// run reports its own.
func resetPeak(tb testing.TB) {
	if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
		tb.Logf("peak RSS not reset (%v): it covers the whole process", err)
	}
}

// BenchmarkScaleMillion browses a store of 1,000,000 keys, in the memory
// backend and in etcd: every key press must give a frame in under 16 ms,
// and it reports the frame times and the process's memory, the store's and
// the console's. Run it with -benchtime=1x: one iteration is 2,723 key
// presses.
func BenchmarkScaleMillion(b *testing.B) {
	const n = 1_000_000
	b.Run("backend=memory", func(b *testing.B) {
		resetPeak(b)
		runtime.GC()
		debug.FreeOSMemory()
		base, _ := rss(b)
		store := scaleStore(b, n)
		defer store.Close()
		browseScale(b, store, base, "the 1M-key memory store")
	})
	b.Run("backend=etcd", func(b *testing.B) {
		resetPeak(b)
		runtime.GC()
		debug.FreeOSMemory()
		base, _ := rss(b)
		store, external := scaleEtcd(b, n)
		what := "an etcd client (the 1M keys are in etcd's own process)"
		if !external {
			what = "an embedded etcd holding the 1M keys (set " + etcdtest.EnvEndpoints + " for the console alone)"
		}
		browseScale(b, store, base, what)
	})
}

// browseScale drives the console through 2,723 key presses on store, which
// holds the scale data set, and reports frames and memory; base is the
// process's RSS before the store was made, what names what the store
// adds to it.
func browseScale(b *testing.B, store backends.Store, base int64, what string) {
	var ms runtime.MemStats
	runtime.GC()
	debug.FreeOSMemory()
	runtime.ReadMemStats(&ms)
	storeHeap := int64(ms.HeapAlloc)
	afterStore, _ := rss(b)

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
	var settled time.Duration
	for b.Loop() {
		start := time.Now()
		d = newDriver(b, cs, 80, 24) // in "/", the root's sole child
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
		settled += time.Since(start)
	}

	_, peak := rss(b)
	runtime.GC()
	debug.FreeOSMemory()
	runtime.ReadMemStats(&ms)
	consoleHeap := int64(ms.HeapAlloc) - storeHeap
	cur, _ := rss(b)
	b.Logf("browsing took %v and allocated %d MiB in %d key presses (%d List calls reading %d keys, %d Counts, %d Gets)",
		settled.Round(time.Millisecond), (ms.TotalAlloc-allocBefore)>>20, len(frames), cs.lists.Load(), cs.items.Load(), cs.counts.Load(), cs.gets.Load())
	sort.Slice(frames, func(i, j int) bool { return frames[i] < frames[j] })
	b.Logf("frames: %d, median %v, p99 %v, max %v", len(frames), frames[len(frames)/2],
		frames[len(frames)*99/100], frames[len(frames)-1])
	b.ReportMetric(float64(frames[len(frames)/2].Microseconds()), "median-frame-µs")
	b.ReportMetric(float64(frames[len(frames)-1].Microseconds()), "worst-frame-µs")
	for name, w := range worst {
		b.Logf("worst %-7s frame %v", name, w)
		if w > 16*time.Millisecond {
			b.Errorf("%s: a frame took %v", name, w)
		}
	}
	b.Logf("RSS: test binary %d MiB; with %s %d MiB (heap %d MiB); peak while browsing %d MiB; after browsing and a GC %d MiB; console heap %+d KiB, window %d rows, %d anchors",
		base>>20, what, afterStore>>20, storeHeap>>20, peak>>20, cur>>20, consoleHeap>>10, len(d.b().list.items), len(d.b().list.anchors))
	b.ReportMetric(float64(cur>>20), "RSS-MiB")
	b.ReportMetric(float64(peak>>20), "peak-RSS-MiB")
	if cur > 150<<20 {
		b.Logf("RSS %d MiB is over 150 MiB", cur>>20)
	}
}
