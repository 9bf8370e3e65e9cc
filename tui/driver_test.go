package tui

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/k3/k3-storage/backends"
	"github.com/k3/k3-storage/engine/lifecycle"
)

// errNoWatch is what noWatch stores return from Watch.
var errNoWatch = errors.New("watch disabled in this test")

// countingStore counts the reads a browser makes, and refuses watches so
// that every command the browser issues returns at once (a watch's
// reading command blocks until the next change).
type countingStore struct {
	backends.Store
	lists, items, counts, gets atomic.Int64
}

func (c *countingStore) List(ctx context.Context, prefix string, opts backends.ListOptions) (backends.Page, error) {
	p, err := c.Store.List(ctx, prefix, opts)
	c.lists.Add(1)
	c.items.Add(int64(len(p.Items)))
	return p, err
}

func (c *countingStore) Count(ctx context.Context, prefix string) (int64, error) {
	c.counts.Add(1)
	return c.Store.Count(ctx, prefix)
}

func (c *countingStore) Get(ctx context.Context, key string) (backends.KeyValue, error) {
	c.gets.Add(1)
	return c.Store.Get(ctx, key)
}

func (c *countingStore) Watch(context.Context, string, int64) (<-chan backends.Event, error) {
	return nil, errNoWatch
}

// Revision passes the memory store's revisions through, so counts are
// exact.
func (c *countingStore) Revision(ctx context.Context) (int64, int64, error) {
	return c.Store.(backends.Revisioner).Revision(ctx)
}

// stubEngine stands in for the engine when a test drives the browser
// without a program.
type stubEngine struct{}

func (stubEngine) Events() <-chan lifecycle.Event                { return nil }
func (stubEngine) Start(context.Context) (backends.Store, error) { return nil, errors.New("stub") }
func (stubEngine) Shutdown(context.Context) error                { return nil }
func (stubEngine) Backend() string                               { return "memory" }
func (stubEngine) Address() string                               { return "" }
func (stubEngine) Holding() []string                             { return nil }

// driver runs the console's model in the ready state without a Bubble
// Tea program: it runs every command at once, in order, and feeds the
// messages back to Update, until nothing is left to do. It is
// deterministic, for unit tests and benchmarks. (No tick runs, so nothing
// time-driven happens, and a started watch is not read.)
type driver struct {
	m   model
	now time.Time
}

func newDriver(tb testing.TB, store backends.Store, width, height int) *driver {
	tb.Helper()
	d, init := newDriverPending(tb, store, width, height)
	d.run(init)
	return d
}

// newDriverPending is newDriver without running the browser's first
// commands (the first read of the root): it returns them.
func newDriverPending(tb testing.TB, store backends.Store, width, height int) (*driver, tea.Cmd) {
	tb.Helper()
	m := newModel(context.Background(), stubEngine{}, Options{CallTimeout: time.Minute}, newStyles(true),
		func() time.Time { return t0 })
	d := &driver{m: m, now: t0}
	d.run(func() tea.Msg { return tea.WindowSizeMsg{Width: width, Height: height} })
	return d, d.update(startedMsg{store: store})
}

// b is the browser.
func (d *driver) b() *browser { return d.m.br }

func (d *driver) run(cmd tea.Cmd) {
	queue := []tea.Cmd{cmd}
	for len(queue) > 0 {
		c := queue[0]
		queue = queue[1:]
		if c == nil {
			continue
		}
		switch msg := c().(type) {
		case nil:
		case tea.BatchMsg:
			queue = append(queue, msg...)
		case watchStartedMsg:
			// The command that reads a watch waits for the next change:
			// the watch is started, but its events are left unread (a
			// test feeds watchEventsMsgs itself).
			next, _ := d.m.Update(msg)
			d.m = next.(model)
		default:
			next, cmd := d.m.Update(msg)
			d.m = next.(model)
			queue = append(queue, cmd)
		}
	}
}

// update handles one message without running the commands it returns.
func (d *driver) update(msg tea.Msg) tea.Cmd {
	next, cmd := d.m.Update(msg)
	d.m = next.(model)
	return cmd
}

// press sends keys by name and settles.
func (d *driver) press(keys ...string) {
	for _, k := range keys {
		d.run(d.update(keyMsg(k)))
	}
}

func keyMsg(k string) tea.KeyMsg {
	switch k {
	case "enter":
		return tea.KeyMsg{Type: tea.KeyEnter}
	case "esc":
		return tea.KeyMsg{Type: tea.KeyEsc}
	case "up":
		return tea.KeyMsg{Type: tea.KeyUp}
	case "down":
		return tea.KeyMsg{Type: tea.KeyDown}
	case "left":
		return tea.KeyMsg{Type: tea.KeyLeft}
	case "pgdown":
		return tea.KeyMsg{Type: tea.KeyPgDown}
	case "pgup":
		return tea.KeyMsg{Type: tea.KeyPgUp}
	case "home":
		return tea.KeyMsg{Type: tea.KeyHome}
	case "end":
		return tea.KeyMsg{Type: tea.KeyEnd}
	case "backspace":
		return tea.KeyMsg{Type: tea.KeyBackspace}
	case "ctrl+s":
		return tea.KeyMsg{Type: tea.KeyCtrlS}
	}
	return tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(k)}
}

// selected is the name under the cursor ("" if none is loaded).
func (d *driver) selected() string {
	if e, ok := d.b().selected(); ok {
		return e.name
	}
	return ""
}
