package tui

import "github.com/charmbracelet/lipgloss"

// styles are the console's colours, chosen once for the terminal's
// background before the program starts.
type styles struct {
	title, header, dim, ok, fail, warn, running, spinner, key lipgloss.Style
}

func newStyles(dark bool) styles {
	accent := lipgloss.Color("#5A56E0")
	dim := lipgloss.Color("#6B6B6B")
	if dark {
		accent = lipgloss.Color("#8E8BFF")
		dim = lipgloss.Color("#8A8A8A")
	}
	return styles{
		title:   lipgloss.NewStyle().Bold(true).Foreground(accent),
		header:  lipgloss.NewStyle().Foreground(dim),
		dim:     lipgloss.NewStyle().Foreground(dim),
		ok:      lipgloss.NewStyle().Foreground(lipgloss.Color("2")),
		fail:    lipgloss.NewStyle().Foreground(lipgloss.Color("1")).Bold(true),
		warn:    lipgloss.NewStyle().Foreground(lipgloss.Color("3")),
		running: lipgloss.NewStyle().Foreground(accent),
		spinner: lipgloss.NewStyle().Foreground(accent),
		key:     lipgloss.NewStyle().Bold(true),
	}
}
