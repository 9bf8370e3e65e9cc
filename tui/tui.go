// Package tui is k3-storage's console: a live startup dashboard, then the
// ready view, then a shutdown view that shows cleanup as it happens. It
// turns engine events into view state and runs engine and store calls only
// inside tea.Cmds; it decides nothing about the lifecycle itself.
package tui

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/spinner"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"

	"github.com/k3/k3-storage/backends"
	"github.com/k3/k3-storage/engine"
)

// Engine is what the console needs from the lifecycle; *engine.Engine
// implements it.
type Engine interface {
	Events() <-chan engine.Event
	Start(ctx context.Context) (backends.Store, error)
	Shutdown(ctx context.Context) error
	Backend() string
	Address() string
}

var _ Engine = (*engine.Engine)(nil)

// Options configure the console.
type Options struct {
	// ConfigFile names the config in use, for the header.
	ConfigFile string
	// ReadOnly disables creating, editing and deleting keys.
	ReadOnly bool
	// ShutdownTimeout bounds the clean shutdown. Default 60s.
	ShutdownTimeout time.Duration
}

// Run shows the console until the user quits (q, ctrl+c) or ctx ends (a
// signal), shutting the engine down visibly either way. It returns the exit
// code: 0 after a clean stop, 1 after a failure or a forced exit.
func Run(ctx context.Context, eng Engine, opts Options) int {
	styles := newStyles(lipgloss.HasDarkBackground())
	m := newModel(ctx, eng, opts, styles)
	force, cancelForce := context.WithCancel(context.Background())
	defer cancelForce()
	p := tea.NewProgram(m, tea.WithAltScreen(), tea.WithContext(force), tea.WithoutSignalHandler())
	go func() {
		select {
		case <-ctx.Done():
			p.Send(signalMsg{})
		case <-force.Done():
		}
	}()
	final, err := p.Run()
	fm, ok := final.(model)
	if err != nil || !ok {
		fmt.Fprintln(os.Stderr, "k3-storage:", err)
		return 1
	}
	fm.printSummary(os.Stdout)
	return fm.exitCode()
}

type state int

const (
	stateStarting state = iota
	stateReady
	stateFailed
	stateStopping
	stateDone
)

// Messages.
type (
	eventMsg        struct{ ev engine.Event }
	eventsClosedMsg struct{}
	startedMsg      struct {
		store backends.Store
		err   error
	}
	shutdownMsg struct{ err error }
	signalMsg   struct{}
)

// stageRow is one line of the checklist.
type stageRow struct {
	stage    engine.Stage
	status   engine.Status
	text     string
	began    time.Time
	duration time.Duration
	err      string
}

type model struct {
	ctx    context.Context
	eng    Engine
	opts   Options
	styles styles

	state        state
	began        time.Time
	now          time.Time
	width        int
	height       int
	spinner      spinner.Model
	rows         []stageRow
	attempt      *engine.Attempt
	attemptErr   string
	lastDetail   string
	store        backends.Store
	err          string
	eventsClosed bool
	shutdownDone bool
	forced       bool
}

func newModel(ctx context.Context, eng Engine, opts Options, st styles) model {
	if opts.ShutdownTimeout == 0 {
		opts.ShutdownTimeout = 60 * time.Second
	}
	sp := spinner.New(spinner.WithSpinner(spinner.MiniDot), spinner.WithStyle(st.spinner))
	now := time.Now()
	return model{ctx: ctx, eng: eng, opts: opts, styles: st, began: now, now: now, spinner: sp, width: 80, height: 24}
}

func (m model) Init() tea.Cmd {
	return tea.Batch(m.spinner.Tick, waitEvent(m.eng.Events()), startCmd(m.ctx, m.eng))
}

// waitEvent reads one engine event; Update re-arms it.
func waitEvent(ch <-chan engine.Event) tea.Cmd {
	return func() tea.Msg {
		ev, ok := <-ch
		if !ok {
			return eventsClosedMsg{}
		}
		return eventMsg{ev}
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
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		return shutdownMsg{eng.Shutdown(ctx)}
	}
}

func (m model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
	case spinner.TickMsg:
		m.now = time.Now()
		var cmd tea.Cmd
		m.spinner, cmd = m.spinner.Update(msg)
		return m, cmd
	case eventMsg:
		m.apply(msg.ev)
		return m, waitEvent(m.eng.Events())
	case eventsClosedMsg:
		m.eventsClosed = true
		return m.maybeQuit()
	case startedMsg:
		switch {
		case msg.err == nil:
			m.store = msg.store
			if m.state == stateStarting {
				m.state = stateReady
			}
		case errors.Is(msg.err, engine.ErrStopped):
			// A stop requested during startup (signal): not a failure.
			m.state = stateStopping
			m.shutdownDone = true
		case m.state != stateStopping:
			m.state = stateFailed
			m.err = msg.err.Error()
			m.shutdownDone = true
		default:
			m.shutdownDone = true
		}
		return m.maybeQuit()
	case shutdownMsg:
		m.shutdownDone = true
		if msg.err != nil {
			m.err = msg.err.Error()
		}
		return m.maybeQuit()
	case signalMsg:
		return m.quit()
	case tea.KeyMsg:
		switch msg.String() {
		case "ctrl+c":
			if m.state == stateStopping {
				m.forced = true
				return m, tea.Quit
			}
			return m.quit()
		case "q":
			return m.quit()
		}
	}
	return m, nil
}

// quit begins the visible shutdown, or leaves when there is nothing to
// shut down.
func (m model) quit() (tea.Model, tea.Cmd) {
	switch m.state {
	case stateFailed, stateDone:
		m.state = stateDone
		return m, tea.Quit
	case stateStopping:
		return m, nil
	}
	m.state = stateStopping
	return m, shutdownCmd(m.eng, m.opts.ShutdownTimeout)
}

// maybeQuit exits once a shutdown has finished and every event was shown.
func (m model) maybeQuit() (tea.Model, tea.Cmd) {
	if m.state == stateStopping && m.shutdownDone && m.eventsClosed {
		m.state = stateDone
		return m, tea.Quit
	}
	return m, nil
}

// apply folds one engine event into the view state.
func (m *model) apply(ev engine.Event) {
	switch ev.Kind {
	case engine.KindStage:
		m.applyStage(ev)
	case engine.KindAttempt:
		m.attempt = ev.Attempt
		if ev.Err != nil {
			m.attemptErr = ev.Err.Error()
		}
	case engine.KindLog:
		m.lastDetail = ev.Detail
	}
}

func (m *model) applyStage(ev engine.Event) {
	text := ev.Text
	if text == "" {
		text = ev.Detail
	}
	for i := range m.rows {
		r := &m.rows[i]
		if r.stage != ev.Stage || r.status != engine.Running {
			continue
		}
		r.status = ev.Status
		r.duration = ev.Time.Sub(r.began)
		if text != "" {
			r.text = text
		}
		if ev.Err != nil {
			r.err = ev.Err.Error()
		}
		return
	}
	row := stageRow{stage: ev.Stage, status: ev.Status, text: text, began: ev.Time}
	if ev.Err != nil {
		row.err = ev.Err.Error()
	}
	m.rows = append(m.rows, row)
	if ev.Final() && ev.Err != nil && m.err == "" {
		m.err = ev.Err.Error()
	}
}

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
		var pending []string
		for _, r := range m.rows {
			if r.status == engine.Running && r.stage != engine.StageStart {
				pending = append(pending, stageLabel(r.stage))
			}
		}
		fmt.Fprintln(w, txtForced)
		if len(pending) > 0 {
			fmt.Fprintln(w, txtNotCleaned+strings.Join(pending, ", "))
		}
		return
	}
	for _, r := range m.rows {
		if r.stage >= engine.StageStopping && r.text != "" {
			fmt.Fprintln(w, Escape(r.text))
		}
	}
	if m.err != "" {
		fmt.Fprintln(w, txtFailed+": "+Escape(m.err))
	}
}
