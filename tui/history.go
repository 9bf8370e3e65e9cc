package tui

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/aymanbagabas/go-udiff"
	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/k3/k3-storage/backends"
	"github.com/k3/k3-storage/internal/units"
)

// The key history (H): the selected key's versions, newest first, read
// through backends.Historian page by page, each shown as a unified diff
// against the version before it (JSON pretty-printed first, binary values
// as hex dump lines). enter shows the selected version in full; R restores
// it with a compare-and-swap write based on the newest version the view
// showed when R was pressed, so a change made since is reported as a
// conflict, never overwritten. The view reads again by itself when the
// watch reports a change to the key.

const (
	// historyPage is how many versions one read asks for.
	historyPage = 50
	// maxHistoryDiff bounds the values compared line by line; larger
	// ones are compared by size (a diff's cost grows with the values).
	maxHistoryDiff = 256 << 10
	// diffContext is the unchanged lines shown around each change.
	diffContext = 3
	// historyListWidth is the versions column when the screen is wide
	// enough to show it beside the diff (historyWide).
	historyListWidth = 40
	historyWide      = 96
)

// historyState is the history view of one key.
type historyState struct {
	key string
	// gen identifies the view's reads and renderings: opening the view
	// again drops the answers meant for the earlier one.
	gen           int
	entries       []backends.HistoryEntry
	more          bool // older versions remain to be read
	stopsAtDelete bool
	compacted     int64
	rev           int64 // the revision the newest page was read at
	loaded        bool
	busy          bool
	again         bool // the key changed while a read was in flight
	err           string
	cursor        int
	offset        int
	full          bool // show the selected version whole, not its diff
	scroll        int  // the right pane's first line
	// confirm: R asked, and y restores target over base, the newest
	// version shown when R was pressed; ask is the question.
	confirm      bool
	ask          string
	target, base backends.HistoryEntry
	// pane is the right pane as rendered for paneFor (off the UI loop);
	// paneReady reports that it is (an empty pane can be one).
	pane      []string
	paneFor   paneID
	paneReady bool
	paneBad   bool // paneFor's rendering is stale: render again
}

// paneID names what the right pane shows.
type paneID struct {
	rev  int64
	full bool
	prev int64 // the revision compared against (0: none known)
}

// Messages of the history view.
type (
	historyMsg struct {
		gen    int
		before int64 // 0: the newest page (a reload)
		h      backends.History
		err    error
	}
	historyPaneMsg struct {
		gen   int
		id    paneID
		lines []string
	}
)

// startHistory opens the history of the selected key.
func (b *browser) startHistory(now time.Time) tea.Cmd {
	e, ok := b.selected()
	if !ok || e.dir {
		b.setStatus(statusErr, txtHistNeedsKey, now, 4*time.Second)
		return nil
	}
	if _, ok := b.store.(backends.Historian); !ok {
		b.setStatus(statusErr, txtHistoryUnsupported, now, 6*time.Second)
		return nil
	}
	gen := b.hist.gen + 1
	b.hist = historyState{key: e.name, gen: gen}
	b.mode = modeHistory
	return b.readHistory(0)
}

// readHistory reads the page of versions below before (0: the newest).
// A read already in flight is left to finish; a reload asked meanwhile
// runs after it.
func (b *browser) readHistory(before int64) tea.Cmd {
	h := &b.hist
	if h.busy {
		if before == 0 {
			h.again = true
		}
		return nil
	}
	h.busy = true
	ctx, timeout, gen, k := b.ctx, b.cfg.callTimeout, h.gen, h.key
	hs := b.store.(backends.Historian)
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		res, err := hs.History(ctx, k, backends.HistoryOptions{Before: before, Limit: historyPage})
		return historyMsg{gen: gen, before: before, h: res, err: err}
	}
}

// historyRead folds a page into the view.
func (b *browser) historyRead(msg historyMsg, now time.Time) tea.Cmd {
	h := &b.hist
	if msg.gen != h.gen || b.mode != modeHistory {
		return nil
	}
	h.busy = false
	var again tea.Cmd
	if h.again {
		h.again = false
		again = b.readHistory(0)
	}
	if msg.err != nil {
		h.err = msg.err.Error()
		return again
	}
	h.err = ""
	more, stops := msg.h.More, msg.h.StopsAtDelete
	if msg.before == 0 {
		// The newest page goes on top of the older pages already read
		// (older writes do not change), and the cursor stays on the same
		// version.
		sel := h.selectedRev()
		entries := msg.h.Entries
		if n := len(entries); n > 0 && more {
			oldest := entries[n-1].KV.ModRevision
			for i, e := range h.entries {
				if e.KV.ModRevision < oldest {
					// The end of the history is the older pages' end.
					entries = append(entries, h.entries[i:]...)
					more, stops = h.more, h.stopsAtDelete
					break
				}
			}
		}
		h.entries = entries
		h.rev = msg.h.Revision
		h.cursor = 0
		for i, e := range h.entries {
			if e.KV.ModRevision == sel {
				h.cursor = i
			}
		}
		if h.confirm && (len(h.entries) == 0 || h.entries[0].KV.ModRevision != h.base.KV.ModRevision) {
			// The key changed while the question was open: what it
			// asked about is not what y would do any more.
			h.confirm = false
			b.setStatus(statusInfo, txtHistRestoreStale, now, 6*time.Second)
		}
	} else {
		h.entries = append(h.entries, msg.h.Entries...)
	}
	h.more, h.stopsAtDelete, h.compacted, h.loaded = more, stops, msg.h.Compacted, true
	h.paneBad = true
	b.scrollHistory()
	if again != nil {
		return tea.Batch(again, b.renderPane())
	}
	return tea.Batch(b.readMoreHistory(), b.renderPane())
}

// readMoreHistory reads the next page once the cursor nears the end of
// what is read (the selected version's diff needs the one before it).
func (b *browser) readMoreHistory() tea.Cmd {
	h := &b.hist
	if !h.more || h.busy || len(h.entries) == 0 || h.cursor < len(h.entries)-b.rows/2-1 {
		return nil
	}
	return b.readHistory(h.entries[len(h.entries)-1].KV.ModRevision)
}

// selectedRev is the revision of the selected version (0: none).
func (h *historyState) selectedRev() int64 {
	if h.cursor < len(h.entries) {
		return h.entries[h.cursor].KV.ModRevision
	}
	return 0
}

// historyKeyChanged reads the history again when a change to its key lands
// after the revision it was read at.
func (b *browser) historyKeyChanged(key string, rev int64) tea.Cmd {
	if b.mode != modeHistory || key != b.hist.key || rev <= b.hist.rev {
		return nil
	}
	return b.readHistory(0)
}

// renderPane renders the right pane for the selected version, off the UI
// loop, unless it shows that already.
func (b *browser) renderPane() tea.Cmd {
	h := &b.hist
	if h.cursor >= len(h.entries) {
		h.pane, h.paneFor, h.paneReady = nil, paneID{}, true
		return nil
	}
	cur := h.entries[h.cursor]
	id := paneID{rev: cur.KV.ModRevision, full: h.full}
	var prev *backends.HistoryEntry
	if h.cursor+1 < len(h.entries) {
		prev = &h.entries[h.cursor+1]
		id.prev = prev.KV.ModRevision
	}
	if id == h.paneFor && !h.paneBad {
		return nil
	}
	if id.rev != h.paneFor.rev || id.full != h.paneFor.full {
		h.scroll = 0
	}
	h.paneFor, h.paneBad = id, false
	h.pane, h.paneReady = nil, false
	gen, st, more := h.gen, b.st, h.more
	return func() tea.Msg {
		return historyPaneMsg{gen: gen, id: id, lines: versionPane(cur, prev, more, id.full, st)}
	}
}

// historyPane shows a rendered right pane, unless it is no longer the one
// wanted.
func (b *browser) historyPane(msg historyPaneMsg) {
	h := &b.hist
	if msg.gen == h.gen && msg.id == h.paneFor {
		h.pane, h.paneReady = msg.lines, true
	}
}

// versionPane is what the right pane shows for version cur: the version in
// full, or how it differs from prev (the version before it, nil when the
// store knows none; more: it is yet to be read). Every line is escaped.
func versionPane(cur backends.HistoryEntry, prev *backends.HistoryEntry, more, full bool, st *styles) []string {
	kv := cur.KV
	if cur.Type == backends.Deleted {
		out := []string{st.fail.Render(fmt.Sprintf(txtHistDeletedAt, kv.ModRevision))}
		if prev != nil && prev.Type != backends.Deleted {
			out = append(out, st.dim.Render(fmt.Sprintf(txtHistDeletedWas, prev.KV.ModRevision, prev.KV.Version)))
		}
		return out
	}
	if full {
		if len(kv.Value) == 0 {
			return []string{st.dim.Render(txtEmptyValue)}
		}
		_, lines := renderValue(kv.Value, st.value)
		return lines
	}
	var old []byte
	from := ""
	switch {
	case cur.Type == backends.Created || prev != nil && prev.Type == backends.Deleted:
		if len(kv.Value) == 0 {
			return []string{st.dim.Render(txtHistCreatedEmpty)}
		}
		from = txtHistNothing
	case prev == nil && more:
		return []string{st.dim.Render(txtReading)}
	case prev == nil:
		return []string{st.dim.Render(txtHistNoPrev)}
	default:
		old, from = prev.KV.Value, fmt.Sprintf(txtHistRev, prev.KV.ModRevision)
	}
	to := fmt.Sprintf(txtHistRev, kv.ModRevision)
	if len(old) > maxHistoryDiff || len(kv.Value) > maxHistoryDiff {
		return []string{st.dim.Render(fmt.Sprintf(txtHistTooLarge, units.Bytes(int64(len(old))), units.Bytes(int64(len(kv.Value)))))}
	}
	if bytes.Equal(old, kv.Value) {
		return []string{st.dim.Render(txtHistSame)}
	}
	return unifiedLines(diffText(old), diffText(kv.Value), from, to, st)
}

// diffText is a value as it is compared: JSON pretty-printed, binary as
// hex dump lines, text as it is.
func diffText(v []byte) string {
	if len(v) == 0 {
		return ""
	}
	if s, ok := prettyJSON(v); ok {
		return s + "\n"
	}
	if looksBinary(v) {
		var sb strings.Builder
		for off := 0; off < len(v); off += 16 {
			sb.WriteString(hexLine(v, off, 16))
			sb.WriteByte('\n')
		}
		return sb.String()
	}
	s := string(v)
	if !strings.HasSuffix(s, "\n") {
		s += "\n"
	}
	return s
}

// unifiedLines is the unified diff of a and b as styled, escaped lines
// (the values differ; their texts, as diffText makes them, may not).
func unifiedLines(a, b, from, to string, st *styles) []string {
	if a == b {
		return []string{st.dim.Render(txtHistFormatOnly)}
	}
	d, err := udiff.ToUnifiedDiff(from, to, a, udiff.Strings(a, b), diffContext)
	if err != nil {
		return []string{st.errText.Render(Escape(err.Error()))}
	}
	out := []string{st.fail.Render("--- " + from), st.ok.Render("+++ " + to)}
	for _, hk := range d.Hunks {
		del, ins := 0, 0
		for _, l := range hk.Lines {
			switch l.Kind {
			case udiff.Delete:
				del++
			case udiff.Insert:
				ins++
			default:
				del++
				ins++
			}
		}
		// As diff -u: an empty side starts at the line before.
		fromLine, toLine := hk.FromLine, hk.ToLine
		if del == 0 {
			fromLine--
		}
		if ins == 0 {
			toLine--
		}
		out = append(out, st.dim.Render(fmt.Sprintf("@@ -%d,%d +%d,%d @@", fromLine, del, toLine, ins)))
		for _, l := range hk.Lines {
			text := Escape(strings.TrimSuffix(l.Content, "\n"))
			switch l.Kind {
			case udiff.Delete:
				out = append(out, st.errText.Render("-"+text))
			case udiff.Insert:
				out = append(out, st.ok.Render("+"+text))
			default:
				out = append(out, " "+text)
			}
		}
	}
	return out
}

// historyKey handles the keys of the history view.
func (b *browser) historyKey(msg tea.KeyMsg, now time.Time) tea.Cmd {
	h := &b.hist
	k := b.keys
	if h.confirm {
		h.confirm = false
		b.status = status{}
		if key.Matches(msg, k.Confirm) {
			return b.restore(now)
		}
		b.setStatus(statusInfo, txtHistRestoreCancelled, now, 3*time.Second)
		return nil
	}
	switch {
	case key.Matches(msg, k.Clear, k.Back, k.History):
		b.mode = modeBrowse
		b.hist.gen++ // drop answers in flight
		b.hist.busy = false
		return b.syncValue()
	case key.Matches(msg, k.Up):
		return b.moveHistory(-1)
	case key.Matches(msg, k.Down):
		return b.moveHistory(1)
	case key.Matches(msg, k.Home):
		return b.moveHistory(-h.cursor)
	case key.Matches(msg, k.End):
		return b.moveHistory(len(h.entries))
	case key.Matches(msg, k.PageDown):
		h.scroll = min(h.scroll+max(b.paneRows()-2, 1), max(len(h.pane)-b.paneRows(), 0))
	case key.Matches(msg, k.PageUp):
		h.scroll = max(h.scroll-max(b.paneRows()-2, 1), 0)
	case key.Matches(msg, k.Open):
		h.full = !h.full
		return b.renderPane()
	case key.Matches(msg, k.Refresh):
		return b.readHistory(0)
	case key.Matches(msg, k.CopyValue):
		if h.cursor < len(h.entries) && h.entries[h.cursor].Type != backends.Deleted {
			kv := h.entries[h.cursor].KV
			return b.copyCmd(kv.Value, fmt.Sprintf(txtHistCopyValue, kv.ModRevision), now)
		}
	case key.Matches(msg, k.Restore):
		return b.askRestore(now)
	}
	return nil
}

// moveHistory moves the selection by delta versions, reading the next
// page when it nears the end.
func (b *browser) moveHistory(delta int) tea.Cmd {
	h := &b.hist
	h.cursor = max(min(h.cursor+delta, len(h.entries)-1), 0)
	b.scrollHistory()
	return tea.Batch(b.renderPane(), b.readMoreHistory())
}

// scrollHistory keeps the selected version on screen.
func (b *browser) scrollHistory() {
	h := &b.hist
	rows := b.historyListRows()
	h.cursor = max(min(h.cursor, len(h.entries)-1), 0)
	if h.cursor < h.offset {
		h.offset = h.cursor
	}
	if h.cursor >= h.offset+rows {
		h.offset = h.cursor - rows + 1
	}
}

// askRestore asks before restoring the selected version.
func (b *browser) askRestore(now time.Time) tea.Cmd {
	h := &b.hist
	if b.cfg.readOnly {
		return b.readOnlyRefusal(now)
	}
	if h.cursor >= len(h.entries) {
		return nil
	}
	sel := h.entries[h.cursor]
	switch {
	case sel.Type == backends.Deleted:
		b.setStatus(statusErr, txtHistRestoreDeleted, now, 5*time.Second)
		return nil
	case h.cursor == 0:
		b.setStatus(statusInfo, txtHistRestoreCurrent, now, 4*time.Second)
		return nil
	}
	h.confirm, h.target, h.base = true, sel, h.entries[0]
	h.ask = fmt.Sprintf(txtHistRestoreAsk, sel.KV.ModRevision, sel.KV.Version, h.base.KV.ModRevision)
	return nil
}

// restore writes the value of the version R asked about as the key's new
// version: an Update at the revision of the newest version shown when R
// was pressed (a Create when that was a delete), so that a change made
// since fails with a conflict instead of being overwritten.
func (b *browser) restore(now time.Time) tea.Cmd {
	h := &b.hist
	if b.health.down {
		b.setStatus(statusErr, txtHistRestoreBackendDown, now, 6*time.Second)
		return nil
	}
	sel, cur := h.target.KV, h.base
	b.setStatus(statusInfo, txtSaving, now, 0)
	write := b.writeCmd(opUpdate, h.key, sel.Value, cur.KV)
	if cur.Type == backends.Deleted {
		write = b.writeCmd(opCreate, h.key, sel.Value, backends.KeyValue{})
	}
	return func() tea.Msg {
		msg := write()
		if m, ok := msg.(savedMsg); ok {
			m.restored = sel.ModRevision
			return m
		}
		return msg
	}
}

// historyListRows is how many versions the list shows.
func (b *browser) historyListRows() int {
	if b.width >= historyWide {
		return max(b.rows-1, 1)
	}
	return max(min(len(b.hist.entries)+1, b.rows/3), 3)
}

// paneRows is how many lines the right (or lower) pane shows.
func (b *browser) paneRows() int {
	if b.width >= historyWide {
		return max(b.rows-1, 1)
	}
	return max(b.rows-b.historyListRows()-2, 1)
}

// historyView draws the history: the versions and the selected one's diff
// (or content), side by side or one above the other — b.rows lines.
func (b *browser) historyView(now time.Time) []string {
	h := &b.hist
	s := b.st
	out := make([]string, 0, b.rows)
	if !h.loaded {
		out = append(out, s.spinner(now)+" "+txtReading)
		if h.err != "" {
			out[0] = s.errText.Render("✗ " + txtReadFailed + ": " + Escape(oneLine(h.err)))
		}
		return pad(out, b.rows)
	}
	title := b.historyTitle()
	if b.width >= historyWide {
		lw := historyListWidth
		pw := b.width - lw - 3
		left := pad(b.versionRows(lw, b.rows-1), b.rows-1)
		right := pad(b.paneLines(pw, b.rows-1, now), b.rows-1)
		out = append(out, clip(title, b.width))
		sep := s.dim.Render(" │ ")
		for i := range left {
			out = append(out, fit(left[i], lw)+sep+right[i])
		}
		return out
	}
	out = append(out, clip(title, b.width))
	out = append(out, pad(b.versionRows(b.width, b.historyListRows()), b.historyListRows())...)
	out = append(out, s.dim.Render(strings.Repeat("─", b.width)))
	out = append(out, b.paneLines(b.width, b.paneRows(), now)...)
	return pad(out, b.rows)
}

// historyPath is the path line of the history view: the key and how many
// versions are read.
func (b *browser) historyPath() string {
	h := &b.hist
	s := b.st
	parts := []string{s.badge.Render(txtHistTitle), s.key.Render(Escape(h.key))}
	if h.loaded {
		n := formatCount(int64(len(h.entries)))
		if h.more {
			n = "≥" + n
		}
		parts = append(parts, fmt.Sprintf(txtHistCount, n))
	}
	if h.err != "" && h.loaded {
		parts = append(parts, s.errText.Render("✗ "+txtReadFailed+": "+Escape(oneLine(h.err))))
	}
	return clip(strings.Join(parts, s.dim.Render(" · ")), b.width)
}

// historyTitle says what the pane shows.
func (b *browser) historyTitle() string {
	h := &b.hist
	s := b.st
	if h.cursor >= len(h.entries) {
		return s.dim.Render(txtHistEmpty)
	}
	e := h.entries[h.cursor]
	what := txtHistDiff
	if h.full {
		what = txtHistFull
	}
	return s.key.Render(fmt.Sprintf(txtHistRev, e.KV.ModRevision)) + s.dim.Render(" · "+what)
}

// versionRows draws the versions list, with a last line that says where
// the history ends.
func (b *browser) versionRows(width, rows int) []string {
	h := &b.hist
	s := b.st
	var out []string
	for i := h.offset; i < len(h.entries) && len(out) < rows; i++ {
		e := h.entries[i]
		kind := txtHistUpdated
		size := units.Bytes(int64(len(e.KV.Value)))
		switch e.Type {
		case backends.Created:
			kind = txtHistCreated
		case backends.Deleted:
			kind, size = txtHistDeleted, ""
		}
		ver := ""
		if e.Type != backends.Deleted {
			ver = fmt.Sprintf("v%d", e.KV.Version)
		}
		text := fmt.Sprintf("%-9s %-4s %s %s", fmt.Sprintf(txtHistRev, e.KV.ModRevision), ver, kind, size)
		if i == 0 && e.Type != backends.Deleted {
			text += " " + txtHistCurrent
		}
		if i == h.cursor {
			out = append(out, s.selected.Render(fit("▸ "+text, width)))
			continue
		}
		out = append(out, "  "+text)
	}
	if len(out) < rows {
		out = append(out, s.dim.Render(clip(h.endNote(), width)))
	}
	return out
}

// endNote says where the history, as read, ends.
func (h *historyState) endNote() string {
	switch {
	case h.busy && h.more:
		return "  " + txtReading
	case h.more:
		return "  …"
	case h.stopsAtDelete:
		at := h.rev
		if n := len(h.entries); n > 0 {
			at = h.entries[n-1].KV.ModRevision - 1
		}
		return "  " + fmt.Sprintf(txtHistStopsAtDelete, at)
	case h.compacted > 0:
		return "  " + fmt.Sprintf(txtHistCompacted, h.compacted)
	case len(h.entries) == 0:
		return "  " + txtHistEmpty
	}
	return "  " + txtHistComplete
}

// paneLines draws rows lines of the right pane from its scroll position.
func (b *browser) paneLines(width, rows int, now time.Time) []string {
	h := &b.hist
	if !h.paneReady {
		return []string{b.st.spinner(now) + " " + txtReading}
	}
	h.scroll = max(min(h.scroll, len(h.pane)-rows), 0)
	end := min(h.scroll+rows, len(h.pane))
	out := make([]string, 0, rows)
	for _, l := range h.pane[h.scroll:end] {
		out = append(out, clip(l, width))
	}
	return out
}

// pad fills lines up to n with empty ones (and cuts it to n).
func pad(lines []string, n int) []string {
	for len(lines) < n {
		lines = append(lines, "")
	}
	return lines[:n]
}
