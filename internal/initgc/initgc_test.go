package initgc

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"runtime/debug"
	"strconv"
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

// TestInitOrder runs the real k3-storage with the runtime's init trace on
// and checks what this package's effect rests on: its init runs before the
// heavy packages, and the packages initialised before it allocate less than
// the runtime's first collection trigger (about 3 MB of heap). The init
// order of a binary is fixed, so this fails only when the imports change,
// for instance when a heavy package is added that is initialised first.
func TestInitOrder(t *testing.T) {
	cmd := exec.Command(testbin.Binary(t), "--version")
	cmd.Env = append(os.Environ(), "GODEBUG=inittrace=1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("k3-storage --version: %v\n%s", err, stderr.String())
	}
	// "init <package> @<t> ms, <d> ms clock, <n> bytes, <m> allocs"
	self, before := -1, 0
	pos := map[string]int{}
	sc := bufio.NewScanner(&stderr)
	for n := 0; sc.Scan(); {
		f := strings.Fields(sc.Text())
		if len(f) < 8 || f[0] != "init" {
			continue
		}
		pos[f[1]] = n
		if f[1] == "github.com/k3/k3-storage/internal/initgc" {
			self = n
		}
		if self < 0 {
			b, err := strconv.Atoi(f[7])
			if err != nil {
				t.Fatalf("init trace line %q: %v", sc.Text(), err)
			}
			before += b
		}
		n++
	}
	if self < 0 {
		t.Fatalf("no init of internal/initgc in the trace:\n%s", stderr.String())
	}
	const limit = 3 << 20
	if before > limit {
		t.Errorf("the %d packages initialised before initgc allocate %d bytes, over %d: the collector starts before it is off", self, before, limit)
	}
	for _, heavy := range []string{
		"github.com/prometheus/client_golang/prometheus",
		"go.etcd.io/etcd/server/v3/etcdserver",
		"go.etcd.io/etcd/server/v3/storage/mvcc",
		"go.etcd.io/etcd/server/v3/etcdserver/api/rafthttp",
	} {
		if n, ok := pos[heavy]; ok && n < self {
			t.Errorf("%s is initialised before initgc (%d < %d)", heavy, n, self)
		}
	}
	t.Logf("initgc is package %d of %d; the packages before it allocate %d bytes", self+1, len(pos), before)
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
