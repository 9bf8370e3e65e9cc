package tui

import (
	"sort"
	"strings"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/k3/k3-storage/backends"
)

// The change feed (最近变更): the latest changes the console saw, the
// watch's and its own writes', newest first, each update with what it
// changed. It outlives level changes: a write that moves the view to
// another folder stays in it.

// feedLen is how many recent changes the change feed keeps.
const feedLen = 3

// change is one entry of the change feed.
type change struct {
	typ backends.EventType
	key string
	rev int64
	at  time.Time
	// diff says what an update changed (escaped), once diffCmd computed
	// it; prev and cur are the values to compare until then.
	diff      string
	prev, cur []byte
	diffing   bool
}

// diffMsg is diffCmd's answer for the change at rev.
type diffMsg struct {
	rev  int64
	diff string
}

// addChange records a change in the feed, once per revision (our own
// write is recorded at once and its report by the watch skipped), keeping
// the newest feedLen in revision order.
func (b *browser) addChange(ev backends.Event, now time.Time) {
	rev := ev.KV.ModRevision
	for _, c := range b.feed {
		if c.rev == rev {
			return
		}
	}
	c := change{typ: ev.Type, key: ev.KV.Key, rev: rev, at: now}
	if ev.Type == backends.Updated && ev.PrevKV != nil {
		c.prev, c.cur = ev.PrevKV.Value, ev.KV.Value
	}
	b.feed = append(b.feed, c)
	sort.SliceStable(b.feed, func(i, j int) bool { return b.feed[i].rev < b.feed[j].rev })
	if len(b.feed) > feedLen {
		b.feed = b.feed[len(b.feed)-feedLen:]
	}
}

// diffFeed starts computing what the updates in the feed changed, off the
// UI loop; at most feedLen values are compared at a time.
func (b *browser) diffFeed() tea.Cmd {
	var cmds []tea.Cmd
	for i := range b.feed {
		c := &b.feed[i]
		if c.typ != backends.Updated || c.diffing || c.diff != "" || c.prev == nil && c.cur == nil {
			continue
		}
		c.diffing = true
		rev, prev, cur := c.rev, c.prev, c.cur
		cmds = append(cmds, func() tea.Msg { return diffMsg{rev: rev, diff: describeChange(prev, cur)} })
	}
	return tea.Batch(cmds...)
}

// diffed records a computed diff, and lets go of the values it compared.
func (b *browser) diffed(msg diffMsg) {
	for i := range b.feed {
		if c := &b.feed[i]; c.rev == msg.rev {
			c.diff, c.prev, c.cur, c.diffing = msg.diff, nil, nil, false
		}
	}
}

// feedLine shows the feed, newest first: a mark (+ created, ~ updated,
// - deleted), the key (relative to the level when it is inside it) and
// what an update changed, as many entries as the width allows.
func (b *browser) feedLine() string {
	s := b.st
	if len(b.feed) == 0 {
		return s.dim.Render(txtFeed + " " + txtFeedEmpty)
	}
	line := s.dim.Render(txtFeed+" "+b.feed[len(b.feed)-1].at.Format("15:04:05")) + " "
	sep := s.dim.Render(" · ")
	for i := len(b.feed) - 1; i >= 0; i-- {
		c := b.feed[i]
		name := c.key
		if len(name) > len(b.level) && strings.HasPrefix(name, b.level) {
			name = name[len(b.level):]
		}
		e := feedMark(s, c.typ) + " " + clipMiddle(Escape(name), max(b.width/4, 12))
		room := b.width - ansiWidth(line) - ansiWidth(e) - 2
		if i < len(b.feed)-1 {
			room -= ansiWidth(sep)
		}
		if c.diff != "" && room >= 8 {
			e += "  " + s.dim.Render(clip(c.diff, min(room, max(b.width/2, 24))))
		}
		switch {
		case i == len(b.feed)-1:
			line += e
		case ansiWidth(line)+ansiWidth(sep)+ansiWidth(e) <= b.width:
			line += sep + e
		default:
			return line
		}
	}
	return clip(line, b.width)
}

// feedMark is a change type's mark in the feed.
func feedMark(s *styles, t backends.EventType) string {
	switch t {
	case backends.Created:
		return s.ok.Render("+")
	case backends.Deleted:
		return s.fail.Render("-")
	}
	return s.warn.Render("~")
}
