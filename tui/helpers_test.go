package tui

import (
	"bytes"
	"context"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/exp/teatest"
	"github.com/muesli/termenv"

	"github.com/k3/k3-storage/backends"
	"github.com/k3/k3-storage/backends/memory"
	"github.com/k3/k3-storage/engine/lifecycle"
	"github.com/k3/k3-storage/internal/testbin"
	"github.com/k3/k3-storage/internal/testenv"
)

func TestMain(m *testing.M) {
	// Golden files are plain text: no colours, whatever the terminal.
	lipgloss.SetColorProfile(termenv.Ascii)
	code := testenv.Main(m)
	testbin.Remove()
	os.Exit(code)
}

// t0 is the fixed time of the test clock.
var t0 = time.Date(2025, 3, 14, 9, 26, 53, 0, time.UTC)

// testClock is a clock the test sets; the console reads it from its own
// goroutine.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func newTestClock() *testClock { return &testClock{t: t0} }

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// at is t0 plus d.
func at(d time.Duration) time.Time { return t0.Add(d) }

// fakeEngine is an Engine driven by the test: it emits the events the
// test gives it, returns the store from Start when released and runs a
// scripted shutdown.
type fakeEngine struct {
	events   chan lifecycle.Event
	store    backends.Store
	startErr error
	failTime time.Time     // when the start fails (the clock's time when zero)
	release  chan struct{} // Start returns once closed (or at once when nil)
	// stopGate, when set, makes the shutdown remove a container and wait
	// for the gate before finishing.
	stopGate  chan struct{}
	backend   string
	address   string
	clock     *testClock
	stopOnce  sync.Once
	stopped   chan struct{}
	shutdowns atomic.Int32 // calls of Shutdown
}

func newFakeEngine(clock *testClock, store backends.Store) *fakeEngine {
	return &fakeEngine{
		events: make(chan lifecycle.Event, 1024), store: store, backend: "memory",
		clock: clock, stopped: make(chan struct{}),
	}
}

func (f *fakeEngine) Events() <-chan lifecycle.Event { return f.events }
func (f *fakeEngine) Backend() string                { return f.backend }
func (f *fakeEngine) Address() string                { return f.address }

// Holding reports the fake container while a gated shutdown has not
// removed it.
func (f *fakeEngine) Holding() []string {
	if f.stopGate == nil {
		return nil
	}
	select {
	case <-f.stopped:
		return nil
	default:
		return []string{"容器 k3-storage-test"}
	}
}

// emit sends an event stamped with the test clock unless it has a time.
func (f *fakeEngine) emit(ev lifecycle.Event) {
	if ev.Time.IsZero() {
		ev.Time = f.clock.Now()
	}
	f.events <- ev
}

func (f *fakeEngine) stage(s lifecycle.Stage, st lifecycle.Status, text string, when time.Time) {
	f.emit(lifecycle.Event{Kind: lifecycle.KindStage, Stage: s, Status: st, Text: text, Time: when})
}

func (f *fakeEngine) Start(ctx context.Context) (backends.Store, error) {
	if f.release != nil {
		select {
		case <-f.release:
		case <-ctx.Done():
			return nil, lifecycle.ErrStopped
		}
	}
	if f.startErr != nil {
		f.emit(lifecycle.Event{Kind: lifecycle.KindStage, Stage: lifecycle.StageStart, Status: lifecycle.Failed, Err: f.startErr, Time: f.failTime})
		f.emit(lifecycle.Event{Kind: lifecycle.KindStage, Stage: lifecycle.StageStopped, Status: lifecycle.Failed, Err: f.startErr, Time: f.failTime})
		close(f.events)
		return nil, f.startErr
	}
	f.stage(lifecycle.StageStart, lifecycle.Done, "", time.Time{})
	f.stage(lifecycle.StageReady, lifecycle.Done, "存储服务启动完成", time.Time{})
	return f.store, nil
}

// Shutdown runs the scripted steps once, in the background as the engine
// does: when ctx ends first it returns ctx's error and the steps go on
// (waiting for stopGate, if set).
func (f *fakeEngine) Shutdown(ctx context.Context) error {
	f.shutdowns.Add(1)
	f.stopOnce.Do(func() {
		go func() {
			defer close(f.stopped)
			f.stage(lifecycle.StageStopping, lifecycle.Running, "正在关闭存储服务...", time.Time{})
			if f.store != nil {
				f.store.Close()
			}
			f.stage(lifecycle.StageCloseStore, lifecycle.Done, "存储连接已关闭", time.Time{})
			if f.stopGate != nil {
				f.stage(lifecycle.StageRemoveContainer, lifecycle.Running, "清理由本进程拉起的存储后端容器 ...", time.Time{})
				<-f.stopGate
				f.stage(lifecycle.StageRemoveContainer, lifecycle.Done, "存储后端容器已清理", time.Time{})
			}
			f.stage(lifecycle.StageStopping, lifecycle.Done, "", time.Time{})
			f.stage(lifecycle.StageStopped, lifecycle.Done, "存储服务已关闭", time.Time{})
			close(f.events)
		}()
	})
	select {
	case <-f.stopped:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// readyEngine returns a fake engine over store that starts at once.
func readyEngine(clock *testClock, store backends.Store) *fakeEngine {
	f := newFakeEngine(clock, store)
	f.stage(lifecycle.StageConfig, lifecycle.Done, "配置文件: configs/config-example.yaml", t0)
	f.stage(lifecycle.StageStart, lifecycle.Running, "正在启动存储服务 (类型: memory)...", t0)
	f.stage(lifecycle.StageConnect, lifecycle.Running, "", t0)
	f.stage(lifecycle.StageConnect, lifecycle.Done, "内存存储已初始化", at(3*time.Millisecond))
	return f
}

// harness runs a console under teatest and keeps everything it wrote.
type harness struct {
	t     *testing.T
	tm    *teatest.TestModel
	eng   *fakeEngine
	clock *testClock
	mu    sync.Mutex
	out   bytes.Buffer
}

func startHarness(t *testing.T, eng *fakeEngine, opts Options, w, h int) *harness {
	t.Helper()
	if opts.ConfigFile == "" {
		opts.ConfigFile = "configs/config-example.yaml"
	}
	m := newModel(t.Context(), eng, opts, newStyles(true), eng.clock.Now)
	tm := teatest.NewTestModel(t, m, teatest.WithInitialTermSize(w, h))
	hs := &harness{t: t, tm: tm, eng: eng, clock: eng.clock}
	t.Cleanup(func() {
		if eng.stopGate != nil {
			select {
			case <-eng.stopGate:
			default:
				close(eng.stopGate)
			}
		}
		tm.Quit()
		tm.WaitFinished(t, teatest.WithFinalTimeout(10*time.Second))
		if fm, ok := tm.FinalModel(t).(model); ok {
			fm.close()
		}
		if eng.store != nil {
			eng.store.Close()
		}
	})
	return hs
}

// waitFor waits until the output written since the last wait contains
// every want. (Output is consumed as it is read: a later wait sees only
// what was drawn after this one.)
func (h *harness) waitFor(want ...string) {
	h.t.Helper()
	var seen []byte
	teatest.WaitFor(h.t, h.tm.Output(), func(b []byte) bool {
		seen = b
		for _, w := range want {
			if !bytes.Contains(b, []byte(w)) {
				return false
			}
		}
		return true
	}, teatest.WithDuration(10*time.Second), teatest.WithCheckInterval(10*time.Millisecond))
	h.mu.Lock()
	h.out.Write(seen)
	h.mu.Unlock()
}

// output is everything the waits have read.
func (h *harness) output() []byte {
	h.mu.Lock()
	defer h.mu.Unlock()
	return bytes.Clone(h.out.Bytes())
}

// keys types single keys (runes) or named keys.
func (h *harness) keys(ks ...string) {
	for _, k := range ks {
		switch k {
		case "enter":
			h.tm.Send(tea.KeyMsg{Type: tea.KeyEnter})
		case "esc":
			h.tm.Send(tea.KeyMsg{Type: tea.KeyEsc})
		case "up":
			h.tm.Send(tea.KeyMsg{Type: tea.KeyUp})
		case "down":
			h.tm.Send(tea.KeyMsg{Type: tea.KeyDown})
		case "left":
			h.tm.Send(tea.KeyMsg{Type: tea.KeyLeft})
		case "right":
			h.tm.Send(tea.KeyMsg{Type: tea.KeyRight})
		case "backspace":
			h.tm.Send(tea.KeyMsg{Type: tea.KeyBackspace})
		case "end":
			h.tm.Send(tea.KeyMsg{Type: tea.KeyEnd})
		case "ctrl+s":
			h.tm.Send(tea.KeyMsg{Type: tea.KeyCtrlS})
		case "ctrl+c":
			h.tm.Send(tea.KeyMsg{Type: tea.KeyCtrlC})
		default:
			h.tm.Send(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(k)})
		}
	}
}

// typeText types text as one burst of runes, as a fast typist or a paste
// without bracketed paste would.
func (h *harness) typeText(s string) {
	h.tm.Send(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(s)})
}

// finish stops the program where it is and returns the final model.
func (h *harness) finish() model {
	h.t.Helper()
	h.tm.Quit()
	fm := h.tm.FinalModel(h.t, teatest.WithFinalTimeout(10*time.Second)).(model)
	return fm
}

// golden stops the program and compares its screen with
// testdata/<Test>.golden.
func (h *harness) golden() model {
	h.t.Helper()
	fm := h.finish()
	goldenView(h.t, fm)
	return fm
}

// goldenView compares a model's screen with testdata/<Test>.golden.
func goldenView(t *testing.T, m model) {
	t.Helper()
	teatest.RequireEqualOutput(t, []byte(m.View()+"\n"))
}

// final waits for the program to end by itself and returns its model.
func (h *harness) final() model {
	h.t.Helper()
	return h.tm.FinalModel(h.t, teatest.WithFinalTimeout(10*time.Second)).(model)
}

// newStore returns a memory store holding the given keys and values, in
// order, closed at the end of the test.
func newStore(t testing.TB, kvs ...string) *memory.Store {
	t.Helper()
	s := memory.New(memory.Options{})
	for i := 0; i+1 < len(kvs); i += 2 {
		if _, err := s.Create(context.Background(), kvs[i], []byte(kvs[i+1])); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() { s.Close() })
	return s
}
