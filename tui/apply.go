package tui

import (
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/k3/k3-storage/backends"
)

// Applying changes to the view: the watch's events and the answers of our
// own writes go through the same path.

// applyEvents folds changes into the view: the counts, the value pane, the
// editor's warning and the listing. Events the view already reflects (read
// at or after their revision) are skipped, so a change applied from a
// write's own answer is not applied twice when the watch reports it.
// Counts change only with the watch's events (fromWatch).
func (b *browser) applyEvents(evs []backends.Event, now time.Time, fromWatch bool) []tea.Cmd {
	var cmds []tea.Cmd
	for _, ev := range evs {
		key, rev := ev.KV.Key, ev.KV.ModRevision
		if fromWatch {
			if rev <= b.watch.lastRev {
				continue
			}
			b.watch.lastRev = rev
			if rev >= b.watch.feedFrom {
				b.addChange(ev, now)
			}
		}
		if fromWatch {
			// Counts follow the watch only, our own writes included: a
			// write applied at once would move a count's revision past
			// other writers' changes the watch has yet to report.
			b.applyCounts(ev)
		}
		if key == b.val.key {
			// Replayed events (from before the level was read) are not
			// news: the read in flight already reflects them.
			news := !fromWatch || rev >= b.watch.feedFrom
			newer := b.val.loaded && rev > b.val.kv.ModRevision || !b.val.loaded && news
			switch {
			case !newer:
			case ev.Type == backends.Deleted:
				b.val.deleted, b.val.delRev = true, rev
			default:
				if b.val.loaded {
					b.val.flash = now.Add(flashFor)
					b.animate(b.val.flash)
				}
				cmds = append(cmds, b.renderCmd(ev.KV))
			}
		}
		if b.editing() && key == b.ed.key && rev > b.ed.rev {
			b.ed.changed(ev.Type, rev)
		}
		cmds = append(cmds, b.historyKeyChanged(key, rev))
		b.applyToListing(ev, now, fromWatch)
	}
	return cmds
}

// applyToListing inserts, updates or removes the child an event touches.
func (b *browser) applyToListing(ev backends.Event, now time.Time, fromWatch bool) {
	l := &b.list
	key, rev := ev.KV.Key, ev.KV.ModRevision
	if !l.loaded || !l.q.covers(key) {
		return
	}
	name, dir := l.q.child(key)
	if !l.q.match(name) {
		return
	}
	i, found := l.find(name)
	switch {
	case found:
		e := &l.items[i]
		if rev <= e.seen {
			return
		}
		switch {
		case dir && ev.Type == backends.Deleted:
			if c, ok := b.counts[name]; ok && c.known && c.exact && c.n <= 0 {
				b.removeChild(name)
				return
			}
			if c, ok := b.counts[name]; !ok || !c.exact {
				c.stale = true
				b.counts[name] = c
			}
			e.flash, e.flashUntil = flashUpdated, now.Add(flashFor)
		case dir:
			e.flash, e.flashUntil = flashUpdated, now.Add(flashFor)
		case ev.Type == backends.Deleted:
			b.removeChild(name)
			return
		default:
			kv := ev.KV
			e.createRev, e.modRev, e.version, e.size = kv.CreateRevision, kv.ModRevision, kv.Version, len(kv.Value)
			e.seen = rev
			e.flash = flashUpdated
			if ev.Type == backends.Created {
				e.flash = flashCreated
			}
			e.flashUntil = now.Add(flashFor)
		}
		b.animate(e.flashUntil)
	case ev.Type == backends.Created:
		b.insertChild(ev, name, dir, i, now, fromWatch)
	case ev.Type == backends.Deleted && !dir && !l.head.before(name):
		// A leaf above the window went away: indices below it move up.
		l.shift(name, -1)
		b.cursor = max(b.cursor-1, 0)
		b.offset = max(b.offset-1, 0)
	}
}

// insertChild adds a child the window does not hold: inside the window
// when the window's range covers it and was read before the event, above
// the window only as a shift of indices (a new leaf is certainly new; a
// directory above the window may already have existed, so its shift is
// skipped and the indices above the window stay approximate). A new
// directory's count is one key when the watch reports it; after our own
// write it is counted (other writers may have added keys the watch has yet
// to report).
func (b *browser) insertChild(ev backends.Event, name string, dir bool, i int, now time.Time, fromWatch bool) {
	l := &b.list
	rev := ev.KV.ModRevision
	if l.holdsRange(name) {
		gapRev := l.tailRev
		if i < len(l.items) {
			gapRev = l.items[i].seen
		}
		if rev <= gapRev {
			return
		}
		e := entry{name: name, dir: dir, seen: rev, flash: flashCreated, flashUntil: now.Add(flashFor)}
		if dir && fromWatch {
			b.counts[name] = countInfo{n: 1, rev: rev, exact: true, known: true, seen: rev}
		} else if !dir {
			kv := ev.KV
			e.createRev, e.modRev, e.version, e.size = kv.CreateRevision, kv.ModRevision, kv.Version, len(kv.Value)
		}
		l.items = append(l.items, entry{})
		copy(l.items[i+1:], l.items[i:])
		l.items[i] = e
		l.shift(name, 1)
		if l.start+i <= b.cursor && len(l.items) > 1 {
			b.cursor++
			b.scroll()
		}
		b.animate(e.flashUntil)
		return
	}
	if !dir && !l.head.before(name) {
		l.shift(name, 1)
		b.cursor++
		b.offset++
	}
}

// removeChild drops a child from the window, keeping the cursor on the
// same row index (now the next child).
func (b *browser) removeChild(name string) {
	l := &b.list
	i, found := l.find(name)
	if !found {
		return
	}
	l.items = append(l.items[:i], l.items[i+1:]...)
	l.shift(name, -1)
	if l.start+i < b.cursor {
		b.cursor--
	}
	if b.cursor >= l.end() && l.end() > 0 && !l.more {
		b.cursor = l.end() - 1
	}
	b.cursor = max(b.cursor, 0)
	b.scroll()
}
