// Package initgc keeps the garbage collector out of the program's package
// initialisation, where it only slows the launch down.
//
// Go initialises every linked package before main. In k3-storage that
// allocates about 4 MB (protobuf descriptors, the embedded etcd server's
// metrics), past the runtime's first heap goal, and the collector ran up to
// twice meanwhile: 2.4 ms of a 16 ms launch on the memory backend (median
// of 40, engine's BenchmarkMemoryLaunch). This package's init turns the
// collector off; main turns it back on first thing with Done, and the one
// collection then runs alongside the program's own start.
//
// It works only for packages initialised after this one. Go initialises
// ready packages in import-path order, and this package needs nothing but
// os and runtime/debug, so it runs before the heavy ones (prometheus,
// go.etcd.io, google.golang.org, gorm.io); initgc_test.go checks that order
// on the real binary. A GOGC set by the user is left alone.
package initgc

import (
	"os"
	"runtime/debug"
)

// percent is the GC percent init replaced, or -2 when it changed nothing.
// It is written only by init, before any goroutine exists, and read by
// Done; a package-level variable is the only way an init can hand a value
// to main.
var percent = -2

func init() {
	if os.Getenv("GOGC") == "" {
		percent = debug.SetGCPercent(-1)
	}
}

// Done turns the collector back on as it was before init turned it off (the
// runtime's default, 100). main calls it once, first thing. Calling it when
// init changed nothing, or again, does nothing.
func Done() {
	if percent != -2 {
		debug.SetGCPercent(percent)
		percent = -2
	}
}
