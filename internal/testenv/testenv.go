// Package testenv decides what a test does when a service it needs (a
// MySQL server, the Docker Engine, tmux, …) is missing: skip with the
// reason, or fail under K3_TEST_REQUIRE, and it tells a newcomer at the
// end of the package's run how many tests skipped for want of what, even
// without -v.
package testenv

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
)

// RequireEnv names the environment variable that turns skips into
// failures: "all", or a comma-separated list of services (as named to
// Need, lower-cased: "mysql", "docker", "tmux").
const RequireEnv = "K3_TEST_REQUIRE"

// Required reports whether a missing service must fail the test rather
// than skip it.
func Required(service string) bool {
	for _, w := range strings.Split(os.Getenv(RequireEnv), ",") {
		if w = strings.TrimSpace(w); w == "all" || strings.EqualFold(w, service) {
			return true
		}
	}
	return false
}

// skips counts, per package run, the tests skipped per missing service.
// It is the one piece of shared state: tests report into it and Main
// prints it.
var skips struct {
	mu      sync.Mutex
	counts  map[string]int    // service -> tests skipped
	reasons map[string]string // service -> the first reason given
}

// Need stops the test when err is not nil: a skip naming the service and
// why it is missing, or a fatal failure when Required(service). It does
// nothing when err is nil.
func Need(tb testing.TB, service string, err error) {
	tb.Helper()
	if err == nil {
		return
	}
	if Required(service) {
		tb.Fatalf("%s is required (%s=%s) but not available: %v", service, RequireEnv, os.Getenv(RequireEnv), err)
	}
	skips.mu.Lock()
	if skips.counts == nil {
		skips.counts, skips.reasons = map[string]int{}, map[string]string{}
	}
	skips.counts[service]++
	if _, ok := skips.reasons[service]; !ok {
		skips.reasons[service] = err.Error()
	}
	skips.mu.Unlock()
	tb.Skipf("skipping: %s not available: %v (set %s=all to fail instead)", service, err, RequireEnv)
}

// Main runs the package's tests (call it from TestMain as
// os.Exit(testenv.Main(m))) and then, if any test skipped through Need,
// says so in one line per service. go test shows a passing package's
// output only with -v, so the line goes to the terminal (/dev/tty) when
// there is one, else to stderr.
func Main(m *testing.M) int {
	code := m.Run()
	_, file, _, _ := runtime.Caller(1)
	summarize(packageOf(file), openTerminal())
	return code
}

func summarize(pkg string, w io.WriteCloser) {
	defer w.Close()
	skips.mu.Lock()
	defer skips.mu.Unlock()
	services := make([]string, 0, len(skips.counts))
	for s := range skips.counts {
		services = append(services, s)
	}
	slices.Sort(services)
	for _, s := range services {
		fmt.Fprintf(w, "%s: %d 个测试跳过：缺少 %s（%s）；设置 %s=all 可改为失败\n", pkg, skips.counts[s], s, skips.reasons[s], RequireEnv)
	}
}

// openTerminal returns the controlling terminal for writing, or stderr.
func openTerminal() io.WriteCloser {
	if f, err := os.OpenFile("/dev/tty", os.O_WRONLY, 0); err == nil {
		return f
	}
	return nopCloser{os.Stderr}
}

type nopCloser struct{ io.Writer }

func (nopCloser) Close() error { return nil }

// packageOf names the directory of file relative to the module root
// (where go.mod is), e.g. "backends/mysql".
func packageOf(file string) string {
	dir := filepath.Dir(file)
	for root := dir; ; {
		if _, err := os.Stat(filepath.Join(root, "go.mod")); err == nil {
			if rel, err := filepath.Rel(root, dir); err == nil {
				return "./" + filepath.ToSlash(rel)
			}
			return dir
		}
		parent := filepath.Dir(root)
		if parent == root {
			return dir
		}
		root = parent
	}
}
