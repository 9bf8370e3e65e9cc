package initgc

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/k3/k3-storage/internal/testbin"
)

func TestMain(m *testing.M) {
	Done() // this test binary's init turned the collector off too
	code := m.Run()
	testbin.Remove()
	os.Exit(code)
}

// TestNoCollectionDuringInit runs the real k3-storage with the runtime's
// init and GC traces on: no collection may run before the last package is
// initialised. It fails if this package stops being imported, or if the
// packages initialised before it come to allocate more than the runtime's
// first heap goal (4 MB).
func TestNoCollectionDuringInit(t *testing.T) {
	cmd := exec.Command(testbin.Binary(t), "--version")
	cmd.Env = append(os.Environ(), "GODEBUG=inittrace=1,gctrace=1", "GOGC=")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("k3-storage --version: %v\n%s", err, stderr.String())
	}
	// The runtime writes both traces to stderr in the order they happen;
	// main's own package has nothing to trace, so package initialisation
	// ends at the last init line.
	var inits []string
	var collections []int // how many packages had been initialised at each
	sc := bufio.NewScanner(&stderr)
	for sc.Scan() {
		switch line := sc.Text(); {
		case strings.HasPrefix(line, "init "):
			inits = append(inits, strings.Fields(line)[1])
		case strings.HasPrefix(line, "gc "):
			collections = append(collections, len(inits))
		}
	}
	for _, n := range collections {
		if n < len(inits) {
			t.Fatalf("a collection ran during package init, after %d of %d packages", n, len(inits))
		}
	}
	if len(inits) == 0 {
		t.Fatalf("no init trace in the output:\n%s", stderr.String())
	}
}

// TestDone checks that Done turns the collector back on when init turned
// it off (GOGC unset), and leaves a GOGC the user set alone.
func TestDone(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(-1)) // as init leaves it
	t.Setenv("GOGC", "")
	Done()
	if got := debug.SetGCPercent(-1); got != 100 {
		t.Fatalf("after Done the GC percent is %d, want 100", got)
	}
	t.Setenv("GOGC", "50")
	Done()
	if got := debug.SetGCPercent(50); got != -1 {
		t.Fatalf("with GOGC=50 Done changed the GC percent to %d, want it left alone", got)
	}
}
