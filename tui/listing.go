package tui

import (
	"context"
	"sort"
	"strings"
	"time"

	"github.com/k3/k3-storage/backends"
)

// A listing is a virtual list: the children of a level can number in the
// millions, so only a window of them is held (what is on screen plus a
// margin), read with range reads that skip over directories. Anchors —
// read positions remembered at every anchorEvery-th child — let the window
// move back without reading from the start, as the store has no reverse
// read. (The browser's cursor is the selected index; a read position is
// where a read of the store continues.)

const (
	// maxWindow bounds the children held in memory for one level.
	maxWindow = 512
	// anchorEvery is the spacing of remembered read positions.
	anchorEvery = 128
	// pageLimit caps one List call, so that one read of a level that is
	// mostly leaves fetches a screenful at once.
	pageLimit = 256
	// firstPage is the limit of a fetch's first List call.
	firstPage = 16
	// scanBudget caps the children one fetch command reads (a filter
	// that matches little, or a jump to the end, continues in the next
	// command), so that every command returns quickly and can be
	// superseded.
	scanBudget = 4096
	// listBudget caps the List calls of one fetch command.
	listBudget = 64
)

// entry is one child shown in the list: a leaf key (without its value,
// which the value pane reads separately) or a directory.
type entry struct {
	name string // the key, or the directory's prefix ending in "/"
	dir  bool
	// Leaf metadata.
	createRev, modRev, version int64
	size                       int
	// seen is the revision this entry was read at; watch events at or
	// below it are already reflected.
	seen int64
	// flash marks a recent change by the watch until flashUntil.
	flash      flashKind
	flashUntil time.Time
}

type flashKind int

const (
	flashNone flashKind = iota
	flashCreated
	flashUpdated
)

func (e entry) pos() readPos { return readPos{e.name, e.dir} }

// anchor is a read position from which reading finds the child at index
// idx.
type anchor struct {
	idx int
	pos readPos
}

// fetchReq asks for children of a listing, read from a read position.
type fetchReq struct {
	gen     int
	q       query
	from    readPos // read children after this position
	fromIdx int     // the index the first child found gets
	want    int     // stop after this many children (0: until until/the end)
	until   string  // stop once a child named >= until is found, plus a screenful
	keep    int     // keep only the last keep children
	replace bool    // the result replaces the window instead of extending it
}

// fetchRes is what a fetch read.
type fetchRes struct {
	items    []entry // kept children; items[0] has index firstIdx
	firstIdx int
	head     readPos // read position before items[0]
	tail     readPos // read position after the last child read
	nextIdx  int     // the index of the next child after tail
	more     bool    // children may remain after tail
	rev      int64   // revision of the first page read
	lastRev  int64   // revision of the last page read
	anchors  []anchor
	found    bool // until was reached
	scanned  int
	partial  bool // stopped by the budget before want/until/the end
	dropped  bool // children read before items[0] were not kept
}

// enumerate reads the children r asks for. In tree mode each directory
// costs one List call however many keys it holds: after meeting a
// directory, the next read starts behind all of its keys.
func enumerate(ctx context.Context, s backends.Store, r fetchReq) (fetchRes, error) {
	res := fetchRes{firstIdx: r.fromIdx, head: r.from, tail: r.from, nextIdx: r.fromIdx, more: true, rev: -1}
	keep := r.keep
	if keep <= 0 {
		keep = maxWindow
	}
	pos := r.from
	skip := "" // the directory whose keys are being passed over
	// Start small: the first page may well run into a large directory,
	// whose keys would be read for nothing. Grow while pages hold leaves.
	limit := firstPage
	if r.want > 0 && r.q.sub == "" {
		limit = min(r.want, firstPage)
	}
	afterFound := 0
	for calls := 0; ; calls++ {
		if calls == listBudget || res.scanned >= scanBudget {
			res.partial = true
			return res, nil
		}
		page, err := s.List(ctx, r.q.rng, backends.ListOptions{After: pos.after(), Limit: limit})
		if err != nil {
			return res, err
		}
		if res.rev < 0 {
			res.rev = page.Revision
		}
		res.lastRev = page.Revision
		inDir := false
		for i := range page.Items {
			kv := &page.Items[i]
			if skip != "" && strings.HasPrefix(kv.Key, skip) {
				inDir = true
				continue
			}
			name, dir := r.q.child(kv.Key)
			before := pos
			pos = readPos{name, dir}
			res.tail = pos
			res.scanned++
			skip, inDir = "", dir
			if dir {
				skip = name
			}
			if !r.q.match(name) {
				continue
			}
			e := entry{name: name, dir: dir, seen: page.Revision}
			if !dir {
				e.createRev, e.modRev, e.version, e.size = kv.CreateRevision, kv.ModRevision, kv.Version, len(kv.Value)
			}
			idx := res.nextIdx
			res.nextIdx++
			if idx%anchorEvery == 0 {
				res.anchors = append(res.anchors, anchor{idx, before})
			}
			if len(res.items) == 0 {
				res.head = before
			}
			res.items = append(res.items, e)
			if len(res.items) > keep {
				drop := len(res.items) - keep
				res.head = res.items[drop-1].pos()
				res.items = append(res.items[:0], res.items[drop:]...)
				res.firstIdx += drop
				res.dropped = true
			}
			if r.until != "" && !res.found && name >= r.until {
				res.found = true
			}
			if res.found {
				afterFound++
			}
			if (r.want > 0 && res.nextIdx-r.fromIdx >= r.want && r.until == "") || afterFound > screenful {
				// Stop here; whether children remain is learnt by the
				// next read (a page that ends exactly here says More).
				res.more = i < len(page.Items)-1 || page.More
				return res, nil
			}
		}
		if !page.More {
			res.more = false
			return res, nil
		}
		// Another page. If it ended inside a directory, the next page
		// would most likely hold more of that directory: read one key at
		// a time until a leaf shows up again.
		switch {
		case inDir:
			limit = 1
		case r.want > 0 && r.q.sub == "" && r.until == "":
			limit = min(max(r.want-(res.nextIdx-r.fromIdx), 1), 4*limit, pageLimit)
		default:
			limit = min(4*limit, pageLimit)
		}
	}
}

// screenful is how many children a locate keeps reading after its target,
// so that the window around it is filled.
const screenful = 64

// listing is the window of one level's children the browser holds.
type listing struct {
	q       query
	gen     int
	items   []entry
	start   int     // index of items[0]
	head    readPos // read position before items[0]
	tail    readPos // read position after the last child read
	more    bool    // children may remain after tail
	tailRev int64   // revision the range up to tail was read at
	anchors []anchor
	loaded  bool // the first read has returned
	busy    bool // a fetch is in flight
	cancel  context.CancelFunc
	scanned int // children read while filtering, for the status line
	locate  string
	err     error
}

func newListing(q query, gen int) listing {
	return listing{q: q, gen: gen, more: true, anchors: []anchor{{0, readPos{}}}}
}

// end is the index after the last held child.
func (l *listing) end() int { return l.start + len(l.items) }

// at returns the child at index i if it is held.
func (l *listing) at(i int) (*entry, bool) {
	if i < l.start || i >= l.end() {
		return nil, false
	}
	return &l.items[i-l.start], true
}

// addAnchors merges anchors, keeping them sorted by index.
func (l *listing) addAnchors(as []anchor) {
	for _, a := range as {
		i := sort.Search(len(l.anchors), func(i int) bool { return l.anchors[i].idx >= a.idx })
		if i < len(l.anchors) && l.anchors[i].idx == a.idx {
			l.anchors[i] = a
			continue
		}
		l.anchors = append(l.anchors, anchor{})
		copy(l.anchors[i+1:], l.anchors[i:])
		l.anchors[i] = a
	}
}

// anchorAtOrBefore returns the last anchor with idx <= i.
func (l *listing) anchorAtOrBefore(i int) anchor {
	j := sort.Search(len(l.anchors), func(j int) bool { return l.anchors[j].idx > i })
	if j == 0 {
		return anchor{0, readPos{}}
	}
	return l.anchors[j-1]
}

// merge folds a fetch result into the window. cursorIdx is the selected
// index, which a trim must keep in the window.
func (l *listing) merge(r fetchRes, replace bool, cursorIdx, rows int) {
	l.loaded = true
	l.scanned += r.scanned
	l.addAnchors(r.anchors)
	if replace || r.dropped {
		// A result that does not join the window replaces it.
		l.items = r.items
		l.start = r.firstIdx
		l.head = r.head
	} else {
		// Drop children a watch event already inserted behind the old tail.
		items := r.items
		for len(items) > 0 && len(l.items) > 0 && items[0].name <= l.items[len(l.items)-1].name {
			items = items[1:]
		}
		if len(l.items) == 0 {
			l.start, l.head = r.firstIdx, r.head
		}
		l.items = append(l.items, items...)
	}
	l.tail, l.more, l.tailRev = r.tail, r.more, r.lastRev
	// Keep the window bounded, dropping children far above the cursor.
	if over := len(l.items) - maxWindow; over > 0 {
		keepFrom := max(cursorIdx-rows-l.start, 0)
		drop := min(over, keepFrom)
		if drop > 0 {
			l.head = l.items[drop-1].pos()
			n := copy(l.items, l.items[drop:])
			clear(l.items[n:])
			l.items = l.items[:n]
			l.start += drop
			l.addAnchors([]anchor{{l.start, l.head}})
		}
	}
}

// find returns the index in items of the child named name, or where it
// would be inserted.
func (l *listing) find(name string) (int, bool) {
	i := sort.Search(len(l.items), func(i int) bool { return l.items[i].name >= name })
	return i, i < len(l.items) && l.items[i].name == name
}

// holdsRange reports whether a child named name, if it exists, would be
// inside the window (between head and tail), so that its absence from
// items means it does not exist at the revision the window was read at.
func (l *listing) holdsRange(name string) bool {
	if !l.head.before(name) {
		return false
	}
	if !l.more {
		return true
	}
	return !l.tail.before(name)
}

// shift moves the indices of the window and the anchors after a child
// named name was inserted (+1) or removed (-1) in front of them.
func (l *listing) shift(name string, delta int) {
	for i := range l.anchors {
		if !l.anchors[i].pos.before(name) {
			l.anchors[i].idx += delta
		}
	}
	if !l.head.before(name) {
		l.start += delta
	}
}
