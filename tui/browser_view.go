package tui

import (
	"fmt"
	"strings"
	"time"

	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"

	"github.com/k3/k3-storage/internal/units"
)

// narrow is the width below which the browser shows one pane at a time.
const narrow = 60

// view renders everything below the header: the path line, the panes (or
// the editor or the help), the change feed, the status line and the
// footer — exactly b.height-1 lines.
func (b *browser) view(now time.Time) []string {
	lines := make([]string, 0, b.height)
	lines = append(lines, b.pathLine())
	switch {
	case b.mode == modeHelp:
		lines = append(lines, b.helpView()...)
	case b.mode == modeHistory:
		lines = append(lines, b.historyView(now)...)
	case b.editing():
		lines = append(lines, b.editorView()...)
	default:
		lines = append(lines, b.panes(now)...)
	}
	lines = append(lines, b.feedLine(), b.statusLine(now), b.footer())
	return lines
}

// liveStatus says whether the view follows changes, for the header.
// While the engine reports the backend down it never says live: a watch
// need not notice a server that stopped answering (etcd's does not).
func (b *browser) liveStatus(now time.Time) string {
	s := b.st
	switch {
	case b.health.down:
		// The outage is the header's part before this one.
		return s.fail.Render("✗ " + txtLiveBroken)
	case b.watch.live:
		return s.ok.Render("● " + txtLive)
	case b.watch.err != "":
		text := "✗ " + txtLiveBroken + ": " + Escape(oneLine(b.watch.err))
		if left := b.watch.retryAt.Sub(now); left > 0 {
			text += " · " + fmt.Sprintf(txtRetryIn, formatDuration(left))
		} else {
			text += " · " + txtRetryingNow
		}
		return s.fail.Render(text)
	}
	return s.dim.Render("○ " + txtLiveStarting)
}

// pathLine shows the level, the mode, the position and the filter.
func (b *browser) pathLine() string {
	s := b.st
	if b.mode == modeHistory {
		return b.historyPath()
	}
	level := txtRoot
	if b.level != "" {
		level = Escape(b.level)
	}
	mode := txtModeTree
	if b.flat {
		mode = txtModeFlat
	}
	parts := []string{s.key.Render(level), mode}
	if pos := b.position(); pos != "" {
		parts = append(parts, pos)
	}
	if c, ok := b.counts[b.level]; ok && c.known {
		parts = append(parts, fmt.Sprintf(txtTotalKeys, countText(c)))
	}
	switch {
	case b.mode == modeFilter:
		parts = append(parts, b.filterInput.View())
	case b.filter != "":
		parts = append(parts, s.badge.Render(txtFilter+" "+Escape(b.filter)))
	}
	return clip(strings.Join(parts, s.dim.Render(" · ")), b.width)
}

// position is "12/340" (or "12/≥340" while the end is not known yet).
func (b *browser) position() string {
	l := &b.list
	if !l.loaded {
		return ""
	}
	if l.end() == 0 && !l.more {
		return "0"
	}
	if l.more {
		return fmt.Sprintf("%s/≥%s", formatCount(int64(b.cursor+1)), formatCount(int64(l.end())))
	}
	return fmt.Sprintf("%s/%s", formatCount(int64(b.cursor+1)), formatCount(int64(l.end())))
}

// panes draws the list and the value side by side (one of them when the
// screen is narrow).
func (b *browser) panes(now time.Time) []string {
	out := make([]string, b.rows)
	if b.width < narrow {
		var col []string
		if b.mode == modeValue {
			col = b.valueView(b.width, now)
		} else {
			col = b.listView(b.width, now)
		}
		for i := range out {
			out[i] = col[i]
		}
		return out
	}
	vw := b.valueWidth()
	lw := b.width - vw - 3
	left, right := b.listView(lw, now), b.valueView(vw, now)
	sep := b.st.dim.Render(" │ ")
	for i := range out {
		out[i] = fit(left[i], lw) + sep + right[i]
	}
	return out
}

// listView draws the visible rows of the listing.
func (b *browser) listView(width int, now time.Time) []string {
	s := b.st
	out := make([]string, b.rows)
	l := &b.list
	switch {
	case !l.loaded:
		out[0] = s.spinner(now) + " " + txtReading
		return out
	case l.end() == 0 && !l.more:
		text := txtEmptyLevel
		if b.filter != "" {
			text = txtNoMatch
		}
		out[0] = s.dim.Render(text)
		if l.err != nil {
			out[1] = s.errText.Render(clip(Escape(oneLine(l.err.Error())), width))
		}
		return out
	}
	for r := range out {
		i := b.offset + r
		if e, ok := l.at(i); ok {
			out[r] = b.row(e, i == b.cursor, width, now)
			continue
		}
		switch {
		case i == l.end() && l.busy && l.q.sub != "":
			out[r] = s.dim.Render("  " + s.spinner(now) + " " + fmt.Sprintf(txtFiltering, formatCount(int64(l.scanned))))
		case i < l.start || l.more && i >= l.end():
			out[r] = s.dim.Render("  …")
		}
	}
	return out
}

// row draws one child: cursor and change marks, name, and the key count
// (directories) or size (keys).
func (b *browser) row(e *entry, selected bool, width int, now time.Time) string {
	s := b.st
	mark := "  "
	if selected {
		mark = "▸ "
		if b.mode == modeValue {
			mark = "▹ "
		}
	}
	flash := " "
	if now.Before(e.flashUntil) {
		switch e.flash {
		case flashCreated:
			flash = "+"
		case flashUpdated:
			flash = "~"
		}
	}
	name := displayName(b.level, e.name)
	if name == "" {
		name = txtEmptyName
	} else {
		name = Escape(name)
	}
	var meta string
	if e.dir {
		c, ok := b.counts[e.name]
		switch {
		case ok && c.known:
			meta = countText(c)
		default:
			meta = "…"
		}
	} else {
		meta = units.Bytes(int64(e.size))
	}
	nameW := max(width-3-ansi.StringWidth(meta)-1, 1)
	name = clipMiddle(name, nameW)
	plain := mark + flash + fit(name, nameW) + " " + meta
	switch {
	case selected:
		return s.selected.Render(plain)
	case flash != " ":
		return mark + s.flash.Render(flash+fit(name, nameW)) + " " + s.dim.Render(meta)
	case e.dir:
		return mark + flash + s.dir.Render(fit(name, nameW)) + " " + s.dim.Render(meta)
	}
	return mark + flash + fit(name, nameW) + " " + s.dim.Render(meta)
}

// editorView draws the new-key or edit form.
func (b *browser) editorView() []string {
	s := b.st
	ed := &b.ed
	out := make([]string, 0, b.rows)
	switch {
	case b.mode == modeEdit && ed.loading:
		out = append(out, s.title.Render(fmt.Sprintf(txtEditTitleLoading, Escape(ed.key))))
		out = append(out, s.dim.Render(txtReading))
	case b.mode == modeEdit:
		out = append(out, s.title.Render(fmt.Sprintf(txtEditTitle, Escape(ed.key), ed.rev)))
		out = append(out, s.dim.Render(txtEditBasis))
	default:
		out = append(out, s.title.Render(txtNewTitle))
		if b.mode == modeNewKey {
			out = append(out, ed.keyInput.View())
		} else {
			out = append(out, txtKeyPrompt+Escape(ed.key))
		}
	}
	switch {
	case b.mode == modeNewKey && ed.prefill != "":
		out = append(out, s.dim.Render(txtKeyHintPrefilled))
	case b.mode == modeNewKey:
		out = append(out, s.dim.Render(txtKeyHint))
	default:
		out = append(out, s.dim.Render(txtValueHint))
	}
	if b.mode != modeNewKey && !ed.loading {
		out = append(out, strings.Split(ed.areaView, "\n")...)
	}
	// Notes (already escaped) wrap to at most three lines each.
	var notes []string
	note := func(st lipgloss.Style, text string) {
		for _, l := range wrapPlain(text, b.width, 3) {
			notes = append(notes, st.Render(l))
		}
	}
	if ed.warn != "" {
		note(s.warn, "⚠ "+ed.warn)
	}
	if ed.ask != "" {
		note(s.badge, "? "+ed.ask)
	}
	if ed.err != "" {
		note(s.errText, "✗ "+ed.err)
	}
	if ed.saving {
		note(s.dim, txtSaving)
	}
	room := b.rows - len(notes)
	if len(out) > room {
		out = out[:max(room, 0)]
	}
	for len(out) < room {
		out = append(out, "")
	}
	return append(out, notes...)
}

// statusLine shows the last message, or what the current mode expects.
func (b *browser) statusLine(now time.Time) string {
	s := b.st
	switch {
	case b.mode == modeExport:
		return b.exportLine(now)
	case b.mode == modeConfirmExport:
		return s.badge.Render("? " + b.export.ask)
	case b.mode == modeHistory && b.hist.confirm:
		return s.badge.Render("? " + b.hist.ask)
	}
	st := b.status
	if st.text != "" && (st.until.IsZero() || now.Before(st.until)) {
		switch st.kind {
		case statusOK:
			return s.notice.Render("✓ " + st.text)
		case statusErr:
			return s.errText.Render("✗ " + st.text)
		case statusPrompt:
			return s.badge.Render("? " + st.text)
		}
		return st.text
	}
	switch {
	case b.list.busy && b.list.locate != "":
		return s.dim.Render(s.spinner(now) + " " + txtLocating)
	case b.jumpEnd:
		return s.dim.Render(s.spinner(now) + " " + fmt.Sprintf(txtSeekingEnd, formatCount(int64(b.list.end()))))
	case b.list.busy && b.list.q.sub != "":
		return s.dim.Render(s.spinner(now) + " " + fmt.Sprintf(txtFiltering, formatCount(int64(b.list.scanned))))
	case b.list.err != nil:
		return s.errText.Render("✗ " + txtReadFailed + ": " + Escape(oneLine(b.list.err.Error())))
	}
	return b.exportLine(now)
}
