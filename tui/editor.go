package tui

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/charmbracelet/bubbles/cursor"
	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/textarea"
	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"

	"github.com/k3/k3-storage/backends"
	"github.com/k3/k3-storage/internal/units"
)

// editOp is what a save does.
type editOp int

const (
	opCreate editOp = iota + 1
	opUpdate
	opDelete
)

// maxEditSize bounds the values the editor opens: the text area redraws
// its whole content on each key, which is slow far below the store's
// 1.5 MiB limit.
const maxEditSize = 256 * 1024

// maxEditLines is the text area's limit on lines (bubbles' textarea drops
// the lines past it).
const maxEditLines = 10000

// typingGap is how soon after the previous typed text a key counts as part
// of a burst: a paste without bracketed paste, which arrives as thousands
// of key messages, or keys typed faster than the program reads them. A key
// typed on its own goes into the text area at once; a burst is gathered
// and inserted at once, because each change of the text area costs time in
// proportion to its whole content (it redraws and re-wraps everything):
// key by key, a paste takes time in proportion to the square of its size.
//
// A tick every typingGap watches the burst: the gathered text goes in as
// soon as a tick finds that no key came since the one before (the burst
// ended), and, while it goes on, every 1+size/flushStep ticks, so that the
// text shows as it comes yet the insertions take a bounded share of the
// time. Ticks are counted, not timed: the tests' clocks stand still.
const (
	typingGap = 25 * time.Millisecond
	flushStep = 4 << 10
)

// flushTypedMsg is a tick of a burst of typed text (see typingGap); gen
// tells the ticks of an earlier burst.
type flushTypedMsg struct{ gen int }

// editor is the new-key and edit-value form.
type editor struct {
	op       editOp
	key      string
	rev      int64 // the revision the edit is based on (opUpdate)
	orig     string
	keyInput textinput.Model
	// prefill is the level the key field was filled with; keyTouched
	// reports an edit of the field since. While it is untouched, a typed
	// or pasted "/" at its start replaces the level: it begins a full key.
	prefill    string
	keyTouched bool
	area       textarea.Model
	err        string
	warn       string // a concurrent change the watch reported
	// ask is a question about the text (a key with "//", a value that is
	// no longer JSON): the same enter or ctrl+s again goes ahead, any other
	// key withdraws it. asked is the text it is about.
	ask, asked string
	saving     bool
	width      int
	height     int
	// pending is text typed in a burst, not yet in the area; lastTyped is
	// when the area last took typed text, or a key of a burst was
	// gathered. While a burst lasts, ticks (burstGen) watch it: ticks
	// counts them since the last insertion, keyed whether a key came since
	// the last one.
	pending   []rune
	lastTyped time.Time
	bursting  bool
	burstGen  int
	ticks     int
	keyed     bool
	size      int // about how many runes the area holds, to space insertions
	// loading: the editor reads the value it opens; early are the keys
	// typed meanwhile (earlyLost: more than maxEarlyKeys were).
	loading   bool
	early     []tea.KeyMsg
	earlyLost bool
	// areaView is the text area as last drawn: it is drawn again only
	// when it changed, not on every frame (see drawArea).
	areaView string
}

func newEditor(op editOp, width, height int) editor {
	ki := textinput.New()
	ki.Prompt = txtKeyPrompt
	ki.Placeholder = txtKeyPlaceholder
	ki.CharLimit = backends.MaxKeySize
	ki.Cursor.SetMode(cursor.CursorStatic)
	ta := textarea.New()
	ta.CharLimit = 0
	ta.MaxHeight = 0
	ta.Placeholder = txtValuePlaceholder
	ta.Cursor.SetMode(cursor.CursorStatic)
	ed := editor{op: op, keyInput: ki, area: ta}
	ed.resize(width, height)
	return ed
}

// drawArea draws the text area after a change to it.
func (ed *editor) drawArea() { ed.areaView = ed.area.View() }

// typedText returns the text a key types into the area: runes (typed or
// pasted), a space, a line break. ok is false for every other key,
// including alt+letter, which the area takes as commands.
func typedText(msg tea.KeyMsg) (runes []rune, ok bool) {
	if msg.Alt {
		return nil, false
	}
	switch msg.Type {
	case tea.KeyRunes:
		return msg.Runes, true
	case tea.KeySpace:
		return []rune{' '}, true
	case tea.KeyEnter:
		return []rune{'\n'}, true
	}
	return nil, false
}

// typeText takes text typed into the area: at once when typed on its own,
// else gathered for burstTick to insert.
func (b *browser) typeText(runes []rune, now time.Time) tea.Cmd {
	ed := &b.ed
	asked := ed.ask != ""
	ed.ask = "" // withdrawn by any other key
	burst := len(ed.pending) > 0 || !ed.lastTyped.IsZero() && now.Sub(ed.lastTyped) < typingGap
	ed.pending = append(ed.pending, inertRunes(runes)...)
	if !burst {
		ed.flushTyped(b.cfg.clock)
		return nil
	}
	ed.lastTyped = now
	b.unchanged = !asked
	ed.keyed = true
	if ed.bursting {
		return nil
	}
	ed.bursting, ed.ticks = true, 0
	ed.burstGen++
	return ed.nextTick()
}

// nextTick arms the burst's next tick.
func (ed *editor) nextTick() tea.Cmd {
	gen := ed.burstGen
	return tea.Tick(typingGap, func(time.Time) tea.Msg { return flushTypedMsg{gen} })
}

// burstTick inserts the gathered text when the burst ended or is due for
// an insertion, and watches on otherwise (see typingGap).
func (ed *editor) burstTick(msg flushTypedMsg, clock func() time.Time) tea.Cmd {
	if !ed.bursting || msg.gen != ed.burstGen {
		return nil // inserted meanwhile, by another key
	}
	ed.ticks++
	if !ed.keyed || ed.ticks >= 1+ed.size/flushStep {
		ed.flushTyped(clock)
		return nil
	}
	ed.keyed = false
	return ed.nextTick()
}

// flushTyped inserts the pending text at the cursor, as one paste, and
// ends the burst. The time after it is the start of the next gap: keys
// that waited for a slow insertion are still part of a burst.
func (ed *editor) flushTyped(clock func() time.Time) {
	ed.bursting = false
	if len(ed.pending) == 0 {
		return
	}
	lines := ed.area.LineCount()
	for _, r := range ed.pending {
		if r == '\n' {
			lines++
		}
	}
	if lines > maxEditLines {
		ed.warn = fmt.Sprintf(txtPasteTooManyLines, maxEditLines)
	}
	ed.area, _ = ed.area.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: ed.pending, Paste: true})
	// The text area scrolls to its cursor within the content it last drew:
	// after many new lines at once, draw it, then let it scroll.
	ed.area.View()
	ed.area, _ = ed.area.Update(nil)
	ed.size += len(ed.pending)
	ed.pending = nil
	ed.drawArea()
	ed.lastTyped = clock()
}

// resize fits the form into the body of the screen.
func (ed *editor) resize(width, height int) {
	ed.width, ed.height = width, height
	ed.keyInput.Width = max(width-ansi.StringWidth(txtKeyPrompt)-2, 10)
	ed.area.SetWidth(max(width, 10))
	// title, key line, value label, error and warning lines.
	ed.area.SetHeight(max(height-5, 1))
	ed.drawArea()
}

// changed records a concurrent change to the key being edited.
func (ed *editor) changed(t backends.EventType, rev int64) {
	if t == backends.Deleted {
		ed.warn = fmt.Sprintf(txtEditDeleted, rev)
		return
	}
	ed.warn = fmt.Sprintf(txtEditChanged, rev)
}

// editing reports an open editor.
func (b *browser) editing() bool {
	return b.mode == modeNewKey || b.mode == modeNewValue || b.mode == modeEdit
}

func (b *browser) readOnlyRefusal(now time.Time) tea.Cmd {
	b.setStatus(statusErr, txtReadOnlyRefused, now, 4*time.Second)
	return nil
}

// startCreate opens the form for a new key, prefilled with the level when
// the field can show it as it is: the user types the name, or a full key
// starting with "/", which replaces the level (see keyText). The text
// field draws its text raw and silently drops control characters and
// invalid bytes, so a level that Escape would change is left out (the form
// would show, and create, another key than the one the level names); the
// form says why.
func (b *browser) startCreate(now time.Time) tea.Cmd {
	if b.cfg.readOnly {
		return b.readOnlyRefusal(now)
	}
	b.ed = newEditor(opCreate, b.width, b.rows)
	switch {
	case b.level == "":
	case Escape(b.level) == b.level:
		b.ed.prefill = b.level
		b.ed.keyInput.SetValue(b.level)
		b.ed.keyInput.CursorEnd()
	default:
		b.ed.warn = txtNoPrefill
	}
	b.ed.keyInput.Focus()
	b.mode = modeNewKey
	return nil
}

// startEdit opens the selected key's value for editing: as the value
// pane shows it, or, while the pane is still reading it, as the editor
// reads it itself. Keys typed meanwhile wait for the value (see
// editorKey): typed right after e, they are meant for the editor, and as
// browser commands they would do something else entirely.
func (b *browser) startEdit(now time.Time) tea.Cmd {
	if b.cfg.readOnly {
		return b.readOnlyRefusal(now)
	}
	e, ok := b.selected()
	switch {
	case !ok || e.dir:
		b.setStatus(statusErr, txtEditNeedsKey, now, 4*time.Second)
		return nil
	case b.val.key == e.name && b.val.deleted:
		b.setStatus(statusErr, txtEditGone, now, 4*time.Second)
		return nil
	case b.val.key == e.name && b.val.loaded:
		b.openEdit(b.val.kv, now)
		return nil
	}
	b.ed = newEditor(opUpdate, b.width, b.rows)
	b.ed.key, b.ed.loading = e.name, true
	b.mode = modeEdit
	ctx, store, timeout, name := b.ctx, b.store, b.cfg.callTimeout, e.name
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		kv, err := store.Get(ctx, name)
		return editReadMsg{key: name, kv: kv, err: err}
	}
}

// editReadMsg is the editor's own read of the value it opens.
type editReadMsg struct {
	key string
	kv  backends.KeyValue
	err error
}

// maxEarlyKeys bounds the keys kept while the editor reads its value.
const maxEarlyKeys = 4096

// editRead fills the editor that waited for its value, then gives it the
// keys typed meanwhile.
func (b *browser) editRead(msg editReadMsg, now time.Time) tea.Cmd {
	ed := &b.ed
	if b.mode != modeEdit || !ed.loading || ed.key != msg.key {
		return nil // cancelled meanwhile
	}
	early, lost := ed.early, ed.earlyLost
	switch {
	case errors.Is(msg.err, backends.ErrNotFound):
		b.mode = modeBrowse
		b.setStatus(statusErr, txtEditGone, now, 4*time.Second)
		return nil
	case msg.err != nil:
		b.mode = modeBrowse
		b.setStatus(statusErr, txtReadFailed+": "+Escape(oneLine(msg.err.Error())), now, 6*time.Second)
		return nil
	}
	if !b.openEdit(msg.kv, now) {
		return nil
	}
	if lost {
		b.ed.warn = txtEarlyKeysLost
	}
	var cmds []tea.Cmd
	for _, k := range early {
		cmds = append(cmds, b.editorKey(k, now))
	}
	return tea.Batch(cmds...)
}

// openEdit opens the editor on kv, unless the value is one the editor
// cannot take back unchanged (then the status line says why).
func (b *browser) openEdit(kv backends.KeyValue, now time.Time) bool {
	v := kv.Value
	refuse := ""
	switch {
	case len(v) > maxEditSize:
		refuse = fmt.Sprintf(txtEditTooLarge, units.Bytes(maxEditSize))
	case !editable(v):
		refuse = txtEditUnsafe
	case bytes.Count(v, []byte("\n")) >= maxEditLines:
		// The text area would drop the lines after its limit, and a save
		// would write the value without them.
		refuse = fmt.Sprintf(txtEditTooManyLines, maxEditLines)
	}
	if refuse != "" {
		b.mode = modeBrowse
		b.setStatus(statusErr, refuse, now, 5*time.Second)
		return false
	}
	b.ed = newEditor(opUpdate, b.width, b.rows)
	b.ed.key, b.ed.rev, b.ed.orig, b.ed.size = kv.Key, kv.ModRevision, string(v), len(v)
	b.ed.area.SetValue(string(v))
	b.ed.area.Focus()
	b.ed.drawArea()
	b.mode = modeEdit
	return true
}

// editable reports values the text area can show and give back as they
// are: valid UTF-8 without control characters other than newline (the text
// area drops them, and turns tabs into spaces, which would change the value
// on save) or invisible characters (bidi controls, format characters, line
// separators), which it would send to the terminal raw.
func editable(v []byte) bool {
	if !utf8.Valid(v) {
		return false
	}
	for _, r := range string(v) {
		switch {
		case r == '\n':
		case r < 0x20 || r == 0x7f || r >= 0x80 && r < 0xa0:
			return false
		case isInvisible(r):
			return false
		}
	}
	return true
}

// inertRunes drops invisible characters (bidi controls, format
// characters, line separators) from typed or pasted text: the text fields would draw them raw. (They drop control
// characters themselves.)
func inertRunes(rs []rune) []rune {
	out := rs[:0]
	for _, r := range rs {
		if !isInvisible(r) {
			out = append(out, r)
		}
	}
	return out
}

// startDelete asks for confirmation to delete the selected key.
func (b *browser) startDelete(now time.Time) tea.Cmd {
	if b.cfg.readOnly {
		return b.readOnlyRefusal(now)
	}
	e, ok := b.selected()
	if !ok || e.dir {
		b.setStatus(statusErr, txtDeleteNeedsKey, now, 4*time.Second)
		return nil
	}
	d := *e
	b.pendingDel = &d
	b.mode = modeConfirmDelete
	b.setStatus(statusPrompt, fmt.Sprintf(txtConfirmDelete, Escape(d.name), d.modRev), now, 0)
	return nil
}

func (b *browser) confirmKey(msg tea.KeyMsg, now time.Time) tea.Cmd {
	b.mode = modeBrowse
	d := b.pendingDel
	b.pendingDel = nil
	if d == nil || !key.Matches(msg, b.keys.Confirm) {
		b.setStatus(statusInfo, txtDeleteCancelled, now, 3*time.Second)
		return nil
	}
	if b.health.down {
		b.setStatus(statusErr, txtErrDeleteBackendDown, now, 6*time.Second)
		return nil
	}
	b.setStatus(statusInfo, txtDeleting, now, 0)
	return b.writeCmd(opDelete, d.name, nil, backends.KeyValue{ModRevision: d.modRev})
}

// editorKey handles keys in the form: enter moves from the key to the
// value, ctrl+s saves, esc cancels. While a save is in flight the form
// takes no keys: the write cannot be called back, and its result closes
// the form (or shows why it failed, next to the text that was sent).
func (b *browser) editorKey(msg tea.KeyMsg, now time.Time) tea.Cmd {
	ed := &b.ed
	if ed.saving {
		b.setStatus(statusInfo, txtStillSaving, now, 2*time.Second)
		return nil
	}
	if ed.loading {
		switch {
		case key.Matches(msg, b.keys.Cancel):
			b.mode = modeBrowse
			b.setStatus(statusInfo, txtEditCancelled, now, 3*time.Second)
		case len(ed.early) < maxEarlyKeys:
			ed.early = append(ed.early, msg)
		default:
			ed.earlyLost = true
		}
		return nil
	}
	if b.mode != modeNewKey {
		if runes, ok := typedText(msg); ok {
			return b.typeText(runes, now)
		}
		// Any other key acts on everything typed before it.
		ed.flushTyped(b.cfg.clock)
	}
	switch {
	case key.Matches(msg, b.keys.Cancel):
		b.mode = modeBrowse
		b.setStatus(statusInfo, txtEditCancelled, now, 3*time.Second)
		return nil
	case b.mode == modeNewKey && msg.Type == tea.KeyEnter:
		k := ed.keyInput.Value()
		if err := backends.CheckKey(k); err != nil {
			ed.err = txtInvalidKey + ": " + err.Error()
			return nil
		}
		if strings.Contains(k, "//") && !ed.confirmed(k) {
			// Most likely a level typed twice: say so before a key that
			// is hard to see as wrong is written.
			ed.ask, ed.asked = txtDoubleSlash, k
			return nil
		}
		ed.key, ed.err, ed.ask = k, "", ""
		ed.keyInput.Blur()
		ed.area.Focus()
		ed.drawArea()
		b.mode = modeNewValue
		return nil
	case key.Matches(msg, b.keys.Save) && b.mode != modeNewKey:
		value := ed.area.Value()
		if b.mode == modeEdit && value == ed.orig {
			b.mode = modeBrowse
			b.setStatus(statusInfo, txtUnchanged, now, 3*time.Second)
			return nil
		}
		if b.mode == modeEdit && !ed.confirmed(value) {
			if q := noLongerJSON(ed.orig, value); q != "" {
				ed.ask, ed.asked = q, value
				return nil
			}
		}
		if b.health.down {
			// The write could only hang until its timeout: say so now,
			// and keep the text for when the backend is back.
			ed.err, ed.ask = txtErrWriteBackendDown, ""
			return nil
		}
		ed.saving, ed.err, ed.ask = true, "", ""
		if b.mode == modeEdit {
			return b.writeCmd(opUpdate, ed.key, []byte(value), backends.KeyValue{ModRevision: ed.rev, Value: []byte(ed.orig)})
		}
		return b.writeCmd(opCreate, ed.key, []byte(value), backends.KeyValue{})
	}
	if msg.Type == tea.KeyRunes {
		msg.Runes = inertRunes(msg.Runes)
	}
	var cmd tea.Cmd
	ed.ask = "" // withdrawn by any other key
	if b.mode == modeNewKey {
		ed.keyText(msg)
		ed.keyInput, cmd = ed.keyInput.Update(msg)
		ed.err = ""
	} else {
		ed.area, cmd = ed.area.Update(msg)
		ed.drawArea()
	}
	return cmd
}

// confirmed reports the second enter or ctrl+s after a question about
// text.
func (ed *editor) confirmed(text string) bool { return ed.ask != "" && ed.asked == text }

// noLongerJSON returns the question to ask before value replaces orig:
// orig was a JSON object or array and value does not parse, where (line and
// column of the first error). "" when there is nothing to ask.
func noLongerJSON(orig, value string) string {
	if !isJSONContainer([]byte(orig)) || json.Valid([]byte(value)) {
		return ""
	}
	var v any
	err := json.Unmarshal([]byte(value), &v)
	var se *json.SyntaxError
	if errors.As(err, &se) {
		line, col := lineCol(value, int(se.Offset))
		return fmt.Sprintf(txtNotJSONAt, line, col)
	}
	return txtNotJSON
}

// lineCol returns the 1-based line and column (in characters) of byte
// offset off in s; an offset past the end is at the end.
func lineCol(s string, off int) (line, col int) {
	off = min(max(off, 0), len(s))
	before := s[:off]
	line = strings.Count(before, "\n") + 1
	col = utf8.RuneCountInString(before[strings.LastIndexByte(before, '\n')+1:]) + 1
	return line, col
}

// keyText prepares the key field for a key press: the first edit of a
// field still holding the level it was filled with, when it is text that
// starts with "/", replaces the level — it is a full key. (Other first
// edits extend the level, or edit it as text.)
func (ed *editor) keyText(msg tea.KeyMsg) {
	if ed.keyTouched {
		return
	}
	switch msg.Type {
	case tea.KeyRunes, tea.KeySpace:
	case tea.KeyEnter, tea.KeyEsc:
		return // not an edit
	default:
		ed.keyTouched = true
		return
	}
	ed.keyTouched = true
	if ed.prefill != "" && len(msg.Runes) > 0 && msg.Runes[0] == '/' &&
		ed.keyInput.Value() == ed.prefill && ed.keyInput.Position() == len([]rune(ed.prefill)) {
		ed.keyInput.SetValue("")
	}
}

// writeCmd runs a write: Create, Update at the revision the user saw
// (prev, whose Value is what the user saw), or Delete at that revision. A
// concurrent change fails with ErrConflict instead of being overwritten.
// The write is bounded by the write timeout; a write that fails once its
// deadline has passed fails with context.DeadlineExceeded in its chain
// (whatever the store said), and its outcome is unknown.
func (b *browser) writeCmd(op editOp, k string, value []byte, prev backends.KeyValue) tea.Cmd {
	ctx, store, timeout := b.ctx, b.store, b.cfg.writeTimeout
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		msg := savedMsg{op: op, key: k, value: value, prev: prev}
		switch op {
		case opCreate:
			msg.rev, msg.err = store.Create(ctx, k, value)
		case opUpdate:
			msg.rev, msg.err = store.Update(ctx, k, value, prev.ModRevision)
		case opDelete:
			msg.rev, msg.err = store.Delete(ctx, k, prev.ModRevision)
		}
		if msg.err != nil && !errors.Is(msg.err, context.DeadlineExceeded) && errors.Is(ctx.Err(), context.DeadlineExceeded) {
			msg.err = fmt.Errorf("%w (%w)", msg.err, ctx.Err())
		}
		return msg
	}
}

// saved reports a write's outcome. On success the change is applied to the
// view at once (the watch's report of it is then skipped); on failure the
// form stays open with the user's text and the reason.
func (b *browser) saved(msg savedMsg, now time.Time) tea.Cmd {
	if msg.op != opDelete {
		// The form's save (a delete is confirmed outside the form).
		b.ed.saving = false
	}
	name := Escape(msg.key)
	if msg.err != nil {
		text := writeError(msg.op, msg.err, b.cfg.writeTimeout)
		switch {
		case msg.restored == 0:
		case errors.Is(msg.err, backends.ErrConflict) || errors.Is(msg.err, backends.ErrKeyExists):
			text = txtHistRestoreConflict
		case errors.Is(msg.err, context.DeadlineExceeded):
			text = fmt.Sprintf(txtHistRestoreTimeout, formatDuration(b.cfg.writeTimeout))
		}
		if msg.op == opDelete {
			b.setStatus(statusErr, text, now, 8*time.Second)
			return nil
		}
		if b.editing() {
			b.ed.err = text // shown in the form, next to the text it is about
			return nil
		}
		b.setStatus(statusErr, text, now, 8*time.Second)
		return nil
	}
	// The change feed has our own writes at once: the watch of the level
	// the view moves to may never report them.
	ev := backends.Event{KV: backends.KeyValue{Key: msg.key, Value: msg.value, ModRevision: msg.rev}}
	switch msg.op {
	case opCreate:
		ev.Type = backends.Created
	case opUpdate:
		ev.Type, ev.PrevKV = backends.Updated, &msg.prev
	case opDelete:
		ev.Type = backends.Deleted
	}
	b.addChange(ev, now)
	cmds := []tea.Cmd{b.diffFeed()}
	switch msg.op {
	case opCreate:
		if b.mode == modeNewValue {
			b.mode = modeBrowse
		}
		b.setStatus(statusOK, fmt.Sprintf(txtCreatedOK, name, msg.rev), now, 5*time.Second)
		// Show the new key where it lives.
		target := levelOf(msg.key)
		if b.flat && strings.HasPrefix(msg.key, b.level) {
			target = b.level
		}
		if (target != b.level || b.filter != "") && msg.restored == 0 {
			return tea.Batch(append(cmds, b.setLevel(target, msg.key))...)
		}
		kv := backends.KeyValue{Key: msg.key, Value: msg.value, CreateRevision: msg.rev, ModRevision: msg.rev, Version: 1}
		cmds = append(cmds, b.applyEvents([]backends.Event{{Type: backends.Created, KV: kv}}, now, false)...)
		if i, ok := b.list.find(msg.key); ok {
			b.cursor = b.list.start + i
			b.scroll()
		}
	case opUpdate:
		if b.mode == modeEdit {
			b.mode = modeBrowse
		}
		b.setStatus(statusOK, fmt.Sprintf(txtSavedOK, name, msg.rev), now, 5*time.Second)
		kv := backends.KeyValue{Key: msg.key, Value: msg.value, ModRevision: msg.rev}
		if b.val.key == msg.key && b.val.loaded {
			kv.CreateRevision, kv.Version = b.val.kv.CreateRevision, b.val.kv.Version+1
		}
		cmds = append(cmds, b.applyEvents([]backends.Event{{Type: backends.Updated, KV: kv}}, now, false)...)
	case opDelete:
		b.setStatus(statusOK, fmt.Sprintf(txtDeletedOK, name, msg.rev), now, 5*time.Second)
		cmds = append(cmds, b.applyEvents([]backends.Event{{Type: backends.Deleted, KV: backends.KeyValue{Key: msg.key, ModRevision: msg.rev}}}, now, false)...)
	}
	if msg.restored > 0 {
		b.setStatus(statusOK, fmt.Sprintf(txtHistRestored, msg.restored, msg.rev), now, 6*time.Second)
	}
	cmds = append(cmds, b.ensureLoaded(), b.syncValue())
	return tea.Batch(cmds...)
}

// writeError explains a failed write in one line. A write that ran out
// of timeout (context.DeadlineExceeded) may have been applied all the
// same: the text says the outcome is unknown, unless the store's answer
// was definite (a conflict, say).
func writeError(op editOp, err error, timeout time.Duration) string {
	switch {
	case errors.Is(err, backends.ErrKeyExists):
		return txtErrKeyExists
	case errors.Is(err, backends.ErrConflict) && op == opDelete:
		return txtErrDeleteConflict
	case errors.Is(err, backends.ErrConflict):
		return txtErrConflict
	case errors.Is(err, backends.ErrNotFound):
		return txtErrNotFound
	case errors.Is(err, backends.ErrValueTooLarge):
		return txtErrTooLarge + ": " + Escape(err.Error())
	case errors.Is(err, backends.ErrInvalidKey):
		return txtInvalidKey + ": " + Escape(err.Error())
	case errors.Is(err, backends.ErrClosed):
		return txtErrClosed
	case errors.Is(err, context.DeadlineExceeded) && op == opDelete:
		return fmt.Sprintf(txtErrDeleteTimeout, formatDuration(timeout))
	case errors.Is(err, context.DeadlineExceeded):
		return fmt.Sprintf(txtErrWriteTimeout, formatDuration(timeout))
	}
	return txtErrWrite + ": " + Escape(err.Error())
}
