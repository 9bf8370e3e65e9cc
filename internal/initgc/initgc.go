// Package initgc keeps the garbage collector out of the program's package
// initialisation, where it only slows the launch down.
//
// Go initialises every linked package before main. In k3-storage that
// allocates about 4 MB (protobuf descriptors, the embedded etcd server's
// metrics), past the runtime's first heap goal, and the collector ran once
// or twice meanwhile, on a heap that is almost all live. This package's
// init turns the collector off; main turns it back on first thing with
// Done. The memory backend's launch to ready got 4–12% faster (engine's
// BenchmarkMemoryLaunch with K3_BENCH_BASE set to the commit before).
//
// It works only for packages initialised after this one. Go initialises
// ready packages in import-path order, and this package needs nothing but
// os and runtime/debug, so it runs before the heavy ones (prometheus, the
// etcd server, gorm.io); what comes before it allocates less than the first
// heap goal. initgc_test.go checks on the real binary that no collection
// runs during package init. A GOGC set by the user is left alone.
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
