package mysql

// WatchMaxHeld reports, for tests, the most event bytes one of s's
// watchers took at once, from the in-memory window or a replay of the log.
func WatchMaxHeld(s *Store) int64 { return s.watchHeld.v.Load() }

// CountRevQuery is CountRev's statement, for tests that run it on a
// session of their own.
func CountRevQuery(prefix string) (string, []any) { return countRevQuery(prefix) }
