package tui

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

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
	offset  int
	flash   time.Time
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
	// The pane shows rows-3 lines below the key, metadata and rule.
	last := max(b.valueLineCount()-max(b.rows-3, 1), 0)
	switch {
	case key.Matches(msg, k.Up):
		b.val.offset = max(b.val.offset-1, 0)
	case key.Matches(msg, k.Down):
		b.val.offset = min(b.val.offset+1, last)
	case key.Matches(msg, k.PageUp):
		b.val.offset = max(b.val.offset-b.rows, 0)
	case key.Matches(msg, k.PageDown):
		b.val.offset = min(b.val.offset+b.rows, last)
	case key.Matches(msg, k.Home):
		b.val.offset = 0
	case key.Matches(msg, k.End):
		b.val.offset = last
	case key.Matches(msg, k.Back, k.Clear):
		b.mode = modeBrowse
	case key.Matches(msg, k.Hex):
		b.hex = !b.hex
		b.val.offset = 0
	case key.Matches(msg, k.Edit):
		return b.startEdit(now)
	case key.Matches(msg, k.Delete):
		return b.startDelete(now)
	case key.Matches(msg, k.New):
		return b.startCreate(now)
	case key.Matches(msg, k.Help):
		b.openHelp()
	case key.Matches(msg, k.Refresh):
		return b.refresh(true)
	}
	return nil
}

// valueView draws the value pane: the key, its metadata and its value.
func (b *browser) valueView(width int, now time.Time) []string {
	s := b.st
	out := make([]string, b.rows)
	e, ok := b.selected()
	switch {
	case !ok:
		return out
	case e.dir:
		out[0] = s.dir.Render(clipMiddle(Escape(e.name), width))
		c, ok := b.counts[e.name]
		if ok && c.known {
			out[1] = fmt.Sprintf(txtDirKeys, countText(c))
		} else {
			out[1] = s.spinner(now) + " " + txtCounting
		}
		out[2] = s.dim.Render(txtDirHint)
		return out
	}
	v := &b.val
	var badge string
	switch {
	case v.deleted:
		badge = s.fail.Render(fmt.Sprintf(txtValueDeleted, v.delRev))
	case now.Before(v.flash):
		badge = s.flash.Render(txtValueUpdated)
	}
	if badge != "" {
		out[0] = s.key.Render(clipMiddle(Escape(e.name), max(width-ansiWidth(badge)-1, 4))) + " " + badge
	} else {
		out[0] = s.key.Render(clipMiddle(Escape(e.name), width))
	}
	switch {
	case v.err != "" && !v.loaded:
		out[1] = s.errText.Render(clip(Escape(oneLine(v.err)), width))
		return out
	case !v.loaded:
		out[1] = s.spinner(now) + " " + txtReading
		return out
	}
	showHex := b.hex != (v.kind == kindBinary)
	hl := hexLayoutFor(width)
	total := len(v.lines)
	if showHex {
		total = hexLines(len(v.kv.Value), hl.n)
	}
	body := max(b.rows-3, 1)
	meta := []string{kindLabel(v.kind)}
	if showHex {
		meta[0] += " (" + txtHex + ")"
	}
	meta = append(meta, units.Bytes(int64(len(v.kv.Value))),
		fmt.Sprintf(txtVersion, v.kv.Version),
		fmt.Sprintf(txtRevs, v.kv.CreateRevision, v.kv.ModRevision))
	out[1] = s.dim.Render(strings.Join(meta, " · "))
	rule := strings.Repeat("─", max(width, 1))
	if total > body {
		pos := " " + fmt.Sprintf(txtLines, v.offset+1, min(v.offset+body, total), total) + " ─"
		rule = strings.Repeat("─", max(width-ansiWidth(pos), 1)) + pos
	}
	out[2] = s.dim.Render(rule)
	for r := 0; r < body && v.offset+r < total; r++ {
		i := v.offset + r
		if showHex {
			out[3+r] = hl.line(v.kv.Value, i*hl.n)
		} else {
			out[3+r] = v.lines[i]
		}
		out[3+r] = clip(out[3+r], width)
	}
	if v.kind == kindEmpty && !showHex {
		out[3] = s.dim.Render(txtEmptyValue)
	}
	return out
}

// valueWidth is the width of the value pane: all of a narrow screen, or
// what the list (two fifths, at least 28 cells) leaves.
func (b *browser) valueWidth() int {
	if b.width < narrow {
		return b.width
	}
	return b.width - max(b.width*2/5, 28) - 3
}

// valueLineCount is the number of lines the value pane can scroll.
func (b *browser) valueLineCount() int {
	if b.hex != (b.val.kind == kindBinary) {
		return hexLines(len(b.val.kv.Value), hexLayoutFor(b.valueWidth()).n)
	}
	return len(b.val.lines)
}
