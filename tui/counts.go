package tui

import (
	"context"
	"strings"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/k3/k3-storage/backends"
)

// The count cache: how many keys each directory on screen (and the level)
// holds. Counting a directory of a million keys is real work for a store,
// so counts run in the background, a few at a time, are cached per
// directory and, once known exact at a revision, are kept exact by the
// level's watch instead of being taken again.

// countsInFlight bounds concurrent counts.
const countsInFlight = 3

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

// countedMsg is the answer of countCmd.
type countedMsg struct {
	name  string
	n     int64
	rev   int64 // the revision the count is exact at (when exact)
	exact bool
	err   error
}

// countAt counts the keys under prefix and reports the revision the count
// is exact at. It is the one place that knows how a count and its revision
// are read; everything else takes (n, rev, exact) as it comes.
//
// A store with backends.RevisionCounter answers both in one round trip.
// Otherwise it is a Count between two reads of the store's revision
// (Revisioner), tried up to three times while writes land in between: the
// count is exact at rev when both reads agree. Without a Revisioner the
// count is not exact (exact false, rev 0). A failing Revision degrades to
// the same; only a failing Count is an error.
func countAt(ctx context.Context, s backends.Store, revs backends.Revisioner, prefix string) (n, rev int64, exact bool, err error) {
	if rc, ok := s.(backends.RevisionCounter); ok {
		if n, rev, err = rc.CountRev(ctx, prefix); err != nil {
			return 0, 0, false, err
		}
		return n, rev, true, nil
	}
	for try := 0; try < 3; try++ {
		var r1, r2 int64
		if revs != nil {
			if r1, _, err = revs.Revision(ctx); err != nil {
				revs = nil
			}
		}
		if n, err = s.Count(ctx, prefix); err != nil {
			return 0, 0, false, err
		}
		if revs == nil {
			return n, 0, false, nil
		}
		if r2, _, err = revs.Revision(ctx); err != nil {
			return n, 0, false, nil
		}
		rev = r2
		if r1 == r2 {
			return n, rev, true, nil
		}
	}
	return n, rev, false, nil
}

func (b *browser) countCmd(name string) tea.Cmd {
	ctx, store, revs, timeout := b.ctx, b.store, b.revs, b.cfg.callTimeout
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		n, rev, exact, err := countAt(ctx, store, revs, name)
		return countedMsg{name: name, n: n, rev: rev, exact: exact, err: err}
	}
}

// ensureCounts counts the directories on screen (and the level) whose
// count is unknown or stale, a few at a time. A zero now skips the limit
// of one recount a second (a key press asks for what it shows).
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

// carryCounts keeps the counts that stay useful when the browser moves
// from level old to level (one above or below it): those of directories
// under the new level. resume is the revision the new level's watch will
// start from (0: from its first read). A count stays exact only if both
// watches cover it and the new watch resumes where the old one stopped, at
// lastRev; the others are shown as approximate (≈) until counted again.
func (b *browser) carryCounts(old, level string, resume, lastRev int64) {
	for name, c := range b.counts {
		switch {
		case !strings.HasPrefix(name, level):
			delete(b.counts, name)
		case resume == 0 || !strings.HasPrefix(name, old):
			c.exact, c.stale = false, true
			b.counts[name] = c
		default:
			// The old watch reported every change up to its last
			// revision, and the new one resumes after it.
			c.rev = max(c.rev, lastRev)
			b.counts[name] = c
		}
	}
	b.countsBusy = 0
	for _, c := range b.counts {
		if c.busy {
			b.countsBusy++
		}
	}
}

// staleCounts marks every count to be taken again: the watch restarts from
// a new read, and the changes in between are not seen.
func (b *browser) staleCounts() {
	for name, c := range b.counts {
		c.stale = true
		b.counts[name] = c
	}
}

// distrustCountsBefore marks counts taken before revision from-1 as
// approximate: the watch that starts at from never reports the changes
// they miss (the console's tick may count before the level's first read
// returns).
func (b *browser) distrustCountsBefore(from int64) {
	for name, c := range b.counts {
		if c.known && c.exact && c.rev < from-1 {
			c.exact, c.stale, c.at = false, true, time.Time{}
			b.counts[name] = c
		}
	}
}

// applyCounts adjusts the count of every counted directory holding the
// key an event created or deleted. Only the watch's events count (see
// applyEvents).
func (b *browser) applyCounts(ev backends.Event) {
	var delta int64
	switch ev.Type {
	case backends.Created:
		delta = 1
	case backends.Deleted:
		delta = -1
	default:
		return
	}
	key, rev := ev.KV.Key, ev.KV.ModRevision
	adjust := func(name string) {
		c, ok := b.counts[name]
		if !ok {
			return
		}
		c.seen = max(c.seen, rev)
		switch {
		case !c.known:
		case c.exact && rev > c.rev:
			c.n += delta
			c.rev = rev
		case !c.exact:
			c.stale = true
		}
		b.counts[name] = c
	}
	adjust("")
	for i := 0; i < len(key); i++ {
		if key[i] == '/' {
			adjust(key[:i+1])
		}
	}
}

// countText is a directory's count as shown: exact, or marked ≈.
func countText(c countInfo) string {
	if !c.exact || c.stale {
		return "≈" + formatCount(c.n)
	}
	return formatCount(c.n)
}
