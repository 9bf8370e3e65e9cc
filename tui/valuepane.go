package tui

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"

	"github.com/k3/k3-storage/backends"
	"github.com/k3/k3-storage/internal/units"
)

// The value pane: the selected key's value, read when the cursor rests on
// a key, rendered off the UI loop, and kept current by the watch.

// valuePane is the selected key's value.
type valuePane struct {
	key     string
	kv      backends.KeyValue
	kind    valueKind
	lines   []string
	loaded  bool
	err     string
	deleted bool
	delRev  int64
	// offset is the first line shown (a line of the value, or a row of
	// the hex view), sub its first row when long lines wrap.
	offset, sub int
	flash       time.Time
}

// valueMsg is a rendered value: the answer of syncValue's read, or a value
// the watch (or our own write) delivered.
type valueMsg struct {
	get   bool // the answer to syncValue's read (not a watch update)
	key   string
	kv    backends.KeyValue
	kind  valueKind
	lines []string
	err   error
}

// syncValue reads the selected key's value unless the pane already holds
// it (or the error reading it). One read is in flight at a time; its
// answer calls syncValue again, which then reads where the cursor rests if
// that is another key, so fast scrolling reads only where it stops.
func (b *browser) syncValue() tea.Cmd {
	e, ok := b.selected()
	if !ok || e.dir {
		if b.val.key != "" {
			b.val = valuePane{}
		}
		return nil
	}
	if e.name != b.val.key {
		b.val = valuePane{key: e.name}
	}
	if b.val.loaded || b.val.err != "" || b.valBusy {
		return nil
	}
	b.valBusy = true
	ctx, store, timeout, st := b.ctx, b.store, b.cfg.callTimeout, b.st.value
	name := e.name
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		kv, err := store.Get(ctx, name)
		if err != nil {
			return valueMsg{get: true, key: name, err: err}
		}
		kind, lines := renderValue(kv.Value, st)
		return valueMsg{get: true, key: name, kv: kv, kind: kind, lines: lines}
	}
}

// renderCmd renders a value the watch delivered, off the UI loop: large
// values take a while to pretty-print.
func (b *browser) renderCmd(kv backends.KeyValue) tea.Cmd {
	st := b.st.value
	return func() tea.Msg {
		kind, lines := renderValue(kv.Value, st)
		return valueMsg{key: kv.Key, kv: kv, kind: kind, lines: lines}
	}
}

func (b *browser) valueLoaded(msg valueMsg) tea.Cmd {
	if msg.get {
		b.valBusy = false
	}
	if msg.key == b.val.key && (!b.val.loaded || msg.kv.ModRevision >= b.val.kv.ModRevision) {
		v := &b.val
		if msg.err != nil {
			v.err = msg.err.Error()
			if errors.Is(msg.err, backends.ErrNotFound) {
				v.deleted = true
			}
		} else {
			v.kv, v.kind, v.lines, v.loaded, v.err, v.deleted = msg.kv, msg.kind, msg.lines, true, "", false
		}
	}
	return b.syncValue()
}

// valueKey scrolls the value pane; esc or ← goes back to the list.
func (b *browser) valueKey(msg tea.KeyMsg, now time.Time) tea.Cmd {
	k := b.keys
	body := b.valueBody()
	switch {
	case key.Matches(msg, k.Up):
		b.scrollValue(-1)
	case key.Matches(msg, k.Down):
		b.scrollValue(1)
	case key.Matches(msg, k.PageUp):
		b.scrollValue(-body)
	case key.Matches(msg, k.PageDown):
		b.scrollValue(body)
	case key.Matches(msg, k.Home):
		b.val.offset, b.val.sub = 0, 0
	case key.Matches(msg, k.End):
		b.valueEnd()
	case key.Matches(msg, k.Back, k.Clear):
		b.mode = modeBrowse
	case key.Matches(msg, k.Hex):
		b.toggleHex()
	case key.Matches(msg, k.Wrap):
		b.toggleWrap(now)
	case key.Matches(msg, k.Copy):
		return b.copyKey(now)
	case key.Matches(msg, k.CopyValue):
		return b.copyValue(now)
	case key.Matches(msg, k.Edit):
		return b.startEdit(now)
	case key.Matches(msg, k.Delete):
		return b.startDelete(now)
	case key.Matches(msg, k.New):
		return b.startCreate(now)
	case key.Matches(msg, k.History):
		return b.startHistory(now)
	case key.Matches(msg, k.Help):
		b.openHelp()
	case key.Matches(msg, k.Refresh):
		return b.refresh(true)
	}
	return nil
}

// toggleHex switches between the value's text and its bytes, from the
// top.
func (b *browser) toggleHex() {
	b.hex = !b.hex
	b.val.offset, b.val.sub = 0, 0
}

// toggleWrap switches between wrapping long lines and cutting them, with
// the same line at the top.
func (b *browser) toggleWrap(now time.Time) {
	b.noWrap = !b.noWrap
	b.val.sub = 0
	if b.noWrap {
		b.setStatus(statusInfo, txtWrapOff, now, 3*time.Second)
	} else {
		b.setStatus(statusInfo, txtWrapOn, now, 3*time.Second)
	}
}

// showsHex reports the hex view: asked for with x, or a binary value
// (which x then shows as text).
func (b *browser) showsHex() bool { return b.hex != (b.val.kind == kindBinary) }

// valueLines is the number of lines of the value pane: the value's lines,
// or the hex view's rows.
func (b *browser) valueLines() int {
	if b.showsHex() {
		return hexLines(len(b.val.kv.Value), hexLayoutFor(b.valueWidth()).n)
	}
	return len(b.val.lines)
}

// valueRows returns the rows line i of the value pane takes: one (cut at
// the pane's edge when drawn) unless long lines wrap.
func (b *browser) valueRows(i int) []string {
	v := &b.val
	if b.showsHex() {
		hl := hexLayoutFor(b.valueWidth())
		return []string{hl.line(v.kv.Value, i*hl.n)}
	}
	if b.noWrap {
		return []string{v.lines[i]}
	}
	return wrapRows(v.lines[i], b.valueWidth())
}

// rowCount is len(valueRows(i)) without building the rows of a line
// that fits.
func (b *browser) rowCount(i int) int {
	if b.showsHex() || b.noWrap || len(b.val.lines[i]) <= b.valueWidth() {
		return 1 // a cell takes at least one byte
	}
	return len(b.valueRows(i))
}

// rowsFrom counts the rows from the scroll position to the end, stopping
// once it passes limit.
func (b *browser) rowsFrom(limit int) int {
	v := &b.val
	n := b.valueLines()
	if v.offset >= n {
		return 0
	}
	count := b.rowCount(v.offset) - v.sub
	for i := v.offset + 1; i < n && count <= limit; i++ {
		count += b.rowCount(i)
	}
	return count
}

// scrollValue moves the value pane by delta rows, no further than where
// its last row is at the bottom.
func (b *browser) scrollValue(delta int) {
	v := &b.val
	if delta > 0 {
		delta = min(delta, max(b.rowsFrom(b.valueBody()+delta)-b.valueBody(), 0))
	}
	for ; delta > 0; delta-- {
		if v.sub+1 < b.rowCount(v.offset) {
			v.sub++
		} else {
			v.offset, v.sub = v.offset+1, 0
		}
	}
	for ; delta < 0; delta++ {
		switch {
		case v.sub > 0:
			v.sub--
		case v.offset > 0:
			v.offset--
			v.sub = b.rowCount(v.offset) - 1
		default:
			return
		}
	}
}

// valueEnd scrolls to where the value's last row is at the bottom.
func (b *browser) valueEnd() {
	v := &b.val
	n := b.valueLines()
	if n == 0 {
		return
	}
	v.offset = n - 1
	v.sub = b.rowCount(v.offset) - 1
	b.scrollValue(-(b.valueBody() - 1))
}

// valueKeyRows is the first part of the value pane's header: the key,
// wrapped over up to three rows when long lines wrap (else cut in the
// middle).
func (b *browser) valueKeyRows(name string, width int) []string {
	var rows []string
	if b.noWrap {
		rows = []string{clipMiddle(Escape(name), width)}
	} else {
		rows = wrapPlain(Escape(name), width, 3)
	}
	for i := range rows {
		rows[i] = b.st.key.Render(rows[i])
	}
	return rows
}

// valueBadge marks a value deleted or just updated.
func (b *browser) valueBadge(now time.Time) string {
	switch v := &b.val; {
	case v.deleted:
		return b.st.fail.Render(fmt.Sprintf(txtValueDeleted, v.delRev))
	case now.Before(v.flash):
		return b.st.flash.Render(txtValueUpdated)
	}
	return ""
}

// valueBody is the number of rows the value pane shows below its header
// (the key, the metadata line and the rule).
func (b *browser) valueBody() int {
	head := 2
	if e, ok := b.selected(); ok && !e.dir {
		head += len(b.valueKeyRows(e.name, b.valueWidth()))
	}
	return max(b.rows-head, 1)
}

// valueView draws the value pane: the key, its metadata and its value.
func (b *browser) valueView(width int, now time.Time) []string {
	s := b.st
	out := make([]string, 0, b.rows)
	e, ok := b.selected()
	switch {
	case !ok:
		return padRows(out, b.rows)
	case e.dir:
		out = append(out, s.dir.Render(clipMiddle(Escape(e.name), width)))
		c, ok := b.counts[e.name]
		if ok && c.known {
			out = append(out, fmt.Sprintf(txtDirKeys, countText(c)))
		} else {
			out = append(out, s.spinner(now)+" "+txtCounting)
		}
		out = append(out, s.dim.Render(txtDirHint))
		return padRows(out, b.rows)
	}
	v := &b.val
	out = append(out, b.valueKeyRows(e.name, width)...)
	badge := b.valueBadge(now)
	switch {
	case v.err != "" && !v.loaded:
		out = append(out, s.errText.Render(clip(Escape(oneLine(v.err)), width)))
		return padRows(out, b.rows)
	case !v.loaded:
		out = append(out, s.spinner(now)+" "+txtReading)
		return padRows(out, b.rows)
	}

	showHex := b.showsHex()
	meta := []string{kindLabel(v.kind)}
	if showHex {
		meta[0] += " (" + txtHex + ")"
	}
	meta = append(meta, units.Bytes(int64(len(v.kv.Value))),
		fmt.Sprintf(txtVersion, v.kv.Version),
		fmt.Sprintf(txtRevs, v.kv.CreateRevision, v.kv.ModRevision))
	out = append(out, s.dim.Render(clip(strings.Join(meta, " · "), width)))
	body := max(b.rows-len(out)-1, 1)
	// The rows from the scroll position, and the last line they reach.
	var rows []string
	total, last := b.valueLines(), v.offset
	for i := v.offset; i < total && len(rows) < body; i++ {
		r := b.valueRows(i)
		if i == v.offset {
			r = r[min(v.sub, len(r)-1):]
		}
		rows = append(rows, r[:min(len(r), body-len(rows))]...)
		last = i
	}
	// The rule under the header: the badge of a change, and where the
	// rows are when they do not all fit.
	var pos string
	if v.offset > 0 || v.sub > 0 || b.rowsFrom(body) > body {
		pos = " " + fmt.Sprintf(txtLines, v.offset+1, last+1, total) + " ─"
	}
	rule := s.dim.Render(strings.Repeat("─", max(width-ansiWidth(pos)-ansiWidth(badge)-1, 1)) + pos)
	if badge != "" {
		rule = badge + " " + rule
	} else {
		rule = s.dim.Render("─") + rule
	}
	out = append(out, clip(rule, width))
	for _, r := range rows {
		out = append(out, clip(r, width))
	}
	if v.kind == kindEmpty && !showHex {
		out = append(out, s.dim.Render(txtEmptyValue))
	}
	return padRows(out, b.rows)
}

// padRows pads or cuts rows to exactly n.
func padRows(rows []string, n int) []string {
	for len(rows) < n {
		rows = append(rows, "")
	}
	return rows[:n]
}

// wrapRows splits a rendered line into rows of at most width cells (at
// least one row), keeping its styles: a row that ends inside a styled
// stretch resets the style, and the next row starts it again, so that no
// style runs into what is drawn next to the pane.
func wrapRows(line string, width int) []string {
	width = max(width, 1)
	if len(line) <= width || ansi.StringWidth(line) <= width {
		return []string{line}
	}
	var rows []string
	var cur strings.Builder
	var active []string // the SGR sequences in effect
	w := 0
	var state byte
	for len(line) > 0 {
		seq, sw, n, next := ansi.DecodeSequence(line, state, nil)
		state = next
		line = line[n:]
		if sw == 0 {
			if strings.HasPrefix(seq, "\x1b[") && strings.HasSuffix(seq, "m") {
				if seq == "\x1b[0m" || seq == "\x1b[m" {
					active = active[:0]
				} else {
					active = append(active, seq)
				}
			}
			cur.WriteString(seq)
			continue
		}
		if w+sw > width && w > 0 {
			if len(active) > 0 {
				cur.WriteString("\x1b[0m")
			}
			rows = append(rows, cur.String())
			cur.Reset()
			for _, a := range active {
				cur.WriteString(a)
			}
			w = 0
		}
		cur.WriteString(seq)
		w += sw
	}
	return append(rows, cur.String())
}

// valueWidth is the width of the value pane: all of a narrow screen, or
// what the list (two fifths, at least 28 cells) leaves.
func (b *browser) valueWidth() int {
	if b.width < narrow {
		return b.width
	}
	return b.width - max(b.width*2/5, 28) - 3
}
