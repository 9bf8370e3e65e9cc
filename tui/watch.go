package tui

import (
	"context"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/k3/k3-storage/backends"
)

// The live view: one watch of the browsed level, started from the
// revision of the read that filled the window (list-then-watch), restarted
// after a level change, a refresh or a failure.

const (
	// watchBatch bounds the events one message carries, so that a burst
	// of writes becomes a few updates, not thousands.
	watchBatch = 256
	// Watch retry backoff.
	retryFirst = 500 * time.Millisecond
	retryMax   = 10 * time.Second
	// healthyAfter is how long a watch must last for a later failure to
	// start the backoff afresh.
	healthyAfter = 30 * time.Second
)

// Messages of the watch. gen identifies the watch: the answers of a watch
// that was reset are dropped.
type (
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
	// level has none (before its first read returns, after a reset). A
	// count is kept exact only from revision from-1 on.
	from int64
	// feedFrom is the first revision the change feed shows: events
	// replayed from before the level was read are not news.
	feedFrom int64
	lastRev  int64
	// need: the level has no watch; the next read that replaces the
	// window starts one from its revision. It stays set until such a read
	// lands: the read that asked for the watch may be superseded by
	// another (flat mode, a filter).
	need bool
	// resume, when not 0, is where the next watch starts if that is
	// earlier than the read's revision: a level change that keeps counts
	// exact continues where the previous watch stopped.
	resume int64
}

// reset ends the level's watch, if any, and leaves the view not live
// until a new one starts: the old watch's answers are dropped from now on,
// no revision is reported (from is 0, so counts are not kept exact), no
// retry is pending, and the next read that replaces the window starts a
// new watch, from that read's revision or from resume when that is earlier
// (0: no resume). It keeps the error and the backoff of a failure, which
// broken sets after a reset and a successful start clears.
func (w *watchState) reset(resume int64) {
	if w.cancel != nil {
		w.cancel()
		w.cancel = nil
	}
	w.gen++
	w.live = false
	w.from = 0
	w.retryAt = time.Time{}
	w.need = true
	w.resume = resume
}

// startFrom returns the revision the level's new watch starts from after
// a read at rev replaced the window, and notes that the watch is started:
// the feed shows what comes after the read.
func (w *watchState) startFrom(rev int64) int64 {
	from := rev + 1
	if w.resume > 0 && w.resume < from {
		from = w.resume
	}
	w.resume = 0
	w.need = false
	w.feedFrom = rev + 1
	w.retryAt = time.Time{} // this is the retry
	return from
}

// startWatch watches the browsed level from fromRev (the revision after
// the listing's read), replacing any previous watch. The watch's context
// is cancelled when the level changes, on refresh and on quit; the store
// then closes the channel and the reading command returns.
func (b *browser) startWatch(fromRev int64) tea.Cmd {
	if b.watch.cancel != nil {
		b.watch.cancel()
	}
	b.watch.gen++
	ctx, cancel := context.WithCancel(b.ctx)
	b.watch.cancel = cancel
	b.watch.lastRev = fromRev - 1
	b.watch.from = fromRev
	gen, store, prefix := b.watch.gen, b.store, b.level
	return func() tea.Msg {
		ch, err := store.Watch(ctx, prefix, fromRev)
		if err != nil {
			cancel()
			return watchEventsMsg{gen: gen, err: err}
		}
		return watchStartedMsg{gen: gen, ch: ch}
	}
}

// waitWatch reads the next events of a watch: it waits for one, then
// takes whatever else is already buffered.
func waitWatch(ch <-chan backends.Event, gen int) tea.Cmd {
	return func() tea.Msg {
		msg := watchEventsMsg{gen: gen, ch: ch}
		ev, ok := <-ch
		for {
			if !ok {
				msg.closed = true
				return msg
			}
			if ev.Err != nil {
				msg.err = ev.Err
				return msg
			}
			msg.events = append(msg.events, ev)
			if len(msg.events) == watchBatch {
				return msg
			}
			select {
			case ev, ok = <-ch:
			default:
				return msg
			}
		}
	}
}

// watchEvents applies a batch of watch events and reads on, or schedules
// a re-list and re-watch when the watch ended.
func (b *browser) watchEvents(msg watchEventsMsg, now time.Time) tea.Cmd {
	if msg.gen != b.watch.gen {
		return nil // a watch we cancelled
	}
	cmds := append(b.applyEvents(msg.events, now, true), b.diffFeed())
	// A removed or inserted row can move the selection to another key.
	cmds = append(cmds, b.syncValue())
	switch {
	case msg.err != nil:
		b.broken(msg.err, now)
	case msg.closed:
		b.broken(backends.ErrClosed, now)
	default:
		cmds = append(cmds, waitWatch(msg.ch, msg.gen))
	}
	return tea.Batch(cmds...)
}

// broken records that the live view failed. The console's tick re-lists
// and re-watches once retryAt has passed, backing off on each failure; a
// re-read of the level the user asks for first (flat mode, a filter)
// restarts the watch too.
func (b *browser) broken(err error, now time.Time) {
	w := &b.watch
	w.reset(0)
	w.err = err.Error()
	if !w.since.IsZero() && now.Sub(w.since) > healthyAfter {
		w.backoff = 0
	}
	w.since = time.Time{}
	switch {
	case w.backoff == 0:
		w.backoff = retryFirst
	default:
		w.backoff = min(2*w.backoff, retryMax)
	}
	w.retryAt = now.Add(w.backoff)
}

// started records a watch that began reporting.
func (w *watchState) started(now time.Time) {
	w.live, w.err, w.retryAt, w.since = true, "", time.Time{}, now
}
