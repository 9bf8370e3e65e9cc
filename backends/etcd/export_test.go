package etcd

import (
	"context"

	"github.com/k3/k3-storage/backends"
)

// WatchStats reports, for tests, how often the store's watches paused
// their etcd streams for slow readers and restarted failed streams, and the
// most bytes one watcher held for its reader.
func WatchStats(s *Store) (pauses, restarts, maxHeld int64) {
	st := &s.watchStats
	return st.pauses.Load(), st.restarts.Load(), st.maxHeld.Load()
}

// MaxWatchBytes is maxWatchBytes, for tests.
const MaxWatchBytes = maxWatchBytes

// PageBounds returns the bounds of the reads of a page after after, when
// read i finds keys if found[i] (false beyond found).
func PageBounds(prefix, after, end string, found ...bool) []string {
	n := &narrowing{after: after, end: end, floor: len(prefix), m: len(after)}
	var bounds []string
	f := false
	for i := 0; ; i++ {
		b := n.next(f)
		bounds = append(bounds, b)
		if b == end {
			return bounds
		}
		f = i < len(found) && found[i]
	}
}

// NarrowAlways makes s read every page after the first in narrow ranges,
// whatever the prefix's size, for tests.
func NarrowAlways(s *Store) {
	s.sizes.mu.Lock()
	s.sizes.least = -1
	s.sizes.mu.Unlock()
}

// MaxNarrowReads is maxNarrowReads, for tests.
const MaxNarrowReads = maxNarrowReads

// WatchUnchecked starts a watch like Watch but without checking that
// fromRev lies above compacted history, as a watch stream that restarts
// after a compaction does.
func WatchUnchecked(ctx context.Context, s *Store, prefix string, fromRev int64) <-chan backends.Event {
	return s.watch(ctx, prefix, fromRev)
}
