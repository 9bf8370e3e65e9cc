package dump_test

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/k3/k3-storage/backends"
	"github.com/k3/k3-storage/backends/memory"
	"github.com/k3/k3-storage/dump"
)

// Benchmarks of a full export and a full import of benchKeys keys on the
// memory store, each beside a baseline that does the same store work with
// no format: Lists writing the raw key and value bytes, and a loop of
// Creates. Each op is one whole export or import; run them as
//
//	go test -run '^$' -bench . -benchtime 1x -count 3 ./dump/
//
// Besides time they report peak-MB, the peak resident set (VmHWM) during
// the op above the process's resident set before it, which for exports
// includes the filled store; for imports, store-MB is what the filled store
// holds (resident set after the op and a collection, less before), and
// above-store-MB the difference.
//
// With the default GOGC the collector lets garbage grow to the size of the
// live heap (here the store's ~300 MB) before it collects, and the store
// makes most of the garbage itself (List copies every value; Create's
// event log), so those peaks show the collector's pacing as much as what
// anyone holds. The "limited" variants therefore run the same op with the
// collector driven only by a memory limit of limitMB above the store
// (debug.SetMemoryLimit, GOGC off): an op that holds more than that would
// collect without end and its peak would exceed the limit; it completes,
// at some cost in time, when it does not.
const benchKeys = 1_000_000

// benchKV appends key i and its value (about 90 bytes of JSON).
func benchKV(key, value []byte, i int) ([]byte, []byte) {
	key = append(key[:0], "/registry/pods/ns-"...)
	key = appendPadded(key, i%1000, 3)
	key = append(key, "/pod-"...)
	key = appendPadded(key, i, 7)
	value = append(value[:0], `{"kind":"Pod","apiVersion":"v1","metadata":{"name":"pod-`...)
	value = appendPadded(value, i, 7)
	value = append(value, `","namespace":"ns-`...)
	value = appendPadded(value, i%1000, 3)
	value = append(value, `"}}`...)
	return key, value
}

func appendPadded(buf []byte, v, width int) []byte {
	s := strconv.Itoa(v)
	for range width - len(s) {
		buf = append(buf, '0')
	}
	return append(buf, s...)
}

func benchStore(b *testing.B, n int) *memory.Store {
	b.Helper()
	s := memory.New(memory.Options{})
	var key, value []byte
	for i := range n {
		key, value = benchKV(key, value, i)
		if _, err := s.Create(b.Context(), string(key), value); err != nil {
			b.Fatal(err)
		}
	}
	return s
}

// cpuTime returns the process's user and system CPU time: on a shared
// machine it varies less than the wall time per op, and it includes the
// collector's work on other threads.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// rss reads a field of /proc/self/status in bytes (VmRSS, VmHWM).
func rss(b *testing.B, field string) int64 {
	b.Helper()
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		b.Skipf("no /proc/self/status: %v", err)
	}
	for line := range bytes.Lines(data) {
		if rest, ok := bytes.CutPrefix(line, []byte(field+":")); ok {
			kb, err := strconv.ParseInt(string(bytes.TrimSuffix(bytes.TrimSpace(rest), []byte(" kB"))), 10, 64)
			if err != nil {
				b.Fatalf("%s: %v", field, err)
			}
			return kb << 10
		}
	}
	b.Fatalf("no %s in /proc/self/status", field)
	return 0
}

// settle collects garbage, returns freed memory to the system and resets
// the peak resident set, and returns the resident set.
func settle(b *testing.B) int64 {
	b.Helper()
	runtime.GC()
	debug.FreeOSMemory()
	if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
		b.Skipf("cannot reset VmHWM: %v", err)
	}
	return rss(b, "VmRSS")
}

const mb = 1 << 20

// limitMB is the memory limit above the store of the "limited" variants.
const limitMB = 100

// limited runs op with the collector driven only by a memory limit of
// limitMB above base, and restores the defaults.
func limited(base int64, op func()) {
	oldLimit := debug.SetMemoryLimit(base + limitMB*mb)
	oldPercent := debug.SetGCPercent(-1)
	defer func() {
		debug.SetGCPercent(oldPercent)
		debug.SetMemoryLimit(oldLimit)
	}()
	op()
}

func BenchmarkExport(b *testing.B) {
	s := benchStore(b, benchKeys)
	defer s.Close()
	run := func(b *testing.B, limit bool, export func(w io.Writer) (int64, error)) {
		base := settle(b)
		var n int64
		cpu := cpuTime()
		op := func() {
			for b.Loop() {
				var err error
				if n, err = export(io.Discard); err != nil {
					b.Fatal(err)
				}
			}
		}
		if limit {
			limited(base, op)
		} else {
			op()
		}
		b.ReportMetric((cpuTime()-cpu).Seconds()/float64(b.N), "cpu-s/op")
		b.ReportMetric(float64(rss(b, "VmHWM")-base)/mb, "peak-MB")
		b.ReportMetric(float64(n)/mb, "out-MB")
	}
	raw := func(w io.Writer) (int64, error) {
		bw := bufio.NewWriterSize(w, 256<<10)
		var n int64
		after := ""
		for {
			page, err := s.List(b.Context(), "", backends.ListOptions{After: after, Limit: dump.DefaultPageSize})
			if err != nil {
				return n, err
			}
			for _, kv := range page.Items {
				k, _ := bw.WriteString(kv.Key)
				v, _ := bw.Write(kv.Value)
				n += int64(k + v)
			}
			if !page.More {
				return n, bw.Flush()
			}
			after = page.Items[len(page.Items)-1].Key
		}
	}
	export := func(w io.Writer) (int64, error) {
		stats, err := dump.Export(b.Context(), s, w, dump.ExportOptions{})
		return stats.Bytes, err
	}
	b.Run("raw", func(b *testing.B) { run(b, false, raw) })
	b.Run("dump", func(b *testing.B) { run(b, false, export) })
	b.Run("raw-limited", func(b *testing.B) { run(b, true, raw) })
	b.Run("dump-limited", func(b *testing.B) { run(b, true, export) })
}
func BenchmarkImport(b *testing.B) {
	// The file is made once, by an export of a store that is then dropped.
	path := filepath.Join(b.TempDir(), "export.yaml")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	empty := settle(b)
	src := benchStore(b, benchKeys)
	storeSize := settle(b) - empty
	if _, err := dump.Export(b.Context(), src, f, dump.ExportOptions{}); err != nil {
		b.Fatal(err)
	}
	src.Close()
	src = nil
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
	size, _ := os.Stat(path)

	run := func(b *testing.B, limit bool, load func(s *memory.Store) error) {
		var peak, store int64
		var cpu time.Duration
		for b.Loop() {
			b.StopTimer()
			base := settle(b)
			s := memory.New(memory.Options{})
			start := cpuTime()
			b.StartTimer()
			op := func() {
				if err := load(s); err != nil {
					b.Fatal(err)
				}
			}
			if limit {
				limited(base+storeSize, op)
			} else {
				op()
			}
			b.StopTimer()
			cpu += cpuTime() - start
			peak = max(peak, rss(b, "VmHWM")-base)
			store = max(store, settle(b)-base)
			if n, _ := s.Count(b.Context(), ""); n != benchKeys {
				b.Fatalf("%d keys imported, want %d", n, benchKeys)
			}
			s.Close()
			b.StartTimer()
		}
		b.ReportMetric(cpu.Seconds()/float64(b.N), "cpu-s/op")
		b.ReportMetric(float64(peak)/mb, "peak-MB")
		b.ReportMetric(float64(store)/mb, "store-MB")
		b.ReportMetric(float64(peak-store)/mb, "above-store-MB")
	}
	raw := func(s *memory.Store) error {
		var key, value []byte
		for i := range benchKeys {
			key, value = benchKV(key, value, i)
			if _, err := s.Create(b.Context(), string(key), value); err != nil {
				return err
			}
		}
		return nil
	}
	load := func(s *memory.Store) error {
		stats, err := dump.ImportFile(b.Context(), s, path, dump.ImportOptions{})
		if err == nil && stats.Created != benchKeys {
			err = fmt.Errorf("created %d", stats.Created)
		}
		return err
	}
	b.Run("raw", func(b *testing.B) { run(b, false, raw) })
	b.Run("dump", func(b *testing.B) {
		run(b, false, load)
		b.ReportMetric(float64(size.Size())/mb, "file-MB")
	})
	b.Run("raw-limited", func(b *testing.B) { run(b, true, raw) })
	b.Run("dump-limited", func(b *testing.B) { run(b, true, load) })
}
