// Package initgc keeps the garbage collector out of the program's package
// initialisation, where it only slows the launch down.
//
// Go initialises every linked package before main. In k3-storage that
// allocates about 4 MB (protobuf descriptors, regular expressions, the
// embedded etcd server's metrics), past the runtime's first collection
// trigger (about 3 MB of heap), and the collector ran once or twice
// meanwhile, concurrently with the init functions on a 2-core machine.
// This package's init turns the collector off; main turns it back on first
// thing with Done. The memory backend's launch to ready got 4–12% faster
// (engine's BenchmarkMemoryLaunch with K3_BENCH_BASE set to the commit
// before).
//
// It can only help with what is initialised after it. The linker
// initialises the ready package whose import path sorts first, and this
// package needs runtime/debug, which has no init of its own but counts as
// initialised only when no ready package sorts before "runtime/debug". So
// this init runs after about 190 packages (2.7 MB), usually before the
// first collection starts, and before the heavy ones (the etcd server,
// Prometheus), which all need packages that sort later. initgc_test.go
// checks both on the real binary. A GOGC set by the user is left alone.
package initgc

import (
	"os"
	"runtime/debug"
)

func init() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(-1)
	}
}

// Done turns the collector back on, at the runtime's default (100), when
// init turned it off: when GOGC is not set. main calls it once, first
// thing.
func Done() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(100)
	}
}
