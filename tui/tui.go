// Package tui is k3-storage's console: a live startup dashboard, then a
// key browser, then a shutdown view that shows cleanup as it happens. It
// turns engine events into view state and runs engine and store calls only
// inside tea.Cmds that return typed messages; it decides nothing about the
// lifecycle itself.
//
// Everything untrusted — keys, values, error texts, paths — passes through
// Escape before it is drawn.
package tui

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"

	"github.com/k3/k3-storage/backends"
	"github.com/k3/k3-storage/engine/lifecycle"
)

// Engine is what the console needs from the lifecycle; *engine.Engine
// implements it.
type Engine interface {
	// Events is closed by the engine after its final event.
	Events() <-chan lifecycle.Event
	Start(ctx context.Context) (backends.Store, error)
	Shutdown(ctx context.Context) error
	Backend() string
	Address() string
	// Holding lists what the engine provisioned and has not released yet
	// (a container it owns, a database process it started): what a forced
	// exit would leave behind. Empty when nothing would be.
	Holding() []string
}

// Options configure the console.
type Options struct {
	// ConfigFile names the config in use, for the header.
	ConfigFile string
	// ReadOnly disables creating, editing and deleting keys.
	ReadOnly bool
	// ShutdownTimeout bounds the clean shutdown. Zero means 60s.
	ShutdownTimeout time.Duration
	// CallTimeout bounds each store call the browser makes to read.
	// Zero means 10s.
	CallTimeout time.Duration
	// WriteTimeout bounds each write the browser makes (create, update,
	// delete), so that a save against a backend that stopped answering
	// fails fast and the editor keeps the text. A write that times out
	// may still have been applied: the console says the outcome is
	// unknown. Zero means 1.5s.
	WriteTimeout time.Duration
}

// defaultWriteTimeout is Options.WriteTimeout when zero: a healthy backend
// writes in milliseconds, and a save must fail within 2s when it does not
// answer.
const defaultWriteTimeout = 1500 * time.Millisecond

// Run shows the console until the user quits (q, ctrl+c) or ctx ends (a
// stop request from outside, such as a signal main received), shutting
// the engine down visibly either way. A value on force (a later request
// while the cleanup runs) leaves at once, as a second ctrl+c does: with a
// warning naming what was left when the engine still holds something, and
// quietly when nothing is left to clean. Run returns the exit code: 0
// after a clean stop, 1 after a failure or a forced exit that left
// something behind.
func Run(ctx context.Context, force <-chan struct{}, eng Engine, opts Options) int {
	if os.Getenv("NO_COLOR") != "" {
		lipgloss.SetColorProfile(termenv.Ascii)
	}
	// Ask the terminal for its background now, before Bubble Tea reads
	// the keyboard, so that the reply cannot arrive as keystrokes.
	styles := newStyles(lipgloss.HasDarkBackground())
	return run(ctx, force, eng, opts, styles, os.Stdout, os.Stderr, newTTYTerminal(os.Stdout), tea.WithAltScreen())
}

// run is Run on the given outputs, with extra program options (a test's
// input). The program draws on term, which copying to the clipboard
// shares (see terminal); stdout and stderr take the lines printed after
// the program ends.
func run(ctx context.Context, force <-chan struct{}, eng Engine, opts Options, styles *styles, stdout, stderr, term io.Writer, progOpts ...tea.ProgramOption) int {
	m := newModel(ctx, eng, opts, styles, time.Now)
	m.term = term
	detach := make(chan struct{})
	m.detach = detach
	progOpts = append([]tea.ProgramOption{tea.WithoutSignalHandler(), tea.WithOutput(term)}, progOpts...)
	p := tea.NewProgram(m, progOpts...)
	go func() {
		// Requests from outside: the first starts the visible shutdown,
		// as q does; a forced one leaves, as a second ctrl+c does.
		select {
		case <-ctx.Done():
			p.Send(stopMsg{})
		case <-detach:
			return
		}
		select {
		case <-force:
			p.Send(forceMsg{})
		case <-detach:
		}
	}()
	final, err := p.Run()
	// The program may have left a command waiting for an engine event.
	close(detach)
	fm, ok := final.(model)
	if err != nil || !ok {
		// A panic in Update, View or a command, which Bubble Tea
		// recovered (the final model is nil after one in Update or
		// View), or a terminal that could not be set up. No shutdown view
		// ran: shut the engine down here, so that a container this
		// process started does not stay up.
		fmt.Fprintln(stderr, "k3-storage:", Escape(fmt.Sprint(err)))
		var dash dashboard
		if ok {
			fm.close()
			dash = fm.dash
		}
		fmt.Fprintln(stderr, txtCrashCleanup)
		shutdownAfterCrash(eng, dash, m.opts.ShutdownTimeout, stderr)
		return 1
	}
	fm.close()
	fm.printSummary(stdout)
	return fm.exitCode()
}

// shutdownAfterCrash shuts the engine down, within timeout, when the
// program ended without its shutdown view, and writes the shutdown's lines
// to w, escaped. d holds what the console had already shown. Nobody reads
// the events meanwhile: the engine never blocks on them past Shutdown's
// context, and they are read from the buffer afterwards.
func shutdownAfterCrash(eng Engine, d dashboard, timeout time.Duration, w io.Writer) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	err := eng.Shutdown(ctx)
	// The engine closed its events before Shutdown returned, unless ctx
	// ended first: then only what is buffered is read.
	for more := true; more; {
		select {
		case ev, ok := <-eng.Events():
			if !ok {
				more = false
				break
			}
			d.apply(ev)
		default:
			more = false
		}
	}
	for _, l := range d.log {
		if l.stage >= lifecycle.StageStopping {
			fmt.Fprintln(w, Escape(l.text))
		}
	}
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		fmt.Fprintf(w, txtShutdownTimedOut+"\n", formatDuration(timeout))
		printPending(w, eng.Holding())
	case err != nil:
		fmt.Fprintln(w, txtShutdownFailed+": "+Escape(err.Error()))
	}
}

// state is where the console stands.
type state int

const (
	stateStarting state = iota // the dashboard, while the engine starts
	stateReady                 // the key browser
	stateFailed                // the start failed; the error stays until q
	stateStopping              // the shutdown view, while the engine cleans up
	stateDone                  // the program is ending
)

// Messages of the lifecycle.
type (
	eventMsg        struct{ ev lifecycle.Event }
	eventsClosedMsg struct{}
	startedMsg      struct {
		store backends.Store
		err   error
	}
	shutdownMsg struct{ err error }
	// stopMsg is a stop request from outside (Run's context ended).
	stopMsg struct{}
	// forceMsg is a later request from outside while the cleanup runs.
	forceMsg struct{}
	tickMsg  struct{}
)

type model struct {
	ctx    context.Context
	eng    Engine
	opts   Options
	styles *styles
	keys   keyMap
	clock  func() time.Time
	// term is the output the program draws on, for the sequences the
	// console writes itself (OSC 52). Nil: copying reports that it cannot.
	term io.Writer
	// last is the frame View drew last, shared by the copies of the model.
	last *lastFrame
	// detach, when closed, makes a command waiting for an engine event
	// return: Run closes it once the program has ended, so that the
	// events of a shutdown after a crash go to the reader Run starts.
	// Nil (never closed) in tests that run the model themselves.
	detach <-chan struct{}

	state state
	// began is the console's first moment; startedAt when the start
	// answered (ready or failed), readyAt when the store was ready,
	// stoppingAt when the shutdown began (zero: not yet).
	began, startedAt, readyAt, stoppingAt time.Time
	now                                   time.Time
	width                                 int
	height                                int
	dash                                  dashboard
	br                                    *browser
	showLog                               bool

	err          string
	eventsClosed bool
	shutdownDone bool
	forced       bool
	held         []string // what the engine still held when the exit was forced
	timedOut     bool     // the shutdown did not finish within ShutdownTimeout
	startFailed  bool     // m.err is a failed start, not a failed shutdown
	// quitRequested: q, ctrl+c or a stop request asked to quit. (The state
	// alone cannot tell: a stop request ends the root context, so the start
	// may report ErrStopped, and the console be stopping, before the
	// request's message arrives.)
	quitRequested bool
}

// newModel builds the console. clock is the time source of everything
// the views show (tests fix it).
func newModel(ctx context.Context, eng Engine, opts Options, st *styles, clock func() time.Time) model {
	if opts.ShutdownTimeout == 0 {
		opts.ShutdownTimeout = 60 * time.Second
	}
	if opts.CallTimeout == 0 {
		opts.CallTimeout = 10 * time.Second
	}
	if opts.WriteTimeout == 0 {
		opts.WriteTimeout = defaultWriteTimeout
	}
	now := clock()
	return model{
		ctx: ctx, eng: eng, opts: opts, styles: st, keys: newKeyMap(opts.ReadOnly), clock: clock,
		began: now, now: now, width: 80, height: 24, last: &lastFrame{},
	}
}

func (m model) Init() tea.Cmd {
	return tea.Batch(tick(m.tickEvery()), waitEvent(m.eng.Events(), m.detach), startCmd(m.ctx, m.eng))
}

// tick drives the clock-dependent parts of the view (spinners, elapsed
// times, countdowns, flashes). There is one tick loop; Update re-arms it.
func tick(d time.Duration) tea.Cmd {
	return tea.Tick(d, func(time.Time) tea.Msg { return tickMsg{} })
}

// tickEvery is fast while something animates, slow otherwise.
func (m model) tickEvery() time.Duration {
	if m.state == stateReady && !m.showLog && !m.br.animating(m.now) {
		return time.Second
	}
	return 100 * time.Millisecond
}

// waitEvent reads one engine event; Update re-arms it. It returns nothing
// once detach is closed.
func waitEvent(ch <-chan lifecycle.Event, detach <-chan struct{}) tea.Cmd {
	return func() tea.Msg {
		select {
		case ev, ok := <-ch:
			if !ok {
				return eventsClosedMsg{}
			}
			return eventMsg{ev}
		case <-detach:
			return nil
		}
	}
}

func startCmd(ctx context.Context, eng Engine) tea.Cmd {
	return func() tea.Msg {
		store, err := eng.Start(ctx)
		return startedMsg{store, err}
	}
}

func shutdownCmd(eng Engine, timeout time.Duration) tea.Cmd {
	return func() tea.Msg {
		// Not the root context: that one has ended when a signal asked
		// for this shutdown, and cleanup must still run.
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		return shutdownMsg{eng.Shutdown(ctx)}
	}
}

func (m model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	m.now = m.clock()
	if m.br != nil {
		m.br.unchanged = false // until the browser says so
	}
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
		if m.state == stateReady {
			return m, m.br.resize(m.width, m.height)
		}
	case tickMsg:
		var cmd tea.Cmd
		if m.state == stateReady {
			cmd = m.br.tick(m.now)
		}
		if m.state == stateDone {
			return m, nil
		}
		return m, tea.Batch(cmd, tick(m.tickEvery()))
	case eventMsg:
		m.dash.apply(msg.ev)
		if msg.ev.Final() && msg.ev.Err != nil && m.err == "" && m.state != stateStarting {
			m.err = msg.ev.Err.Error()
		}
		var cmd tea.Cmd
		if msg.ev.Kind == lifecycle.KindHealth && m.state == stateReady {
			cmd = m.br.setHealth(m.dash.health, m.now)
		}
		return m, tea.Batch(cmd, waitEvent(m.eng.Events(), m.detach))
	case eventsClosedMsg:
		m.eventsClosed = true
		return m.maybeQuit()
	case startedMsg:
		return m.started(msg)
	case shutdownMsg:
		m.shutdownDone = true
		if msg.err != nil {
			m.err = msg.err.Error()
		}
		if errors.Is(msg.err, context.DeadlineExceeded) {
			// ShutdownTimeout passed: the engine's remaining steps go on
			// but may never finish (nor close the events). Leave now;
			// printSummary says what did not finish.
			m.timedOut = true
			m.state = stateDone
			return m, tea.Quit
		}
		return m.maybeQuit()
	case stopMsg:
		if m.quitRequested {
			return m, nil // the same request, already being served
		}
		return m.quit()
	case forceMsg:
		return m.forceQuit()
	case exportedMsg:
		if m.br != nil {
			m.br.exported(msg, m.now)
		}
		return m.maybeQuit()
	case tea.KeyMsg:
		return m.key(msg)
	default:
		if m.state == stateReady {
			return m, m.br.update(msg, m.now)
		}
	}
	return m, nil
}

func (m model) started(msg startedMsg) (tea.Model, tea.Cmd) {
	m.startedAt = m.now
	switch {
	case msg.err == nil:
		if m.state != stateStarting {
			// Quit while the store came up: the engine closes it.
			return m, nil
		}
		m.state = stateReady
		m.readyAt = m.now
		m.br = newBrowser(m.ctx, msg.store, browserConfig{
			styles: m.styles, keys: m.keys, readOnly: m.opts.ReadOnly, callTimeout: m.opts.CallTimeout,
			writeTimeout: m.opts.WriteTimeout, term: m.term, clock: m.clock,
		})
		// A health event may have come before the store's answer.
		m.br.health = m.dash.health
		m.br.resize(m.width, m.height)
		return m, m.br.init(m.now)
	case errors.Is(msg.err, lifecycle.ErrStopped):
		// A stop requested during startup (q or a signal): not a failure.
		m.state = stateStopping
		m.shutdownDone = true
	case m.state != stateStopping:
		m.state = stateFailed
		m.startFailed = true
		m.err = msg.err.Error()
		m.shutdownDone = true
	default:
		m.shutdownDone = true
	}
	return m.maybeQuit()
}

// forceQuit leaves at once during a shutdown. When the engine still
// holds something (a container it owns, a database process it started),
// the exit is forced: code 1, and the summary names what was left. When
// the cleanup has finished or nothing is left to clean, it is an ordinary
// quit with the outcome so far.
func (m model) forceQuit() (tea.Model, tea.Cmd) {
	m.state = stateDone
	if !m.shutdownDone {
		m.held = m.eng.Holding()
		m.forced = len(m.held) > 0
	}
	return m, tea.Quit
}

func (m model) key(msg tea.KeyMsg) (tea.Model, tea.Cmd) {
	// Keys typed faster than the program reads arrive as one message with
	// several runes; outside text fields each is a command of its own.
	if msg.Type == tea.KeyRunes && len(msg.Runes) > 1 && !msg.Paste && !(m.state == stateReady && m.br.capturesKeys()) {
		var cmds []tea.Cmd
		var next tea.Model = m
		for i, r := range msg.Runes {
			var cmd tea.Cmd
			next, cmd = next.(model).key(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{r}})
			cmds = append(cmds, cmd)
			if nm := next.(model); nm.state == stateReady && nm.br.capturesKeys() && i+1 < len(msg.Runes) {
				// The rest is text for the field that just opened.
				rest := tea.KeyMsg{Type: tea.KeyRunes, Runes: msg.Runes[i+1:]}
				next, cmd = nm.key(rest)
				return next, tea.Batch(append(cmds, cmd)...)
			}
		}
		return next, tea.Batch(cmds...)
	}
	if msg.String() == "ctrl+c" {
		if m.state == stateStopping {
			return m.forceQuit()
		}
		return m.quit()
	}
	switch m.state {
	case stateReady:
		if m.showLog {
			switch msg.String() {
			case "q":
				return m.quit()
			case "L", "esc":
				m.showLog = false
			}
			return m, nil
		}
		if !m.br.capturesKeys() {
			switch msg.String() {
			case "q":
				return m.quit()
			case "L":
				m.showLog = true
				return m, nil
			}
		}
		return m, m.br.update(msg, m.now)
	case stateStarting, stateFailed:
		if msg.String() == "q" {
			return m.quit()
		}
	}
	return m, nil
}

// quit begins the visible shutdown, or leaves when there is nothing to
// shut down.
func (m model) quit() (tea.Model, tea.Cmd) {
	m.quitRequested = true
	switch m.state {
	case stateFailed:
		// Leave the error on the screen being torn down.
		return m, tea.Quit
	case stateDone:
		return m, tea.Quit
	case stateStopping:
		return m, nil
	}
	m.br.close()
	m.state = stateStopping
	m.stoppingAt = m.now
	return m, shutdownCmd(m.eng, m.opts.ShutdownTimeout)
}

// maybeQuit exits once a shutdown has finished, every event was shown and
// an export the quit cancelled has removed its temporary file.
func (m model) maybeQuit() (tea.Model, tea.Cmd) {
	if m.state == stateStopping && m.shutdownDone && m.eventsClosed && (m.br == nil || !m.br.export.running()) {
		m.state = stateDone
		return m, tea.Quit
	}
	return m, nil
}

// close ends the browser's watch and reads.
func (m model) close() { m.br.close() }

func (m model) exitCode() int {
	if m.forced || m.err != "" {
		return 1
	}
	return 0
}

// printSummary writes what happened at shutdown to the normal screen
// after the console closes, so it stays in the terminal's scrollback.
func (m model) printSummary(w io.Writer) {
	if m.forced {
		fmt.Fprintln(w, txtForced)
		printPending(w, m.held)
		return
	}
	for _, l := range m.dash.log {
		if l.stage >= lifecycle.StageStopping {
			fmt.Fprintln(w, Escape(l.text))
		}
	}
	if m.timedOut {
		fmt.Fprintf(w, txtShutdownTimedOut+"\n", formatDuration(m.opts.ShutdownTimeout))
		printPending(w, m.eng.Holding())
		return
	}
	if m.err != "" {
		label := txtStopFailed
		if m.startFailed {
			label = txtFailed
		}
		fmt.Fprintln(w, label+": "+EscapeMultiline(m.err))
	}
}

// printPending names what the engine still held when the console left.
func printPending(w io.Writer, held []string) {
	if len(held) > 0 {
		fmt.Fprintln(w, txtNotCleaned+Escape(strings.Join(held, ", ")))
	}
}
