package tui

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/k3/k3-storage/engine/lifecycle"
	"github.com/k3/k3-storage/internal/units"
)

// minWidth and minHeight are the smallest screen the console draws on.
const (
	minWidth  = 40
	minHeight = 10
)

// View draws the screen. After a message that changed nothing on it (a
// key of a burst of typed text, only gathered: see typingGap) it returns
// the last frame: Bubble Tea draws after every message, and a paste
// without bracketed paste is tens of thousands of them.
func (m model) View() string {
	if m.last != nil && m.last.ok && m.state == stateReady && m.br.unchanged {
		return m.last.frame
	}
	v := m.view()
	if m.last != nil {
		m.last.frame, m.last.ok = v, true
	}
	return v
}

// lastFrame is the frame View drew last.
type lastFrame struct {
	frame string
	ok    bool
}

func (m model) view() string {
	w, h := m.width, m.height
	if w < minWidth || h < minHeight {
		return clip(fmt.Sprintf(txtTooSmall, minWidth, minHeight), max(w, 1))
	}
	var lines []string
	switch {
	case m.state == stateReady && m.showLog:
		lines = append([]string{m.header()}, m.logView(h-1)...)
	case m.state == stateReady:
		lines = append([]string{m.browserHeader()}, m.br.view(m.now)...)
	case m.state == stateStopping || m.state == stateDone:
		lines = m.shutdownView()
	default:
		lines = m.dashboardView()
	}
	return frame(lines, w, h)
}

// frame cuts lines to the screen: at most h lines, each at most w cells.
func frame(lines []string, w, h int) string {
	if len(lines) > h {
		lines = lines[:h]
	}
	for i, l := range lines {
		lines[i] = clip(l, w)
	}
	return strings.Join(lines, "\n")
}

// The header is the first line of every screen: who we are (identity),
// then what state we are in. Each state adds its own parts, so that a new
// state (a backend that stopped answering, say) is one more part.

// identity is the header's start: the title, the backend and its address.
func (m model) identity(labelled bool) []string {
	s := m.styles
	backend, address := s.key.Render(Escape(m.eng.Backend())), ""
	if addr := m.eng.Address(); addr != "" {
		address = Escape(addr)
	}
	if labelled {
		backend = txtBackend + " " + backend
		if address != "" {
			address = txtAddress + " " + address
		}
	}
	parts := []string{s.title.Render(txtTitle), backend}
	if address != "" {
		parts = append(parts, address)
	}
	return parts
}

// header is the first line of the dashboard, the shutdown view and the
// startup log: identity, config file, how long the start took (counting
// while it runs, frozen once it ended, failed or not) and, once the store
// was ready, how long it has been up (frozen when the shutdown began).
//
// When the line is too wide it drops, in turn, the labels of the backend
// and the address, then the config file: the times are what changes.
func (m model) header() string {
	sep := m.styles.dim.Render(" · ")
	startup, done := m.startupTime()
	clock := []string{txtStartupTime + " " + formatSeconds(startup)}
	if done {
		clock[0] = txtStartupTime + " " + formatDuration(startup)
	}
	if !m.readyAt.IsZero() {
		clock = append(clock, txtUptime+" "+formatSeconds(m.uptime()))
	}
	config := []string{}
	if m.opts.ConfigFile != "" {
		config = append(config, txtConfig+" "+Escape(m.opts.ConfigFile))
	}
	var line string
	for _, try := range [][]string{
		slices.Concat(m.identity(true), config, clock),
		slices.Concat(m.identity(false), config, clock),
		slices.Concat(m.identity(false), clock),
	} {
		line = strings.Join(try, sep)
		if ansiWidth(line) <= m.width {
			break
		}
	}
	return line
}

// startupTime is how long the start took, or has taken so far (done
// false): the engine's own measure, the start stage's duration, once it
// reported the stage's end; else the console's, from its first frame to
// the start's answer.
func (m model) startupTime() (d time.Duration, done bool) {
	for _, r := range m.dash.rows {
		if r.stage == lifecycle.StageStart && r.status != lifecycle.Running {
			return r.duration, true
		}
	}
	if !m.startedAt.IsZero() {
		return m.startedAt.Sub(m.began), true
	}
	return m.now.Sub(m.began), false
}

// uptime is how long the store has been ready: until now, or until the
// shutdown began.
func (m model) uptime() time.Duration {
	end := m.now
	if !m.stoppingAt.IsZero() {
		end = m.stoppingAt
	}
	return max(end.Sub(m.readyAt), 0)
}

// browserHeader is the header of the key browser: identity, then the
// browser's state parts (live or not, read-only, warnings) and the config.
// While the backend does not answer, the address gives way to a red part
// saying so (with the address the engine checks and how long it has been
// down), and the failed check's error takes the room left before the
// config.
func (m model) browserHeader() string {
	s := m.styles
	sep := s.dim.Render(" · ")
	parts := m.identity(false)
	outage := m.br.outagePart(m.now)
	if outage != "" {
		if m.br.health.address != "" {
			parts = parts[:2] // title and backend: the outage names the address
		}
		parts = append(parts, outage)
	}
	parts = append(parts, m.br.liveStatus(m.now))
	if m.opts.ReadOnly {
		parts = append(parts, s.badge.Render(txtReadOnlyBadge))
	}
	if n := len(m.dash.warnings); n > 0 {
		parts = append(parts, s.warn.Render(fmt.Sprintf(txtWarningsBadge, n)))
	}
	if outage != "" {
		room := m.width - ansiWidth(strings.Join(parts, sep)+sep)
		if why := m.br.outageError(room); why != "" {
			parts = append(parts, why)
		}
	}
	if m.opts.ConfigFile != "" {
		parts = append(parts, s.dim.Render(txtConfig+" "+Escape(m.opts.ConfigFile)))
	}
	return strings.Join(parts, sep)
}

// dashboardView is the startup screen: checklist, pull, connect attempts,
// warnings and, after a failure, the error.
func (m model) dashboardView() []string {
	s := m.styles
	w, h := m.width, m.height
	lines := []string{m.header(), ""}
	var body []string
	checklist := m.checklist(func(r stageRow) bool { return r.stage < lifecycle.StageStopping })
	if p := m.dash.pull; p != nil && m.dash.running(lifecycle.StagePull) {
		body = append(body, m.pullView(p, h)...)
	}
	if a := m.dash.attempt; a != nil && m.state == stateStarting {
		body = append(body, "")
		body = append(body, m.attemptView(a)...)
	}
	if len(m.dash.warnings) > 0 {
		body = append(body, "")
		for _, wline := range m.dash.warnings {
			for i, l := range wrapPlain(Escape(wline), w-4, 3) {
				mark := "  "
				if i == 0 {
					mark = "⚠ "
				}
				body = append(body, s.warn.Render(mark+l))
			}
		}
	}
	if m.dash.info != "" && m.state == stateStarting {
		body = append(body, s.dim.Render(clip(Escape(m.dash.info), w)))
	}
	if m.state == stateFailed {
		body = append(body, "", s.fail.Render("✗ "+txtFailed))
		// The error says what was tried and how to fix it: give it room,
		// the checklist above gives way.
		for _, l := range wrapPlain(EscapeMultiline(m.err), w, max(8, h/2)) {
			body = append(body, s.errText.Render(l))
		}
	}
	footer := []string{"", s.dim.Render(txtStartHint)}
	if m.state == stateFailed {
		footer = []string{"", s.dim.Render(txtFailedHint)}
	}
	// Keep the newest checklist rows when everything does not fit.
	room := h - len(lines) - len(body) - len(footer)
	if room < len(checklist) {
		cut := len(checklist) - max(room-1, 1)
		if cut > 0 && cut < len(checklist) {
			checklist = append([]string{s.dim.Render(fmt.Sprintf(txtStepsHidden, cut))}, checklist[cut:]...)
		}
	}
	lines = append(lines, checklist...)
	lines = append(lines, body...)
	if pad := h - len(lines) - len(footer); pad > 0 {
		lines = append(lines, make([]string, pad)...)
	}
	return append(lines, footer...)
}

// checklist renders the stage rows that keep selects: a mark, the label,
// its time and its text; a failed row's error below it.
func (m model) checklist(keep func(stageRow) bool) []string {
	var out []string
	s := m.styles
	for _, r := range m.dash.rows {
		if !keep(r) {
			continue
		}
		var mark string
		switch r.status {
		case lifecycle.Running:
			mark = s.spinner(m.now)
		case lifecycle.Done:
			mark = s.ok.Render("✓")
		case lifecycle.Failed:
			mark = s.fail.Render("✗")
		default:
			mark = s.dim.Render("–")
		}
		line := mark + " " + stageLabel(r.stage)
		switch {
		case r.status == lifecycle.Running:
			line += s.dim.Render(" " + formatDuration(m.now.Sub(r.began)))
		case r.duration > 0:
			line += s.dim.Render(" " + formatDuration(r.duration))
		}
		if r.text != "" {
			line += "  " + s.dim.Render(Escape(r.text))
		}
		out = append(out, line)
		// A failed stage's error, unless the final error already says it.
		if r.status == lifecycle.Failed && r.err != "" && !strings.Contains(m.err, r.err) {
			for _, l := range wrapPlain(EscapeMultiline(r.err), m.width-4, 2) {
				out = append(out, "  "+s.errText.Render(l))
			}
		}
	}
	return out
}

// spinner is the running mark, its frame taken from the clock.
func (s *styles) spinner(now time.Time) string { return s.running.Render(spinnerFrame(now)) }

// pullView shows one line per layer and a total line. When the layers do
// not fit, finished ones are folded into one line.
func (m model) pullView(p *pullState, height int) []string {
	s := m.styles
	w := m.width
	out := []string{"  " + s.key.Render(txtPullImage+" "+Escape(p.image))}
	var active []string
	folded := 0
	for _, l := range p.layers {
		if l.phase.Done() && len(p.layers) > max(height-16, 3) {
			folded++
			continue
		}
		active = append(active, m.layerLine(l, w))
	}
	if room := max(height-18, 2); len(active) > room {
		folded += len(active) - room
		active = active[len(active)-room:]
	}
	if folded > 0 {
		out = append(out, s.ok.Render(fmt.Sprintf(txtLayersFolded, folded)))
	}
	out = append(out, active...)
	return append(out, m.pullTotal(p))
}

// layerLine renders one layer: its ID, what it is doing and a bar, or a
// spinner and the bytes so far when its size is unknown.
func (m model) layerLine(l layerState, width int) string {
	s := m.styles
	id := l.id
	if len(id) > 12 {
		id = id[:12]
	}
	head := "  " + Escape(id) + "  "
	label := layerLabel(l)
	const labelW = 8
	switch {
	case l.phase.Done():
		return head + s.ok.Render("✓ "+label)
	case (l.phase == lifecycle.PhaseDownloading || l.phase == lifecycle.PhaseExtracting) && l.total > 0:
		// Bars of one width, numbers right-aligned, so layers line up.
		const numsW = 23 // "1023.9 MiB / 1023.9 MiB"
		nums := units.Bytes(l.current) + " / " + units.Bytes(l.total)
		barW := min(max(width-16-labelW-1-numsW-2, 8), 40)
		return head + fit(label, labelW) + " " + s.gauge(float64(l.current)/float64(l.total), barW) + "  " +
			strings.Repeat(" ", max(numsW-len(nums), 0)) + nums
	case l.phase == lifecycle.PhaseDownloading:
		return head + fit(label, labelW) + " " + s.spinner(m.now) + " " + units.Bytes(l.current) + "  " + s.dim.Render(txtSizeUnknown)
	case l.phase == lifecycle.PhaseVerifying || l.phase == lifecycle.PhaseDownloaded:
		return head + s.ok.Render(label)
	}
	return head + s.dim.Render(label)
}

// layerLabel names a layer's phase; the runtime's own words, escaped, for
// a phase it does not know.
func layerLabel(l layerState) string {
	switch l.phase {
	case lifecycle.PhaseWaiting:
		return txtLayerWaiting
	case lifecycle.PhaseDownloading:
		return txtLayerDownloading
	case lifecycle.PhaseVerifying:
		return txtLayerVerifying
	case lifecycle.PhaseDownloaded:
		return txtLayerDownloaded
	case lifecycle.PhaseExtracting:
		return txtLayerExtracting
	case lifecycle.PhaseComplete:
		return txtLayerComplete
	case lifecycle.PhaseExists:
		return txtLayerExists
	}
	return Escape(l.status)
}

// pullTotal is the aggregate line: bytes, rate, time left and layers.
func (m model) pullTotal(p *pullState) string {
	s := m.styles
	var parts []string
	if p.size > 0 {
		parts = append(parts, fmt.Sprintf(txtPullBytes, units.Bytes(p.done), units.Bytes(p.size)))
	} else {
		parts = append(parts, fmt.Sprintf(txtPullBytesUnknown, units.Bytes(p.done)))
	}
	rate := p.rate()
	if r := formatRate(rate); r != "" {
		parts = append(parts, r)
	}
	if d, ok := eta(p.size-p.done, rate); ok && p.size > 0 && p.unknownLayers() == 0 {
		parts = append(parts, fmt.Sprintf(txtETA, formatSeconds(d+time.Second-1)))
	}
	if n := p.unknownLayers(); n > 0 {
		parts = append(parts, fmt.Sprintf(txtLayersUnknown, n))
	}
	parts = append(parts, fmt.Sprintf(txtLayers, p.layersDone, p.layerCount))
	text := txtPullTotal + " " + strings.Join(parts, " · ")
	if gw := min(m.width-4-ansiWidth(text), 20); p.size > 0 && gw >= 8 {
		return "  " + s.gauge(float64(p.done)/float64(p.size), gw) + " " + text
	}
	return "  " + text
}

// attemptView shows the connect retries: attempt number and address,
// elapsed time against the budget as a bar, the last error in one line and
// the countdown to the next attempt.
func (m model) attemptView(a *lifecycle.Attempt) []string {
	s := m.styles
	since := max(m.now.Sub(m.dash.attemptAt), 0)
	elapsed := a.Elapsed + since
	if a.Budget > 0 {
		elapsed = min(elapsed, a.Budget)
	}
	out := []string{s.warn.Render(fmt.Sprintf(txtAttemptTitle, a.N, Escape(a.Address)))}
	if a.Budget > 0 {
		out = append(out, "  "+s.gauge(float64(elapsed)/float64(a.Budget), min(max(m.width-30, 10), 40))+
			"  "+formatDuration(elapsed)+" / "+formatDuration(a.Budget))
	}
	if m.dash.attemptErr != "" {
		out = append(out, "  "+s.errText.Render(clip(txtLastError+": "+Escape(oneLine(m.dash.attemptErr)), m.width-2)))
	}
	switch left := a.NextDelay - since; {
	case a.NextDelay == 0:
		out = append(out, "  "+s.dim.Render(txtLastAttempt))
	case left > 0:
		out = append(out, "  "+s.dim.Render(fmt.Sprintf(txtNextAttempt, formatDuration(left))))
	default:
		out = append(out, "  "+s.dim.Render(txtRetrying))
	}
	return out
}

// oneLine joins a multi-line error into one line.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// shutdownView shows each cleanup step as the engine reports it.
func (m model) shutdownView() []string {
	s := m.styles
	lines := []string{m.header(), "", s.running.Render(txtStopping), ""}
	lines = append(lines, m.checklist(func(r stageRow) bool { return r.stage >= lifecycle.StageStopping })...)
	if m.err != "" {
		lines = append(lines, "")
		for _, l := range wrapPlain(EscapeMultiline(m.err), m.width, 4) {
			lines = append(lines, s.errText.Render(l))
		}
	}
	if pad := m.height - len(lines) - 2; pad > 0 {
		lines = append(lines, make([]string, pad)...)
	}
	return append(lines, "", s.dim.Render(txtForceHint))
}

// logView is the startup checklist and warnings, on demand (L) after the
// browser opened.
func (m model) logView(h int) []string {
	s := m.styles
	lines := []string{"", s.key.Render(txtLogTitle)}
	lines = append(lines, m.checklist(func(r stageRow) bool { return true })...)
	for _, wline := range m.dash.warnings {
		lines = append(lines, s.warn.Render("⚠ "+Escape(oneLine(wline))))
	}
	if len(lines) > h-2 {
		lines = lines[len(lines)-(h-2):]
	}
	if pad := h - len(lines) - 2; pad > 0 {
		lines = append(lines, make([]string, pad)...)
	}
	return append(lines, "", s.dim.Render(txtLogHint))
}
