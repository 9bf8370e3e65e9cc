package mysql

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"

	"github.com/k3/k3-storage/backends"
	"github.com/k3/k3-storage/backends/internal/history"
)

// CountRev implements backends.RevisionCounter with one statement: the
// meta row's current_rev as a scalar subquery beside a primary-key range
// COUNT(*). A statement reads one InnoDB read view, under REPEATABLE READ
// (autocommit: the statement is the transaction) and READ COMMITTED alike
// (the view is taken per statement, not per table access), so the count is
// exact at the revision (TestCountRevOneReadView).
func (s *Store) CountRev(ctx context.Context, prefix string) (n, rev int64, err error) {
	if err := backends.CheckPrefix(prefix); err != nil {
		return 0, 0, err
	}
	if s.closed.Load() {
		return 0, 0, backends.ErrClosed
	}
	ctx, cancel := s.bound(ctx)
	defer cancel()
	q, args := countRevQuery(prefix)
	var cur sql.NullInt64
	if err := s.queryRow(ctx, q, args...).Scan(&cur, &n); err != nil {
		return 0, 0, s.opError(fmt.Sprintf("count %q", prefix), err)
	}
	if !cur.Valid {
		return 0, 0, s.opError(fmt.Sprintf("count %q", prefix), fmt.Errorf("meta row missing"))
	}
	return n, cur.Int64, nil
}

// countRevQuery builds CountRev's statement.
func countRevQuery(prefix string) (string, []any) {
	q := "SELECT (SELECT current_rev FROM k3_meta WHERE id = 1), COUNT(*) FROM k3_kv WHERE k >= ?"
	args := []any{[]byte(prefix)}
	if end := backends.PrefixEnd(prefix); end != "" {
		q, args = q+" AND k < ?", append(args, []byte(end))
	}
	return q, args
}

// Parts of History's statement (its first column).
const (
	histMeta   = 0 // current_rev, compact_rev
	histOlder  = 1 // the page's log rows, newest first
	histOldest = 2 // the key's oldest log row above compact_rev, with its previous value
	histKV     = 3 // the current state, when no log row above compact_rev remains
)

// historyQuery builds History's statement: four parts, UNION ALL, read in
// one InnoDB read view. Each log part is a range of the (k, rev) index;
// compacted rows that a running compaction has not deleted yet are left
// out, as readers of the log always do.
func historyQuery(key string, opts backends.HistoryOptions) (string, []any) {
	const compacted = "(SELECT compact_rev FROM k3_meta WHERE id = 1)"
	k := []byte(key)
	var b strings.Builder
	b.WriteString("SELECT 0, current_rev, compact_rev, NULL, NULL, 0, 0, 0 FROM k3_meta WHERE id = 1 UNION ALL " +
		"(SELECT 1, rev, type, value, NULL, create_rev, prev_mod_rev, prev_version FROM k3_log " +
		"WHERE k = ? AND rev > " + compacted)
	args := []any{k}
	if opts.Before > 0 {
		b.WriteString(" AND rev < ?")
		args = append(args, opts.Before)
	}
	b.WriteString(" ORDER BY rev DESC")
	if opts.Limit > 0 {
		b.WriteString(" LIMIT ?")
		args = append(args, int64(opts.Limit)+1)
	}
	b.WriteString(") UNION ALL " +
		"(SELECT 2, rev, type, NULL, prev_value, create_rev, prev_mod_rev, prev_version FROM k3_log " +
		"WHERE k = ? AND rev > " + compacted + " ORDER BY rev LIMIT 1) UNION ALL " +
		"SELECT 3, mod_rev, 0, value, NULL, create_rev, 0, version FROM k3_kv WHERE k = ? AND NOT EXISTS " +
		"(SELECT 1 FROM k3_log WHERE k = ? AND rev > " + compacted + ")")
	args = append(args, k, k, k)
	return b.String(), args
}

// History implements backends.Historian from k3_log, which keeps every
// write above compact_rev with the previous state: deletes are entries,
// and a page is one statement (see historyQuery), so it is one snapshot.
// Entries carry values: a page with Limit n reads up to n+2 of them (one
// more entry, to tell More, and the previous value of the key's oldest
// retained write, which may be an entry of its own).
func (s *Store) History(ctx context.Context, key string, opts backends.HistoryOptions) (backends.History, error) {
	if err := backends.CheckKey(key); err != nil {
		return backends.History{}, err
	}
	if err := backends.CheckRevision(opts.Before); err != nil {
		return backends.History{}, fmt.Errorf("mysql: history of %q: %w", key, err)
	}
	if s.closed.Load() {
		return backends.History{}, backends.ErrClosed
	}
	ctx, cancel := s.bound(ctx)
	defer cancel()
	fail := func(err error) (backends.History, error) {
		return backends.History{}, s.opError(fmt.Sprintf("history of %q", key), err)
	}
	q, args := historyQuery(key, opts)
	rows, err := s.query(ctx, q, args...)
	if err != nil {
		return fail(err)
	}
	defer rows.Close()
	l, meta := history.Log{}, false
	for rows.Next() {
		var (
			part, typ                            int
			rev, createRev, prevMod, prevVersion int64
			value, prevValue                     []byte
		)
		if err := rows.Scan(&part, &rev, &typ, &value, &prevValue, &createRev, &prevMod, &prevVersion); err != nil {
			return fail(err)
		}
		switch part {
		case histMeta:
			l.Revision, l.Compacted, meta = rev, int64(typ), true
		case histOlder, histOldest:
			ev, err := logEvent(rev, key, typ, createRev, prevMod, prevVersion, value, prevValue)
			if err != nil {
				return fail(err)
			}
			if part == histOlder {
				l.Older = append(l.Older, ev)
			} else {
				l.Oldest = &ev
			}
		case histKV:
			l.Current = &backends.KeyValue{Key: key, Value: nonNil(value), CreateRevision: createRev, ModRevision: rev, Version: prevVersion}
		}
	}
	if err := rows.Err(); err != nil {
		return fail(err)
	}
	if !meta {
		return fail(fmt.Errorf("meta row missing"))
	}
	// UNION ALL keeps each part's order in practice; SQL does not promise it.
	byRevDesc := func(a, b backends.Event) int { return cmp.Compare(b.KV.ModRevision, a.KV.ModRevision) }
	if !slices.IsSortedFunc(l.Older, byRevDesc) {
		slices.SortFunc(l.Older, byRevDesc)
	}
	return history.Page(l, opts), nil
}
