package etcd

// WatchStats reports, for tests, how often the store's watches paused
// their etcd streams for slow readers and restarted failed streams, and the
// most bytes one watcher held for its reader.
func WatchStats(s *Store) (pauses, restarts, maxHeld int64) {
	st := &s.watchStats
	return st.pauses.Load(), st.restarts.Load(), st.maxHeld.Load()
}

// MaxWatchBytes is maxWatchBytes, for tests.
const MaxWatchBytes = maxWatchBytes
