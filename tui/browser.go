package tui

import (
	"context"
	"errors"
	"strings"
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
	callTimeout time.Duration
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
)

const (
	// countsInFlight bounds concurrent Count calls: counting a directory
	// of a million keys is real work for the store.
	countsInFlight = 3
	// flashFor is how long a changed row stays highlighted.
	flashFor = 2 * time.Second
	// feedLen is how many recent changes the change feed keeps.
	feedLen = 3
	// Watch retry backoff.
	retryFirst = 500 * time.Millisecond
	retryMax   = 10 * time.Second
)

// Messages of the browser. Each carries what identifies the request, so
// that an answer to a superseded request is dropped.
type (
	fetchedMsg struct {
		seq int
		req fetchReq
		res fetchRes
		err error
	}
	countedMsg struct {
		name  string
		n     int64
		rev   int64 // the revision the count is exact at (when exact)
		exact bool
		err   error
	}
	valueMsg struct {
		get   bool // the answer to syncValue's read (not a watch update)
		key   string
		kv    backends.KeyValue
		kind  valueKind
		lines []string
		err   error
	}
	watchStartedMsg struct {
		gen int
		ch  <-chan backends.Event
	}
	watchEventsMsg struct {
		gen    int
		ch     <-chan backends.Event
		events []backends.Event
		err    error // the watch ended with this error
		closed bool  // the channel closed
	}
	savedMsg struct {
		op    editOp
		key   string
		value []byte
		rev   int64 // the write's revision
		prev  backends.KeyValue
		err   error
	}
)

// countInfo is a directory's key count, kept exact by the watch once known.
type countInfo struct {
	n     int64
	rev   int64 // exact at this revision; later events adjust it
	exact bool  // false: counted while others wrote, or the store cannot tell
	known bool
	busy  bool
	stale bool // needs counting again
	at    time.Time
	// seen is the revision of the latest watch event that created or
	// deleted a key in the directory, applied or not: a count at an
	// earlier revision would undo it.
	seen int64
}

// change is one line of the change feed.
type change struct {
	typ backends.EventType
	key string
	rev int64
	at  time.Time
}

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

// watchState is the live update of the browsed level.
type watchState struct {
	gen     int
	cancel  context.CancelFunc
	live    bool
	err     string
	retryAt time.Time
	backoff time.Duration
	since   time.Time // when the current watch started
	// from is the first revision the current watch reports; 0 while the
	// level has none (before its first read returns, after a refresh or a
	// failure). A count is kept exact only from revision from-1 on.
	from int64
	// feedFrom is the first revision the change feed shows: events
	// replayed from before the level was read are not news.
	feedFrom int64
	lastRev  int64
}

// healthyAfter is how long a watch must last for a later failure to start
// the backoff afresh.
const healthyAfter = 30 * time.Second

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

	level   string
	flat    bool
	filter  string
	gen     int
	seq     int
	list    listing
	cursor  int
	offset  int
	jumpEnd bool

	counts     map[string]countInfo
	countsBusy int

	val     valuePane
	valBusy bool // a Get of the value pane is in flight
	hex     bool

	watch     watchState
	watchFrom int64 // the next level's watch starts here if earlier than its read
	// needWatch: the level has no watch (a new level, a refresh, a failure);
	// the next read that replaces the window starts one from its revision.
	// It stays set until such a read lands: the read that asked for the
	// watch may be superseded by another (flat mode, a filter).
	needWatch bool
	feed      []change
	status    status
	animUntil time.Time

	filterInput textinput.Model
	ed          editor
	pendingDel  *entry
}

func newBrowser(ctx context.Context, store backends.Store, cfg browserConfig) *browser {
	fi := textinput.New()
	fi.Prompt = "/"
	fi.Placeholder = txtFilterPlaceholder
	fi.Cursor.SetMode(cursor.CursorStatic)
	b := &browser{
		ctx: ctx, store: store, cfg: cfg, st: cfg.styles, keys: cfg.keys,
		counts: map[string]countInfo{}, filterInput: fi, width: 80, height: 24,
	}
	b.revs, _ = store.(backends.Revisioner)
	b.layout()
	return b
}

// init reads the root level.
func (b *browser) init(now time.Time) tea.Cmd {
	b.setStatus(statusOK, txtBrowserReady, now, 4*time.Second)
	return b.setLevel("", "")
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
}

// capturesKeys reports a text field with focus: q and L are text there.
func (b *browser) capturesKeys() bool {
	switch b.mode {
	case modeFilter, modeNewKey, modeNewValue, modeEdit:
		return true
	}
	return false
}

func (b *browser) resize(width, height int) tea.Cmd {
	b.width, b.height = width, height
	b.layout()
	b.scroll()
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
	return now.Before(b.animUntil) || b.list.busy || b.valBusy || b.countsBusy > 0 ||
		(!b.watch.live && !b.watch.retryAt.IsZero())
}

// tick expires the status line, retries a broken live view when its
// backoff has passed and recounts stale directories.
func (b *browser) tick(now time.Time) tea.Cmd {
	if !b.status.until.IsZero() && !now.Before(b.status.until) {
		b.status = status{}
	}
	var retry tea.Cmd
	if !b.watch.live && !b.watch.retryAt.IsZero() && !now.Before(b.watch.retryAt) && !b.list.busy {
		b.watch.retryAt = time.Time{}
		retry = b.refresh(now, false)
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
		b.watch.live, b.watch.err, b.watch.retryAt, b.watch.since = true, "", time.Time{}, now
		return waitWatch(msg.ch, msg.gen)
	case watchEventsMsg:
		return b.watchEvents(msg, now)
	case savedMsg:
		return b.saved(msg, now)
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
		if key.Matches(msg, b.keys.Help, b.keys.Clear, b.keys.Quit) {
			b.mode = modeBrowse
		}
		return nil
	case modeValue:
		return b.valueKey(msg, now)
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
		return b.open(now)
	case key.Matches(msg, k.Back):
		return b.up(now)
	case key.Matches(msg, k.Clear):
		if b.filter != "" {
			return b.setFilter("", now)
		}
		return b.up(now)
	case key.Matches(msg, k.Filter):
		b.mode = modeFilter
		b.filterInput.SetValue(b.filter)
		b.filterInput.CursorEnd()
		b.filterInput.Focus()
		return nil
	case key.Matches(msg, k.Flat):
		return b.toggleFlat(now)
	case key.Matches(msg, k.Hex):
		b.hex = !b.hex
		b.val.offset = 0
		return nil
	case key.Matches(msg, k.Refresh):
		b.setStatus(statusInfo, txtRefreshing, now, time.Second)
		return b.refresh(now, true)
	case key.Matches(msg, k.New):
		return b.startCreate(now)
	case key.Matches(msg, k.Edit):
		return b.startEdit(now)
	case key.Matches(msg, k.Delete):
		return b.startDelete(now)
	case key.Matches(msg, k.Help):
		b.mode = modeHelp
	}
	return nil
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
		b.mode = modeHelp
	case key.Matches(msg, k.Refresh):
		return b.refresh(now, true)
	}
	return nil
}

func (b *browser) filterKey(msg tea.KeyMsg, now time.Time) tea.Cmd {
	switch msg.String() {
	case "esc":
		b.mode = modeBrowse
		b.filterInput.Blur()
		return b.setFilter("", now)
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
		return tea.Batch(cmd, b.setFilter(v, now))
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
func (b *browser) open(now time.Time) tea.Cmd {
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
func (b *browser) up(now time.Time) tea.Cmd {
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

func (b *browser) setFilter(f string, now time.Time) tea.Cmd {
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
	b.watchFrom = 0
	if b.watch.live {
		b.watchFrom = b.watch.lastRev + 1
	}
	for name, c := range b.counts {
		switch {
		case !strings.HasPrefix(name, level):
			delete(b.counts, name)
		case b.watchFrom == 0 || !strings.HasPrefix(name, old):
			// Shown as approximate (≈) until counted again.
			c.exact, c.stale = false, true
			b.counts[name] = c
		default:
			// The old watch reported every change up to its last
			// revision, and the new one resumes after it.
			c.rev = max(c.rev, b.watch.lastRev)
			b.counts[name] = c
		}
	}
	b.countsBusy = 0
	for _, c := range b.counts {
		if c.busy {
			b.countsBusy++
		}
	}
	if b.watch.cancel != nil {
		b.watch.cancel()
		b.watch.cancel = nil
	}
	b.watch.gen++
	b.watch.live = false
	b.watch.from = 0
	b.watch.retryAt = time.Time{}
	b.needWatch = true
	b.feed = nil
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
// watch from the new read. all also recounts directories.
func (b *browser) refresh(now time.Time, all bool) tea.Cmd {
	// The watch restarts from the new read: changes in between are not
	// seen, so counts are read again.
	for name, c := range b.counts {
		c.stale = true
		b.counts[name] = c
	}
	b.watchFrom = 0
	if all {
		b.val.loaded = false
		b.val.key = ""
	}
	if b.watch.cancel != nil {
		b.watch.cancel()
		b.watch.cancel = nil
	}
	b.watch.gen++
	b.watch.from = 0
	b.needWatch = true
	a := b.list.anchorAtOrBefore(b.list.start)
	want := min(max(b.list.end()-a.idx, b.window()), maxWindow)
	return tea.Batch(b.fetch(fetchReq{from: a.cur, fromIdx: a.idx, want: want, replace: true}), b.syncValue())
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
		cmd = b.fetch(fetchReq{from: a.cur, fromIdx: a.idx, want: want, replace: true})
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
		return b.broken(msg.err, now)
	}
	l.err = nil
	r := msg.res
	locating := msg.req.until != "" && !r.found
	keepIdx := b.cursor
	if locating || b.jumpEnd {
		keepIdx = r.nextIdx
	}
	l.merge(r, msg.req.replace, keepIdx, b.rows)
	var cmds []tea.Cmd
	if msg.req.replace && b.needWatch {
		// Resume where the previous level's watch stopped when that is
		// earlier: the listing skips what it already reflects, and the
		// counts kept across the change miss nothing.
		from := r.rev + 1
		if b.watchFrom > 0 && b.watchFrom < from {
			from = b.watchFrom
		}
		b.watchFrom = 0
		b.needWatch = false
		b.watch.feedFrom = r.rev + 1
		b.watch.retryAt = time.Time{} // this is the retry
		cmds = append(cmds, b.startWatch(from))
		// Counts taken before from-1 miss the changes in between (the
		// console's tick counts before the first read returns).
		for name, c := range b.counts {
			if c.known && c.exact && c.rev < from-1 {
				c.exact, c.stale, c.at = false, true, time.Time{}
				b.counts[name] = c
			}
		}
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

// ensureCounts counts the directories on screen (and the level) whose
// count is unknown or stale, a few at a time.
func (b *browser) ensureCounts(now time.Time) tea.Cmd {
	var cmds []tea.Cmd
	want := func(name string) {
		if b.countsBusy >= countsInFlight {
			return
		}
		c, ok := b.counts[name]
		if ok && (c.busy || !c.stale) {
			return
		}
		if ok && c.stale && !now.IsZero() && now.Sub(c.at) < time.Second {
			return // recount a busy directory at most once a second
		}
		c.busy = true
		b.counts[name] = c
		b.countsBusy++
		cmds = append(cmds, b.countCmd(name))
	}
	want(b.level)
	for i := b.offset; i < b.offset+b.rows; i++ {
		if e, ok := b.list.at(i); ok && e.dir {
			want(e.name)
		}
	}
	return tea.Batch(cmds...)
}

func (b *browser) countCmd(name string) tea.Cmd {
	ctx, store, revs, timeout := b.ctx, b.store, b.revs, b.cfg.callTimeout
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		return count(ctx, store, revs, name)
	}
}

// count counts the keys under name. With a Revisioner it reads the
// revision before and after, so the count is known exact at a revision and
// the watch can keep it exact; a write in between makes it try again.
func count(ctx context.Context, s backends.Store, revs backends.Revisioner, name string) countedMsg {
	var last countedMsg
	for try := 0; try < 3; try++ {
		var r1, r2 int64
		var err error
		if revs != nil {
			if r1, _, err = revs.Revision(ctx); err != nil {
				revs = nil
			}
		}
		n, err := s.Count(ctx, name)
		if err != nil {
			return countedMsg{name: name, err: err}
		}
		last = countedMsg{name: name, n: n}
		if revs == nil {
			return last
		}
		if r2, _, err = revs.Revision(ctx); err != nil {
			return last
		}
		last.rev = r2
		if r1 == r2 {
			last.exact = true
			return last
		}
	}
	return last
}

func (b *browser) counted(msg countedMsg, now time.Time) tea.Cmd {
	c, ok := b.counts[msg.name]
	if !ok || !c.busy {
		return nil // dropped when the level changed
	}
	b.countsBusy = max(b.countsBusy-1, 0)
	c.busy, c.at = false, now
	if msg.err != nil {
		c.stale = true
		b.counts[msg.name] = c
		return nil
	}
	exact, stale := msg.exact, false
	switch {
	case !exact:
	case b.watch.from > 0 && msg.rev < b.watch.from-1:
		// Counted before the revision the watch reports from: the
		// changes in between are not in the count and never will be.
		// Counting again now gives a revision the watch covers.
		exact, stale, c.at = false, true, time.Time{}
	case msg.rev < c.seen:
		// The watch already reported a later change, which this count
		// would undo. Count again (at most once a second, as for a
		// directory that changes while it is counted).
		exact, stale = false, true
	}
	// Without a watch (none yet, or it failed) the count is taken as it
	// is; the next watch's start checks it as above.
	c.n, c.rev, c.exact, c.known, c.stale = msg.n, msg.rev, exact, true, stale
	b.counts[msg.name] = c
	if msg.n == 0 && msg.name != b.level {
		// The row under the cursor may now be another key.
		b.removeChild(msg.name)
		return tea.Batch(b.syncValue(), b.ensureCounts(now))
	}
	return b.ensureCounts(now)
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

// broken records that the live view failed. The console's tick re-lists
// and re-watches once retryAt has passed, backing off on each failure; a
// re-read of the level the user asks for first (flat mode, a filter)
// restarts the watch too.
func (b *browser) broken(err error, now time.Time) tea.Cmd {
	if b.watch.cancel != nil {
		b.watch.cancel()
		b.watch.cancel = nil
	}
	b.watch.gen++
	b.watch.live = false
	b.watch.from = 0
	b.needWatch = true
	b.watch.err = err.Error()
	if !b.watch.since.IsZero() && now.Sub(b.watch.since) > healthyAfter {
		b.watch.backoff = 0
	}
	b.watch.since = time.Time{}
	switch {
	case b.watch.backoff == 0:
		b.watch.backoff = retryFirst
	default:
		b.watch.backoff = min(2*b.watch.backoff, retryMax)
	}
	b.watch.retryAt = now.Add(b.watch.backoff)
	return nil
}
