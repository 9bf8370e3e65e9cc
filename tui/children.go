package tui

import (
	"strings"

	"github.com/k3/k3-storage/backends"
)

// The browser shows keys as a tree split on "/". A level is a prefix that
// is "" (the root) or ends in "/"; its children are the leaf keys directly
// in it and the directories one segment below it. A directory's name is
// its prefix (ending in "/"), a leaf's name is its key, and children sort
// by name exactly as their keys sort, so a level can be read in order with
// range reads that jump over each directory's keys.

// childOf returns the child of level prefix that key belongs to: the key
// itself (a leaf) or the directory one segment below prefix. key must
// start with prefix.
func childOf(prefix, key string) (name string, dir bool) {
	if i := strings.IndexByte(key[len(prefix):], '/'); i >= 0 {
		return key[:len(prefix)+i+1], true
	}
	return key, false
}

// parentOf returns the level above prefix ("" for the root and for
// levels directly below it).
func parentOf(prefix string) string {
	p := strings.TrimSuffix(prefix, "/")
	if i := strings.LastIndexByte(p, '/'); i >= 0 {
		return p[:i+1]
	}
	return ""
}

// levelOf returns the level a key is a leaf of.
func levelOf(key string) string {
	if i := strings.LastIndexByte(key, '/'); i >= 0 {
		return key[:i+1]
	}
	return ""
}

// readPos is a read position in a listing: everything up to and including the
// child key (and, for a directory, every key inside it) has been read.
// The zero readPos is the start.
type readPos struct {
	key string
	dir bool
}

// after returns the ListOptions.After that continues behind the position.
// For a directory d it is d followed by 0xFF bytes up to MaxKeySize, which
// is greater than or equal to every key in d (no key is longer than
// MaxKeySize and no byte is greater than 0xFF), so the next read starts at
// the next child without reading d's keys.
func (p readPos) after() string {
	if !p.dir || len(p.key) >= backends.MaxKeySize {
		return p.key
	}
	return p.key + strings.Repeat("\xff", backends.MaxKeySize-len(p.key))
}

// before reports whether a child named name comes after the position,
// that is, a read from the position would find it.
func (p readPos) before(name string) bool {
	if p.key == "" && !p.dir {
		return true
	}
	if p.dir && strings.HasPrefix(name, p.key) {
		return false
	}
	return name > p.key
}

// query says what a listing shows.
type query struct {
	level string // the level whose children are listed
	// rng is the prefix given to List: the level, or the level plus an
	// anchored filter ("^abc"), which the store serves as a range read.
	rng  string
	flat bool   // every key under level, not split into directories
	sub  string // substring filter on the child's name below level ("" none)
	fold bool   // match sub case-insensitively (sub has no upper case)
}

// newQuery builds the query for a level, mode and filter text. A filter
// starting with "^" matches names that start with the rest, read as a
// range; any other filter matches a substring, case-insensitively unless it
// contains upper case (smart case).
func newQuery(level string, flat bool, filter string) query {
	q := query{level: level, rng: level, flat: flat}
	switch {
	case strings.HasPrefix(filter, "^"):
		q.rng = level + filter[1:]
		if len(q.rng) > backends.MaxKeySize {
			q.rng = q.rng[:backends.MaxKeySize]
		}
	case filter != "":
		q.sub = filter
		q.fold = strings.ToLower(filter) == filter
	}
	return q
}

// child returns the child of the listing that key belongs to.
func (q query) child(key string) (name string, dir bool) {
	if q.flat {
		return key, false
	}
	return childOf(q.level, key)
}

// covers reports whether key is inside the listing's range.
func (q query) covers(key string) bool { return strings.HasPrefix(key, q.rng) }

// match reports whether a child passes the substring filter.
func (q query) match(name string) bool {
	if q.sub == "" {
		return true
	}
	seg := name[len(q.level):]
	if q.fold {
		seg = strings.ToLower(seg)
	}
	return strings.Contains(seg, q.sub)
}

// displayName is the part of a child's name below the level, as shown in
// the list (escaped by the caller).
func displayName(level, name string) string { return name[len(level):] }
