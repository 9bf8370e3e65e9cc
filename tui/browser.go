package tui

import (
	"context"
	"errors"
	"io"
	"time"

	"github.com/charmbracelet/bubbles/cursor"
	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/k3/k3-storage/backends"
)

// browserConfig is what the browser takes from the console.
type browserConfig struct {
	styles      *styles
	keys        keyMap
	readOnly    bool
	callTimeout time.Duration // bounds each read
	// writeTimeout bounds each write: a save fails fast when the backend
	// does not answer.
	writeTimeout time.Duration
	term         io.Writer // the program's output, for OSC 52 (nil: none)
	// clock is the console's time source; the editor reads it after work
	// that takes a while (see typingGap).
	clock func() time.Time
}

// mode is what the browser's keys do.
type mode int

const (
	modeBrowse        mode = iota // moving in the list
	modeFilter                    // typing a filter
	modeValue                     // scrolling the value pane
	modeNewKey                    // typing a new key's name
	modeNewValue                  // typing a new key's value
	modeEdit                      // editing the selected key's value
	modeConfirmDelete             // waiting for y
	modeHelp                      // all bindings
	modeHistory                   // the selected key's history (history.go)
	modeExport                    // typing the file to export to (export.go)
	modeConfirmExport             // waiting for y to replace that file
)

// flashFor is how long a changed row stays highlighted.
const flashFor = 2 * time.Second

// Messages of the browser. Each carries what identifies the request, so
// that an answer to a superseded request is dropped.
type (
	fetchedMsg struct {
		seq int
		req fetchReq
		res fetchRes
		err error
	}
	savedMsg struct {
		op    editOp
		key   string
		value []byte
		rev   int64             // the write's revision
		prev  backends.KeyValue // ModRevision (and Value, for an update) the write was based on
		err   error
		// restored is the revision whose value the write restored from
		// the key's history (0: an edit).
		restored int64
	}
)

// status is the one-line message under the panes.
type status struct {
	text  string
	kind  statusKind
	until time.Time // zero: until replaced
}

type statusKind int

const (
	statusInfo statusKind = iota
	statusOK
	statusErr
	statusPrompt
)

// browser is the key browser. Its parts live in files of their own: the
// listing window (listing.go), the count cache (counts.go), the value pane
// (valuepane.go), the live view (watch.go, apply.go) and the editor
// (editor.go).
type browser struct {
	ctx   context.Context
	store backends.Store
	revs  backends.Revisioner // nil when the store cannot report revisions
	cfg   browserConfig
	st    *styles
	keys  keyMap

	mode          mode
	width, height int
	rows          int // list rows on screen

	level  string
	flat   bool
	filter string
	gen    int
	seq    int
	list   listing
	// cursor is the index of the selected child in the level (the list
	// cursor; where a read of the store continues is a readPos), offset
	// the index of the first row on screen.
	cursor  int
	offset  int
	jumpEnd bool

	counts     map[string]countInfo
	countsBusy int

	val     valuePane
	valBusy bool // a Get of the value pane is in flight
	hex     bool
	noWrap  bool // long lines of values are cut, not wrapped

	watch watchState
	// health is the backend's reachability, as the model last gave it
	// (setHealth).
	health    backendHealth
	feed      []change
	status    status
	animUntil time.Time

	filterInput textinput.Model
	ed          editor
	pendingDel  *entry
	hist        historyState
	export      exportState
	helpOffset  int // the first line of the help shown
	footerFor   footerLine
	// unchanged: the last message changed nothing on the screen (a key
	// of a burst of typed text, gathered), so the last frame stands.
	unchanged bool
	// openSole: the root's first read is in flight; if the root holds one
	// directory and nothing else (a store of /-keys holds only "/"), the
	// browser opens it instead of showing it alone.
	openSole bool
}

func newBrowser(ctx context.Context, store backends.Store, cfg browserConfig) *browser {
	fi := textinput.New()
	fi.Prompt = "/"
	fi.Placeholder = txtFilterPlaceholder
	fi.CharLimit = backends.MaxKeySize // a filter longer than any key matches nothing
	fi.Cursor.SetMode(cursor.CursorStatic)
	b := &browser{
		ctx: ctx, store: store, cfg: cfg, st: cfg.styles, keys: cfg.keys,
		counts: map[string]countInfo{}, filterInput: fi, width: 80, height: 24,
	}
	b.revs, _ = store.(backends.Revisioner)
	b.layout()
	return b
}

// init reads the root level, and opens its directory when that is all it
// holds.
func (b *browser) init(now time.Time) tea.Cmd {
	b.setStatus(statusOK, txtBrowserReady, now, 4*time.Second)
	cmd := b.setLevel("", "")
	b.openSole = true
	return cmd
}

// close cancels the watch and any read in flight. A nil browser (the
// console never got ready) has nothing to close.
func (b *browser) close() {
	if b == nil {
		return
	}
	if b.watch.cancel != nil {
		b.watch.cancel()
	}
	if b.list.cancel != nil {
		b.list.cancel()
	}
	if b.export.running() {
		b.export.cancel()
	}
}

// prompting reports a question waiting for its y in the status line.
func (b *browser) prompting() bool {
	return b.mode == modeConfirmDelete || b.mode == modeConfirmExport || b.mode == modeHistory && b.hist.confirm
}

// capturesKeys reports a text field with focus: q and L are text there.
func (b *browser) capturesKeys() bool {
	switch b.mode {
	case modeFilter, modeNewKey, modeNewValue, modeEdit, modeExport:
		return true
	}
	return false
}

func (b *browser) resize(width, height int) tea.Cmd {
	b.width, b.height = width, height
	b.layout()
	b.scroll()
	if b.mode == modeHistory {
		b.scrollHistory()
	}
	return b.ensureLoaded()
}

// layout derives the list height and the editor size from the screen.
func (b *browser) layout() {
	// header, path line, feed, status and footer take five rows.
	b.rows = max(b.height-5, 1)
	if b.editing() {
		b.ed.resize(b.width, b.rows)
	}
}

// selected returns the entry under the cursor, if loaded.
func (b *browser) selected() (*entry, bool) { return b.list.at(b.cursor) }

func (b *browser) setStatus(kind statusKind, text string, now time.Time, d time.Duration) {
	b.status = status{text: text, kind: kind}
	if d > 0 {
		b.status.until = now.Add(d)
		b.animate(b.status.until)
	}
}

// animate asks for fast ticks until t.
func (b *browser) animate(t time.Time) {
	if t.After(b.animUntil) {
		b.animUntil = t
	}
}

// animating reports whether the view changes with the clock alone.
func (b *browser) animating(now time.Time) bool {
	return now.Before(b.animUntil) || b.list.busy || b.valBusy || b.countsBusy > 0 || b.retryPending() ||
		b.export.running() || b.mode == modeHistory && (b.hist.busy || !b.hist.paneReady)
}

// retryPending reports a broken live view waiting for its retry. While the
// backend is down the retry waits for it to come back (setHealth).
func (b *browser) retryPending() bool {
	return !b.watch.live && !b.watch.retryAt.IsZero() && !b.health.down
}

// tick expires the status line, retries a broken live view when its
// backoff has passed and recounts stale directories.
func (b *browser) tick(now time.Time) tea.Cmd {
	if !b.status.until.IsZero() && !now.Before(b.status.until) {
		b.status = status{}
	}
	var retry tea.Cmd
	if b.retryPending() && !now.Before(b.watch.retryAt) && !b.list.busy {
		b.watch.retryAt = time.Time{}
		retry = b.refresh(false)
	}
	return tea.Batch(retry, b.ensureCounts(now))
}

// update handles keys and the browser's messages.
func (b *browser) update(msg tea.Msg, now time.Time) tea.Cmd {
	switch msg := msg.(type) {
	case tea.KeyMsg:
		return b.key(msg, now)
	case fetchedMsg:
		return b.fetched(msg, now)
	case countedMsg:
		return b.counted(msg, now)
	case valueMsg:
		return b.valueLoaded(msg)
	case watchStartedMsg:
		if msg.gen != b.watch.gen {
			return nil
		}
		b.watch.started(now)
		return waitWatch(msg.ch, msg.gen)
	case watchEventsMsg:
		return b.watchEvents(msg, now)
	case savedMsg:
		return b.saved(msg, now)
	case diffMsg:
		b.diffed(msg)
	case copiedMsg:
		b.copied(msg, now)
	case historyMsg:
		return b.historyRead(msg, now)
	case historyPaneMsg:
		b.historyPane(msg)
	case exportedMsg:
		b.exported(msg, now)
	case editReadMsg:
		return b.editRead(msg, now)
	case flushTypedMsg:
		if b.editing() {
			return b.ed.burstTick(msg, b.cfg.clock)
		}
	}
	return nil
}

func (b *browser) key(msg tea.KeyMsg, now time.Time) tea.Cmd {
	switch b.mode {
	case modeFilter:
		return b.filterKey(msg, now)
	case modeNewKey, modeNewValue, modeEdit:
		return b.editorKey(msg, now)
	case modeConfirmDelete:
		return b.confirmKey(msg, now)
	case modeHelp:
		b.helpKey(msg)
		return nil
	case modeValue:
		return b.valueKey(msg, now)
	case modeHistory:
		return b.historyKey(msg, now)
	case modeExport, modeConfirmExport:
		return b.exportKey(msg, now)
	}
	k := b.keys
	switch {
	case key.Matches(msg, k.Up):
		return b.move(-1)
	case key.Matches(msg, k.Down):
		return b.move(1)
	case key.Matches(msg, k.PageUp):
		return b.move(-b.rows)
	case key.Matches(msg, k.PageDown):
		return b.move(b.rows)
	case key.Matches(msg, k.Home):
		return b.move(-b.cursor)
	case key.Matches(msg, k.End):
		return b.end()
	case key.Matches(msg, k.Open):
		return b.open()
	case key.Matches(msg, k.Back):
		return b.up()
	case key.Matches(msg, k.Clear):
		if b.filter != "" {
			return b.setFilter("")
		}
		return b.up()
	case key.Matches(msg, k.Filter):
		b.mode = modeFilter
		b.filterInput.SetValue(b.filter)
		b.filterInput.CursorEnd()
		b.filterInput.Focus()
		return nil
	case key.Matches(msg, k.Flat):
		return b.toggleFlat(now)
	case key.Matches(msg, k.Hex):
		b.toggleHex()
		return nil
	case key.Matches(msg, k.Wrap):
		b.toggleWrap(now)
		return nil
	case key.Matches(msg, k.Copy):
		return b.copyKey(now)
	case key.Matches(msg, k.CopyValue):
		return b.copyValue(now)
	case key.Matches(msg, k.Refresh):
		b.setStatus(statusInfo, txtRefreshing, now, time.Second)
		return b.refresh(true)
	case key.Matches(msg, k.New):
		return b.startCreate(now)
	case key.Matches(msg, k.Edit):
		return b.startEdit(now)
	case key.Matches(msg, k.Delete):
		return b.startDelete(now)
	case key.Matches(msg, k.History):
		return b.startHistory(now)
	case key.Matches(msg, k.Export):
		return b.startExport(now)
	case key.Matches(msg, k.Help):
		b.openHelp()
	}
	return nil
}

func (b *browser) filterKey(msg tea.KeyMsg, now time.Time) tea.Cmd {
	switch msg.String() {
	case "esc":
		b.mode = modeBrowse
		b.filterInput.Blur()
		return b.setFilter("")
	case "enter":
		b.mode = modeBrowse
		b.filterInput.Blur()
		return nil
	case "up", "down", "pgup", "pgdown":
		b.mode = modeBrowse
		defer func() { b.mode = modeFilter }()
		return b.key(msg, now)
	}
	if msg.Type == tea.KeyRunes {
		msg.Runes = inertRunes(msg.Runes)
	}
	var cmd tea.Cmd
	b.filterInput, cmd = b.filterInput.Update(msg)
	if v := b.filterInput.Value(); v != b.filter {
		return tea.Batch(cmd, b.setFilter(v))
	}
	return cmd
}

// move moves the cursor by delta rows, within what is loaded; reads
// further as the cursor nears the end of the window.
func (b *browser) move(delta int) tea.Cmd {
	c := b.cursor + delta
	if delta > 0 {
		c = min(c, max(b.list.end()-1, 0))
	}
	c = max(c, 0)
	if c == b.cursor {
		return b.ensureLoaded()
	}
	b.cursor = c
	b.jumpEnd = false
	b.scroll()
	return tea.Batch(b.ensureLoaded(), b.syncValue())
}

// end jumps to the last child, reading forward until the level ends.
func (b *browser) end() tea.Cmd {
	if !b.list.more {
		return b.move(b.list.end() - 1 - b.cursor)
	}
	b.jumpEnd = true
	return b.ensureLoaded()
}

// scroll keeps the cursor on screen.
func (b *browser) scroll() {
	if b.cursor < b.offset {
		b.offset = b.cursor
	}
	if b.cursor >= b.offset+b.rows {
		b.offset = b.cursor - b.rows + 1
	}
	if b.offset < 0 {
		b.offset = 0
	}
}

// open enters a directory or focuses a key's value.
func (b *browser) open() tea.Cmd {
	e, ok := b.selected()
	if !ok {
		return nil
	}
	if e.dir {
		return b.setLevel(e.name, "")
	}
	b.mode = modeValue
	return nil
}

// up goes to the parent level, with the directory we came from selected.
func (b *browser) up() tea.Cmd {
	if b.level == "" {
		return nil
	}
	return b.setLevel(parentOf(b.level), b.level)
}

func (b *browser) toggleFlat(now time.Time) tea.Cmd {
	b.flat = !b.flat
	name := ""
	if e, ok := b.selected(); ok {
		name = e.name
	}
	if b.flat {
		b.setStatus(statusInfo, txtFlatOn, now, 3*time.Second)
	} else {
		b.setStatus(statusInfo, txtFlatOff, now, 3*time.Second)
	}
	return b.relist(name)
}

func (b *browser) setFilter(f string) tea.Cmd {
	b.filter = f
	return b.relist("")
}

// setLevel browses another level, selecting the child named locate (or
// the first one), with a new watch.
func (b *browser) setLevel(level, locate string) tea.Cmd {
	old := b.level
	b.level = level
	b.filter = ""
	b.filterInput.SetValue("")
	b.mode = modeBrowse
	// Counts stay exact across the change only if both watches cover
	// them and the new watch resumes where the old one stopped.
	var resume int64
	if b.watch.live {
		resume = b.watch.lastRev + 1
	}
	b.carryCounts(old, level, resume, b.watch.lastRev)
	b.watch.reset(resume)
	return b.relist(locate)
}

// relist starts a fresh listing of the level (after a level, mode or
// filter change).
func (b *browser) relist(locate string) tea.Cmd {
	b.gen++
	if b.list.cancel != nil {
		b.list.cancel()
	}
	b.list = newListing(newQuery(b.level, b.flat, b.filter), b.gen)
	b.cursor, b.offset, b.jumpEnd = 0, 0, false
	b.val = valuePane{}
	b.list.locate = locate
	req := fetchReq{want: b.window(), replace: true, until: locate}
	if locate != "" {
		req.want = 0
	}
	return b.fetch(req)
}

// window is how many children one forward read asks for.
func (b *browser) window() int { return max(2*b.rows, 64) }

// refresh re-reads the window (keeping the cursor) and restarts the
// watch from the new read. all also reads the value again.
func (b *browser) refresh(all bool) tea.Cmd {
	// The watch restarts from the new read: changes in between are not
	// seen, so counts are read again.
	b.staleCounts()
	b.watch.reset(0)
	if all {
		b.val.loaded = false
		b.val.key = ""
	}
	a := b.list.anchorAtOrBefore(b.list.start)
	want := min(max(b.list.end()-a.idx, b.window()), maxWindow)
	return tea.Batch(b.fetch(fetchReq{from: a.pos, fromIdx: a.idx, want: want, replace: true}), b.syncValue())
}

// fetch starts a read of the listing; a newer one cancels it.
func (b *browser) fetch(req fetchReq) tea.Cmd {
	if b.list.cancel != nil {
		b.list.cancel()
	}
	ctx, cancel := context.WithTimeout(b.ctx, b.cfg.callTimeout)
	b.seq++
	seq := b.seq
	b.list.cancel = cancel
	b.list.busy = true
	req.gen = b.list.gen
	req.q = b.list.q
	store := b.store
	return func() tea.Msg {
		defer cancel()
		res, err := enumerate(ctx, store, req)
		return fetchedMsg{seq: seq, req: req, res: res, err: err}
	}
}

// ensureLoaded reads what the screen needs next: the rows above the window
// (from an anchor), or more rows below it, and the counts of the
// directories on screen.
func (b *browser) ensureLoaded() tea.Cmd {
	l := &b.list
	if !l.loaded || l.busy {
		return nil
	}
	var cmd tea.Cmd
	switch {
	case b.jumpEnd && l.more:
		// Read on to the end; the window slides along.
		cmd = b.fetch(fetchReq{from: l.tail, fromIdx: l.end()})
	case b.offset < l.start:
		t := max(b.offset-b.rows, 0)
		a := l.anchorAtOrBefore(t)
		want := min(b.offset+2*b.rows-a.idx, maxWindow)
		cmd = b.fetch(fetchReq{from: a.pos, fromIdx: a.idx, want: want, replace: true})
	case l.more && b.offset+2*b.rows > l.end():
		cmd = b.fetch(fetchReq{from: l.tail, fromIdx: l.end(), want: b.window()})
	}
	return tea.Batch(cmd, b.ensureCounts(time.Time{}))
}

// fetched folds a read into the listing.
func (b *browser) fetched(msg fetchedMsg, now time.Time) tea.Cmd {
	if msg.req.gen != b.list.gen || msg.seq != b.seq {
		return nil
	}
	l := &b.list
	l.busy = false
	if msg.err != nil {
		if errors.Is(msg.err, context.Canceled) {
			return nil
		}
		l.err = msg.err
		b.broken(msg.err, now)
		return nil
	}
	l.err = nil
	r := msg.res
	locating := msg.req.until != "" && !r.found
	keepIdx := b.cursor
	if locating || b.jumpEnd {
		keepIdx = r.nextIdx
	}
	l.merge(r, msg.req.replace, keepIdx, b.rows)
	if b.openSole && msg.req.replace {
		b.openSole = false
		if b.level == "" && !b.flat && b.filter == "" && !l.more && len(l.items) == 1 && l.items[0].dir {
			return b.setLevel(l.items[0].name, "")
		}
	}
	var cmds []tea.Cmd
	if msg.req.replace && b.watch.need {
		// Resume where the previous level's watch stopped when that is
		// earlier: the listing skips what it already reflects, and the
		// counts kept across the change miss nothing.
		from := b.watch.startFrom(r.rev)
		cmds = append(cmds, b.startWatch(from))
		b.distrustCountsBefore(from)
	}
	switch {
	case msg.req.until != "" && r.found:
		i, _ := l.find(msg.req.until)
		b.cursor = l.start + min(i, max(len(l.items)-1, 0))
		b.offset = max(b.cursor-b.rows/3, 0)
		l.locate = ""
	case locating && r.partial:
		req := msg.req
		req.from, req.fromIdx, req.replace = r.tail, r.nextIdx, false
		return tea.Batch(append(cmds, b.fetch(req))...)
	case locating:
		l.locate = ""
		b.cursor = max(l.end()-1, 0)
		b.scroll()
	case b.jumpEnd && !l.more:
		b.jumpEnd = false
		b.cursor = max(l.end()-1, 0)
		b.scroll()
	}
	if b.cursor >= l.end() && !l.more {
		b.cursor = max(l.end()-1, 0)
		b.scroll()
	}
	cmds = append(cmds, b.ensureLoaded(), b.syncValue())
	return tea.Batch(cmds...)
}
