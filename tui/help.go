package tui

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
)

// The key help: the full list (?), which scrolls when the screen is
// short, and the footer, which keeps the most important bindings when the
// screen is narrow.

// openHelp shows every binding, from the top.
func (b *browser) openHelp() {
	b.mode = modeHelp
	b.helpOffset = 0
}

// helpKey scrolls the help; ?, esc and ← close it.
func (b *browser) helpKey(msg tea.KeyMsg) {
	k := b.keys
	body := b.helpBody()
	last := max(len(b.helpLines())-body, 0)
	switch {
	case key.Matches(msg, k.Help, k.Clear, k.Back):
		b.mode = modeBrowse
	case key.Matches(msg, k.Up):
		b.helpOffset--
	case key.Matches(msg, k.Down):
		b.helpOffset++
	case key.Matches(msg, k.PageUp):
		b.helpOffset -= body
	case key.Matches(msg, k.PageDown):
		b.helpOffset += body
	case key.Matches(msg, k.Home):
		b.helpOffset = 0
	case key.Matches(msg, k.End):
		b.helpOffset = last
	}
	b.helpOffset = min(max(b.helpOffset, 0), last)
}

// helpBody is the number of help lines on screen, below its title.
func (b *browser) helpBody() int { return max(b.rows-1, 1) }

// helpLines is the whole help: every binding, its groups side by side as
// far as the width allows, then notes.
func (b *browser) helpLines() []string {
	h := help.New()
	h.Styles = b.st.help
	h.Width = b.width
	h.FullSeparator = "   "
	var out []string
	groups := b.keys.FullHelp()
	perRow := min(max(b.width/28, 1), len(groups))
	for i := 0; i < len(groups); i += perRow {
		if i > 0 {
			out = append(out, "")
		}
		out = append(out, strings.Split(h.FullHelpView(groups[i:min(i+perRow, len(groups))]), "\n")...)
	}
	out = append(out, "")
	for _, note := range []string{txtHelpFilter, txtHelpCopy, txtHelpFeed, txtHelpHistory, txtHelpExport} {
		for _, l := range wrapPlain(note, b.width, 0) {
			out = append(out, b.st.dim.Render(l))
		}
	}
	if b.cfg.readOnly {
		out = append(out, b.st.badge.Render(txtReadOnlyHelp))
	}
	return out
}

// helpView is the help's title (with the lines shown, when it scrolls)
// and the lines from helpOffset, exactly b.rows lines.
func (b *browser) helpView() []string {
	lines := b.helpLines()
	body := b.helpBody()
	title := b.st.key.Render(txtHelpTitle)
	if len(lines) > body {
		end := min(b.helpOffset+body, len(lines))
		more := ""
		if end < len(lines) {
			more = " ↓"
		}
		title += b.st.dim.Render(" · " + fmt.Sprintf(txtLines, b.helpOffset+1, end, len(lines)) + more)
	}
	out := []string{title}
	out = append(out, lines[min(b.helpOffset, len(lines)):min(b.helpOffset+body, len(lines))]...)
	for len(out) < b.rows {
		out = append(out, "")
	}
	return out[:b.rows]
}

// footer shows the main bindings of the current mode, as many as fit:
// when they do not, the least important go first (help and quit stay).
func (b *browser) footer() string {
	asking := b.mode == modeHistory && b.hist.confirm
	if f := b.footerFor; f.ok && f.mode == b.mode && f.asking == asking && f.width == b.width {
		return f.line
	}
	line := b.fitFooter()
	b.footerFor = footerLine{mode: b.mode, asking: asking, width: b.width, line: line, ok: true}
	return line
}

// footerLine is the footer as last fitted: it depends only on the mode
// (and, in the history, whether a restore is asked) and the width, and
// fitting it renders the bindings several times.
type footerLine struct {
	mode   mode
	asking bool
	width  int
	line   string
	ok     bool
}

// fitFooter fits the current mode's bindings to the width.
func (b *browser) fitFooter() string {
	k := b.keys
	var bs []ranked
	switch b.mode {
	case modeFilter:
		bs = []ranked{
			{key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", hlpFilterDone)), rankMain},
			{key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", hlpFilterClear)), rankMain},
		}
	case modeNewKey:
		bs = rankAll(k.editorHelp(true), rankMain)
	case modeNewValue, modeEdit:
		bs = rankAll(k.editorHelp(false), rankMain)
	case modeConfirmDelete:
		bs = []ranked{{k.Confirm, rankMain}, {key.NewBinding(key.WithKeys("n"), key.WithHelp(hlpAnyKey, hlpCancel)), rankMain}}
	case modeValue:
		bs = []ranked{{k.Up, rankMinor}, {k.Down, rankMinor}, {k.Hex, rankMinor}, {k.Wrap, rankMinor}, {k.Back, rankMain}}
		if !b.cfg.readOnly {
			bs = append(bs, ranked{k.Edit, rankMinor}, ranked{k.Delete, rankMinor})
		}
		bs = append(bs, ranked{k.Help, rankKeep}, ranked{k.Quit, rankKeep})
	case modeHistory:
		if b.hist.confirm {
			bs = []ranked{{key.NewBinding(key.WithKeys("y"), key.WithHelp("y", hlpHistRestore)), rankMain},
				{key.NewBinding(key.WithKeys("n"), key.WithHelp(hlpAnyKey, hlpCancel)), rankMain}}
			break
		}
		bs = []ranked{
			{key.NewBinding(key.WithKeys("up"), key.WithHelp("↑↓", hlpHistPick)), rankMinor},
			{key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", hlpHistFull)), rankMain},
			{key.NewBinding(key.WithKeys("pgdown"), key.WithHelp("pgup/pgdn", hlpHistScroll)), rankMinor},
		}
		if !b.cfg.readOnly {
			bs = append(bs, ranked{key.NewBinding(key.WithKeys("R"), key.WithHelp("R", hlpHistRestore)), rankMain})
		}
		bs = append(bs, ranked{short(k.CopyValue, "C"), rankMinor}, ranked{k.Refresh, rankMinor},
			ranked{key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", hlpHelpClose)), rankKeep}, ranked{k.Quit, rankKeep})
	case modeExport:
		bs = []ranked{
			{key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", hlpExportRun)), rankMain},
			{key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", hlpCancel)), rankMain},
		}
	case modeConfirmExport:
		bs = []ranked{{key.NewBinding(key.WithKeys("y"), key.WithHelp("y", hlpOverwrite)), rankMain}, {key.NewBinding(key.WithKeys("n"), key.WithHelp(hlpAnyKey, hlpCancel)), rankMain}}
	case modeHelp:
		bs = []ranked{{k.Up, rankMinor}, {k.Down, rankMinor}, {key.NewBinding(key.WithKeys("?", "esc"), key.WithHelp("?/esc", hlpHelpClose)), rankKeep}, {k.Quit, rankKeep}}
	default:
		bs = k.footer()
	}
	return fitBindings(b.st.help, bs, b.width)
}

// ranked is a footer binding and how long it stays when space is short.
type ranked struct {
	b    key.Binding
	rank int
}

// Footer ranks: rankMinor bindings go first, rankKeep ones last.
const (
	rankMinor = iota
	rankMain
	rankKeep
)

func rankAll(bs []key.Binding, rank int) []ranked {
	out := make([]ranked, len(bs))
	for i, b := range bs {
		out[i] = ranked{b, rank}
	}
	return out
}

// fitBindings renders bindings in order, leaving out the lowest-ranked
// ones (the rightmost first among equals) until the line fits width.
func fitBindings(st help.Styles, bs []ranked, width int) string {
	h := help.New()
	h.Styles = st
	keep := make([]bool, len(bs))
	for i := range keep {
		keep[i] = true
	}
	for {
		var shown []key.Binding
		for i, r := range bs {
			if keep[i] {
				shown = append(shown, r.b)
			}
		}
		line := h.ShortHelpView(shown)
		if ansiWidth(line) <= width || len(shown) <= 1 {
			return clip(line, width)
		}
		drop := -1
		for i := len(bs) - 1; i >= 0; i-- {
			if keep[i] && (drop < 0 || bs[i].rank < bs[drop].rank) {
				drop = i
			}
		}
		keep[drop] = false
	}
}
