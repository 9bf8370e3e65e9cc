// Package testbin builds the k3-storage command once per test process, for
// the few tests that must run the real binary (end to end, in a terminal).
package testbin

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
)

var build struct {
	once sync.Once
	path string
	err  error
}

// Binary builds the k3-storage command once per test process and returns
// the path of the executable, in a temporary directory that Remove deletes.
// It is a plain build, as users run it: exit timings are the product's (a
// -race build sleeps a second at exit).
func Binary(tb testing.TB) string {
	tb.Helper()
	build.once.Do(func() {
		_, file, _, _ := runtime.Caller(0)
		root := filepath.Join(filepath.Dir(file), "..", "..")
		dir, err := os.MkdirTemp("", "k3-storage-bin-")
		if err != nil {
			build.err = err
			return
		}
		build.path = filepath.Join(dir, "k3-storage")
		cmd := exec.Command("go", "build", "-o", build.path, ".")
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			build.err = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if build.err != nil {
		tb.Fatal(build.err)
	}
	return build.path
}

// Remove deletes the binary Binary built, if any; call it from TestMain
// after m.Run.
func Remove() {
	if build.path != "" {
		os.RemoveAll(filepath.Dir(build.path))
	}
}
