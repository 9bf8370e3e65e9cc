package tui

import (
	"fmt"
	"strings"
	"time"

	"github.com/charmbracelet/lipgloss"

	"github.com/k3/k3-storage/engine"
)

func (m model) View() string {
	var b strings.Builder
	b.WriteString(m.header())
	b.WriteString("\n\n")
	b.WriteString(m.checklist())
	switch m.state {
	case stateStarting:
		if a := m.attempt; a != nil {
			b.WriteString("\n" + m.attemptLine(a))
		}
	case stateReady:
		b.WriteString("\n" + m.styles.ok.Render("● "+txtReady) + "  " + txtBackend + ": " + m.styles.key.Render(m.eng.Backend()))
		if addr := m.eng.Address(); addr != "" {
			b.WriteString("  " + txtAddress + ": " + Escape(addr))
		}
		b.WriteString("\n")
	case stateFailed:
		b.WriteString("\n" + m.styles.fail.Render("✗ "+txtFailed) + "\n")
		b.WriteString(wrap(EscapeMultiline(m.err), m.width) + "\n")
	case stateStopping:
		b.WriteString("\n" + m.styles.running.Render(txtStopping) + "\n")
	}
	b.WriteString("\n" + m.footer())
	return b.String()
}

func (m model) header() string {
	s := m.styles
	elapsed := m.now.Sub(m.began).Round(time.Second)
	parts := []string{
		s.title.Render(txtTitle),
		txtBackend + " " + s.key.Render(m.eng.Backend()),
	}
	if addr := m.eng.Address(); addr != "" {
		parts = append(parts, Escape(addr))
	}
	parts = append(parts, txtConfig+" "+Escape(m.opts.ConfigFile), txtElapsed+" "+elapsed.String())
	return lipgloss.NewStyle().MaxWidth(max(m.width, 20)).Render(strings.Join(parts, s.dim.Render(" · ")))
}

// checklist renders one line per stage: a mark, the label, its time and
// its text.
func (m model) checklist() string {
	var b strings.Builder
	s := m.styles
	for _, r := range m.rows {
		var mark string
		switch r.status {
		case engine.Running:
			mark = m.spinner.View()
		case engine.Done:
			mark = s.ok.Render("✓")
		case engine.Failed:
			mark = s.fail.Render("✗")
		case engine.Skipped:
			mark = s.dim.Render("–")
		}
		line := mark + " " + stageLabel(r.stage)
		switch {
		case r.status == engine.Running:
			line += s.dim.Render(" " + m.now.Sub(r.began).Round(100*time.Millisecond).String())
		case r.duration > 0:
			line += s.dim.Render(" " + r.duration.Round(time.Millisecond).String())
		}
		if r.text != "" {
			line += "  " + s.dim.Render(Escape(r.text))
		}
		b.WriteString(truncate(line, m.width) + "\n")
	}
	return b.String()
}

func (m model) attemptLine(a *engine.Attempt) string {
	var line string
	if a.NextDelay > 0 {
		line = fmt.Sprintf(txtAttempt, a.N, a.Elapsed.Round(100*time.Millisecond), a.Budget, a.NextDelay)
	} else {
		line = fmt.Sprintf(txtAttemptLast, a.N, a.Elapsed.Round(100*time.Millisecond), a.Budget)
	}
	out := m.styles.warn.Render(line)
	if m.attemptErr != "" {
		out += "\n" + truncate(m.styles.dim.Render(Escape(m.attemptErr)), m.width)
	}
	return out + "\n"
}

func (m model) footer() string {
	switch m.state {
	case stateStopping:
		return m.styles.dim.Render(txtForceHint)
	case stateFailed:
		return m.styles.dim.Render(txtFailedHint)
	}
	return m.styles.dim.Render(txtQuitHint)
}

// truncate cuts a rendered line to the terminal width.
func truncate(s string, width int) string {
	if width <= 0 {
		return s
	}
	return lipgloss.NewStyle().MaxWidth(width).Render(s)
}

// wrap breaks text to the terminal width.
func wrap(s string, width int) string {
	if width <= 0 {
		return s
	}
	return lipgloss.NewStyle().Width(width).Render(s)
}
