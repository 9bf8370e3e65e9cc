package tui

import (
	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/bubbles/progress"
	"github.com/charmbracelet/lipgloss"
)

// styles are the console's colours, chosen once for the terminal's
// background before the program starts. Under NO_COLOR (or any terminal
// without colour) lipgloss renders them as plain text, so nothing the
// console shows depends on colour alone: the cursor, flashes and states all
// have a character too.
type styles struct {
	title, header, dim, ok, fail, warn, running, key lipgloss.Style
	selected, dir, flash, badge, errText, notice     lipgloss.Style
	value                                            valueStyles
	help                                             help.Styles
	bar                                              progress.Model
}

func newStyles(dark bool) *styles {
	accent := lipgloss.Color("#5A56E0")
	accentHex := "#5A56E0"
	dim := lipgloss.Color("#6B6B6B")
	sel := lipgloss.Color("#E4E2FF")
	str, num, key := lipgloss.Color("#0A7B38"), lipgloss.Color("#9A5B00"), lipgloss.Color("#1F5FBF")
	if dark {
		accent, accentHex = lipgloss.Color("#8E8BFF"), "#8E8BFF"
		dim = lipgloss.Color("#8A8A8A")
		sel = lipgloss.Color("#34316B")
		str, num, key = lipgloss.Color("#7FD68A"), lipgloss.Color("#F0B86E"), lipgloss.Color("#7EB6FF")
	}
	h := help.New().Styles
	h.ShortKey = lipgloss.NewStyle().Bold(true)
	h.FullKey = lipgloss.NewStyle().Bold(true)
	h.ShortDesc = lipgloss.NewStyle().Foreground(dim)
	h.FullDesc = lipgloss.NewStyle().Foreground(dim)
	h.ShortSeparator = lipgloss.NewStyle().Foreground(dim)
	h.FullSeparator = lipgloss.NewStyle().Foreground(dim)
	h.Ellipsis = lipgloss.NewStyle().Foreground(dim)
	return &styles{
		title:    lipgloss.NewStyle().Bold(true).Foreground(accent),
		header:   lipgloss.NewStyle().Foreground(dim),
		dim:      lipgloss.NewStyle().Foreground(dim),
		ok:       lipgloss.NewStyle().Foreground(lipgloss.Color("2")),
		fail:     lipgloss.NewStyle().Foreground(lipgloss.Color("1")).Bold(true),
		warn:     lipgloss.NewStyle().Foreground(lipgloss.Color("3")),
		running:  lipgloss.NewStyle().Foreground(accent),
		key:      lipgloss.NewStyle().Bold(true),
		selected: lipgloss.NewStyle().Background(sel).Bold(true),
		dir:      lipgloss.NewStyle().Foreground(accent).Bold(true),
		flash:    lipgloss.NewStyle().Foreground(lipgloss.Color("0")).Background(lipgloss.Color("3")),
		badge:    lipgloss.NewStyle().Foreground(lipgloss.Color("3")).Bold(true),
		errText:  lipgloss.NewStyle().Foreground(lipgloss.Color("1")),
		notice:   lipgloss.NewStyle().Foreground(lipgloss.Color("2")),
		value: valueStyles{
			key:     lipgloss.NewStyle().Foreground(key),
			str:     lipgloss.NewStyle().Foreground(str),
			num:     lipgloss.NewStyle().Foreground(num),
			lit:     lipgloss.NewStyle().Foreground(accent),
			punct:   lipgloss.NewStyle().Foreground(dim),
			comment: lipgloss.NewStyle().Foreground(dim).Italic(true),
		},
		help: h,
		bar: progress.New(progress.WithSolidFill(accentHex), progress.WithoutPercentage(),
			progress.WithColorProfile(lipgloss.ColorProfile())),
	}
}

// gauge draws a bar of width cells filled to fraction f.
func (s *styles) gauge(f float64, width int) string {
	b := s.bar
	b.Width = max(width, 1)
	return b.ViewAs(min(max(f, 0), 1))
}
