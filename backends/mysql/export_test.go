package mysql

// WatchMaxHeld reports, for tests, the most event bytes one of s's
// watchers took at once, from the in-memory window or a replay of the log.
func WatchMaxHeld(s *Store) int64 { return s.watchHeld.v.Load() }

// CountRevQuery is CountRev's statement, for tests that run it on a
// session of their own.
func CountRevQuery(prefix string) (string, []any) { return countRevQuery(prefix) }

// SessionTLS reports the TLS version of one of s's pooled connections
// ("" for a plain connection), as the server sees it.
func SessionTLS(s *Store) (string, error) {
	var name, version string
	err := s.sqlDB.QueryRow("SHOW SESSION STATUS LIKE 'Ssl_version'").Scan(&name, &version)
	return version, err
}
