package tui

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/k3/k3-storage/backends"
	"github.com/k3/k3-storage/engine/lifecycle"
)

// TestShutdownView shows each cleanup step as it happens: here the store
// is closed and our container is being removed.
func TestShutdownView(t *testing.T) {
	clock := newTestClock()
	f := readyEngine(clock, newStore(t, "k", "v"))
	f.backend, f.address = "mysql", "localhost:3306"
	f.stopGate = make(chan struct{})
	h := startHarness(t, f, Options{}, 80, 24)
	h.waitFor("共 1 个键")
	clock.Set(at(90 * time.Second))
	h.keys("q")
	h.waitFor("清理本进程拉起的容器", "存储连接已关闭")
	fm := h.golden()
	if fm.state != stateStopping {
		t.Fatalf("state %v", fm.state)
	}
}

// TestQuitCleanly: q shuts down, the console ends by itself with exit
// code 0 and prints the shutdown lines.
func TestQuitCleanly(t *testing.T) {
	clock := newTestClock()
	f := readyEngine(clock, newStore(t, "k", "v"))
	f.stopGate = make(chan struct{})
	h := startHarness(t, f, Options{}, 80, 24)
	h.waitFor("共 1 个键")
	h.keys("q")
	h.waitFor("清理本进程拉起的容器")
	close(f.stopGate)
	fm := h.final()
	if fm.exitCode() != 0 || fm.state != stateDone {
		t.Fatalf("exit %d state %v err %q", fm.exitCode(), fm.state, fm.err)
	}
	var out strings.Builder
	fm.printSummary(&out)
	want := "正在关闭存储服务...\n存储连接已关闭\n清理由本进程拉起的存储后端容器 ...\n存储后端容器已清理\n存储服务已关闭\n"
	if out.String() != want {
		t.Fatalf("summary %q, want %q", out.String(), want)
	}
}

// TestForceQuit: a second ctrl+c during cleanup leaves at once with exit
// code 1 and says what was not cleaned up.
func TestForceQuit(t *testing.T) {
	clock := newTestClock()
	f := readyEngine(clock, newStore(t, "k", "v"))
	f.stopGate = make(chan struct{})
	h := startHarness(t, f, Options{}, 80, 24)
	h.waitFor("共 1 个键")
	h.keys("ctrl+c")
	h.waitFor("清理本进程拉起的容器", txtForceHint)
	h.keys("ctrl+c")
	fm := h.final()
	if fm.exitCode() != 1 || !fm.forced {
		t.Fatalf("exit %d forced %v", fm.exitCode(), fm.forced)
	}
	var out strings.Builder
	fm.printSummary(&out)
	if want := txtForced + "\n" + txtNotCleaned + "容器 k3-storage-test\n"; out.String() != want {
		t.Fatalf("summary %q, want %q", out.String(), want)
	}
}

// TestForceRequest: a stop request starts the visible shutdown like q; a
// repeated stop request is the same request; a force request during the
// cleanup forces the exit like a second ctrl+c.
func TestForceRequest(t *testing.T) {
	clock := newTestClock()
	f := readyEngine(clock, newStore(t, "k", "v"))
	f.stopGate = make(chan struct{})
	h := startHarness(t, f, Options{}, 80, 24)
	h.waitFor("共 1 个键")
	h.tm.Send(stopMsg{})
	h.waitFor("清理本进程拉起的容器", txtForceHint)
	h.tm.Send(stopMsg{})
	h.tm.Send(forceMsg{})
	if fm := h.final(); fm.exitCode() != 1 || !fm.forced {
		t.Fatalf("exit %d forced %v", fm.exitCode(), fm.forced)
	}
}

// TestSecondCtrlCNothingHeld: a second ctrl+c while a shutdown that holds
// nothing runs exits at once with code 0 and no warning.
func TestSecondCtrlCNothingHeld(t *testing.T) {
	m := newModel(t.Context(), stubEngine{}, Options{}, newStyles(true), func() time.Time { return t0 })
	var next tea.Model = m
	next, _ = next.Update(startedMsg{err: lifecycle.ErrStopped})
	next, _ = next.Update(stopMsg{})
	next, _ = next.Update(tea.KeyMsg{Type: tea.KeyCtrlC})
	fm := next.(model)
	if fm.forced || fm.exitCode() != 0 || fm.state != stateDone {
		t.Fatalf("forced %v exit %d state %v", fm.forced, fm.exitCode(), fm.state)
	}
	var out strings.Builder
	fm.printSummary(&out)
	if strings.Contains(out.String(), txtForced) {
		t.Fatalf("summary warns: %q", out.String())
	}
}

// holdingEngine is a stub engine that still holds a container.
type holdingEngine struct{ stubEngine }

func (holdingEngine) Holding() []string { return []string{"容器 k3-storage-mysql"} }

// TestStopDuringStartup: a stop request during startup ends the root
// context, so the start may report ErrStopped (its cleanup done) before
// the request's message arrives. That request must not force anything,
// nor may a force request then: nothing is left to clean. While the
// startup is still cleaning up, a force request forces the exit.
func TestStopDuringStartup(t *testing.T) {
	m := newModel(t.Context(), holdingEngine{}, Options{}, newStyles(true), func() time.Time { return t0 })
	var next tea.Model = m
	next, _ = next.Update(startedMsg{err: lifecycle.ErrStopped})
	next, _ = next.Update(stopMsg{})
	if fm := next.(model); fm.forced || fm.state != stateStopping {
		t.Fatalf("after one request: forced %v state %v", fm.forced, fm.state)
	}
	next, _ = next.Update(forceMsg{})
	if fm := next.(model); fm.forced || fm.exitCode() != 0 || fm.state != stateDone {
		t.Fatalf("force after the startup's cleanup: forced %v exit %d state %v", fm.forced, fm.exitCode(), fm.state)
	}

	next = newModel(t.Context(), holdingEngine{}, Options{}, newStyles(true), func() time.Time { return t0 })
	next, _ = next.Update(stopMsg{})
	next, _ = next.Update(forceMsg{})
	if fm := next.(model); !fm.forced || fm.exitCode() != 1 || !slices.Equal(fm.held, []string{"容器 k3-storage-mysql"}) {
		t.Fatalf("force during the startup's cleanup: forced %v exit %d held %q", fm.forced, fm.exitCode(), fm.held)
	}
}

// TestShutdownTimeout: the container's removal hangs past the shutdown
// timeout. The console leaves anyway, with exit code 1, and says which
// steps did not finish.
func TestShutdownTimeout(t *testing.T) {
	clock := newTestClock()
	f := readyEngine(clock, newStore(t, "k", "v"))
	f.stopGate = make(chan struct{}) // never opened during the test
	h := startHarness(t, f, Options{ShutdownTimeout: 100 * time.Millisecond}, 80, 24)
	h.waitFor("共 1 个键")
	h.keys("q")
	fm := h.final()
	if fm.exitCode() != 1 || fm.forced {
		t.Fatalf("exit %d forced %v err %q", fm.exitCode(), fm.forced, fm.err)
	}
	var out strings.Builder
	fm.printSummary(&out)
	want := "正在关闭存储服务...\n存储连接已关闭\n清理由本进程拉起的存储后端容器 ...\n" +
		fmt.Sprintf(txtShutdownTimedOut, "100ms") + "\n" + txtNotCleaned + "容器 k3-storage-test\n"
	if out.String() != want {
		t.Fatalf("summary %q, want %q", out.String(), want)
	}
}

// crashingEngine is a fake engine whose Backend panics once the engine
// has started, so that the console's View panics with the store up (Bubble
// Tea recovers and Run returns an error).
type crashingEngine struct {
	*fakeEngine
	armed atomic.Bool
}

func (c *crashingEngine) Start(ctx context.Context) (backends.Store, error) {
	s, err := c.fakeEngine.Start(ctx)
	c.armed.Store(true)
	return s, err
}

func (c *crashingEngine) Backend() string {
	if c.armed.Load() {
		panic("a bug in the view")
	}
	return c.fakeEngine.Backend()
}

func (c *crashingEngine) Shutdown(ctx context.Context) error {
	c.emit(lifecycle.Event{Kind: lifecycle.KindLog, Stage: lifecycle.StageStopping, Text: "hostile \x1b]52;c;eA==\x07 line"})
	return c.fakeEngine.Shutdown(ctx)
}

// TestCrashShutsDown: when the program ends with an error (here a panic
// in View, which Bubble Tea recovers), Run still shuts the engine down —
// a container it started must not stay up — and prints the shutdown's
// lines, escaped, to stderr.
func TestCrashShutsDown(t *testing.T) {
	clock := newTestClock()
	f := &crashingEngine{fakeEngine: readyEngine(clock, newStore(t, "k", "v"))}
	f.stopGate = make(chan struct{})
	close(f.stopGate) // the container's removal finishes at once
	var stdout, stderr bytes.Buffer
	code := run(t.Context(), nil, f, Options{}, newStyles(true), &stdout, &stderr, &terminal{w: io.Discard},
		tea.WithInput(nil))
	if code != 1 {
		t.Fatalf("exit code %d", code)
	}
	if n := f.shutdowns.Load(); n != 1 {
		t.Fatalf("Shutdown called %d times", n)
	}
	select {
	case <-f.stopped:
	default:
		t.Fatal("the shutdown did not finish")
	}
	out := stderr.String()
	for _, want := range []string{"k3-storage:", "正在关闭存储服务...", `hostile \x1b]52;c;eA==\x07 line`, "存储后端容器已清理", "存储服务已关闭"} {
		if !strings.Contains(out, want) {
			t.Errorf("stderr lacks %q:\n%s", want, out)
		}
	}
	checkInert(t, stderr.Bytes())
}

// TestSummaryNamesWhatFailed: the line printed after the console closes
// says whether the start or the shutdown failed.
func TestSummaryNamesWhatFailed(t *testing.T) {
	for _, c := range []struct {
		startFailed bool
		want        string
	}{{true, txtFailed + ": boom\n"}, {false, txtStopFailed + ": boom\n"}} {
		m := model{err: "boom", startFailed: c.startFailed}
		var out strings.Builder
		m.printSummary(&out)
		if out.String() != c.want {
			t.Fatalf("startFailed=%v: summary %q, want %q", c.startFailed, out.String(), c.want)
		}
	}
}
