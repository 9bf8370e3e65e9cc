package mysql

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"

	"gorm.io/gorm"

	"github.com/k3/k3-storage/backends"
)

// Log row types (k3_log.type).
const (
	logCreated = 1
	logUpdated = 2
	logDeleted = 3
)

// Statements of the read and write paths. No placeholder directly follows
// "(": should a statement ever go through GORM's Raw or Exec, GORM would
// expand a []byte argument there into one value per byte
// (TestStatementsKeepByteSlicesWhole).
const (
	sqlGet = "SELECT value, create_rev, mod_rev, version FROM k3_kv WHERE k = ?"

	sqlNextRev  = "UPDATE k3_meta SET current_rev = LAST_INSERT_ID(current_rev + 1) WHERE id = 1"
	sqlInsertKV = "INSERT INTO k3_kv (k, value, create_rev, mod_rev, version) VALUES ( ?, ?, ?, ?, 1)"
	sqlUpdateKV = "UPDATE k3_kv SET value = ?, mod_rev = ?, version = version + 1 WHERE k = ?"
	sqlDeleteKV = "DELETE FROM k3_kv WHERE k = ?"
	sqlModRev   = "SELECT mod_rev FROM k3_kv WHERE k = ?"

	logColumns    = "INSERT INTO k3_log (rev, k, type, value, prev_value, create_rev, prev_mod_rev, prev_version) "
	sqlLogCreated = logColumns + "VALUES ( ?, ?, 1, ?, NULL, ?, 0, 0)"
	// The update and delete log rows copy the previous state server-side,
	// in the same statement that checks the key's revision: the previous
	// value never travels to the client and back.
	sqlLogUpdated   = logColumns + "SELECT ?, k, 2, ?, value, create_rev, mod_rev, version FROM k3_kv WHERE k = ?"
	sqlLogUpdatedIf = sqlLogUpdated + " AND mod_rev = ?"
	sqlLogDeleted   = logColumns + "SELECT ?, k, 3, NULL, value, create_rev, mod_rev, version FROM k3_kv WHERE k = ?"
	sqlLogDeletedIf = sqlLogDeleted + " AND mod_rev = ?"

	sqlMeta = "SELECT current_rev, compact_rev FROM k3_meta WHERE id = 1"
)

// Get implements backends.Store.
func (s *Store) Get(ctx context.Context, key string) (backends.KeyValue, error) {
	if err := backends.CheckKey(key); err != nil {
		return backends.KeyValue{}, err
	}
	if s.closed.Load() {
		return backends.KeyValue{}, backends.ErrClosed
	}
	ctx, cancel := s.bound(ctx)
	defer cancel()
	kv := backends.KeyValue{Key: key}
	err := s.queryRow(ctx, sqlGet, []byte(key)).Scan(&kv.Value, &kv.CreateRevision, &kv.ModRevision, &kv.Version)
	if isNoRows(err) {
		return backends.KeyValue{}, fmt.Errorf("mysql: get %q: %w", key, backends.ErrNotFound)
	}
	if err != nil {
		return backends.KeyValue{}, s.opError(fmt.Sprintf("get %q", key), err)
	}
	kv.Value = nonNil(kv.Value)
	return kv, nil
}

// queryRow runs a single-row read. Reads are single autocommit statements
// that go to the pool GORM manages (its ConnPool) directly, past GORM's
// statement builder and callback chain: for a one-round-trip primary-key
// lookup those cost about 15% of the whole call and add nothing here
// (the SQL is fixed and no model is involved). See BENCHMARKS.md.
func (s *Store) queryRow(ctx context.Context, q string, args ...any) *sql.Row {
	return s.pool.QueryRowContext(ctx, q, args...)
}

// query runs a multi-row read, like queryRow.
func (s *Store) query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	return s.pool.QueryContext(ctx, q, args...)
}

// List implements backends.Store. The page and its Revision are read by
// one statement, so they are one consistent snapshot: the meta row first,
// then (UNION ALL) a primary-key range scan in key order with LIMIT n+1.
func (s *Store) List(ctx context.Context, prefix string, opts backends.ListOptions) (backends.Page, error) {
	if err := backends.CheckPrefix(prefix); err != nil {
		return backends.Page{}, err
	}
	if s.closed.Load() {
		return backends.Page{}, backends.ErrClosed
	}
	ctx, cancel := s.bound(ctx)
	defer cancel()
	q, args := listQuery(prefix, opts)
	rows, err := s.query(ctx, q, args...)
	if err != nil {
		return backends.Page{}, s.opError(fmt.Sprintf("list %q", prefix), err)
	}
	defer rows.Close()

	page := backends.Page{Revision: -1}
	if opts.Limit > 0 {
		page.Items = make([]backends.KeyValue, 0, min(opts.Limit, 1024))
	}
	for rows.Next() {
		var (
			k     []byte
			kv    backends.KeyValue
			isRev bool
		)
		if err := rows.Scan(&isRev, &k, &kv.Value, &kv.CreateRevision, &kv.ModRevision, &kv.Version); err != nil {
			return backends.Page{}, s.opError(fmt.Sprintf("list %q", prefix), err)
		}
		if isRev {
			page.Revision = kv.CreateRevision
			continue
		}
		kv.Key, kv.Value = string(k), nonNil(kv.Value)
		page.Items = append(page.Items, kv)
	}
	if err := rows.Err(); err != nil {
		return backends.Page{}, s.opError(fmt.Sprintf("list %q", prefix), err)
	}
	if page.Revision < 0 {
		return backends.Page{}, s.opError(fmt.Sprintf("list %q", prefix), fmt.Errorf("meta row missing"))
	}
	// UNION ALL keeps each part's order in practice, but SQL does not
	// promise it: sort when the server did not (a no-op check otherwise).
	byKey := func(a, b backends.KeyValue) int { return strings.Compare(a.Key, b.Key) }
	if !slices.IsSortedFunc(page.Items, byKey) {
		slices.SortFunc(page.Items, byKey)
	}
	if opts.Limit > 0 && len(page.Items) > opts.Limit {
		page.Items, page.More = page.Items[:opts.Limit], true
	}
	return page, nil
}

// listQuery builds List's statement: the revision row (flag 1, revision in
// the create_rev column), then the keys of the range.
func listQuery(prefix string, opts backends.ListOptions) (string, []any) {
	var b strings.Builder
	b.WriteString("SELECT 1, NULL, NULL, current_rev, 0, 0 FROM k3_meta WHERE id = 1 UNION ALL " +
		"(SELECT 0, k, value, create_rev, mod_rev, version FROM k3_kv WHERE ")
	args := make([]any, 0, 3)
	if opts.After != "" && opts.After >= prefix {
		b.WriteString("k > ?")
		args = append(args, []byte(opts.After))
	} else {
		b.WriteString("k >= ?")
		args = append(args, []byte(prefix))
	}
	if end := backends.PrefixEnd(prefix); end != "" {
		b.WriteString(" AND k < ?")
		args = append(args, []byte(end))
	}
	b.WriteString(" ORDER BY k")
	if opts.Limit > 0 {
		b.WriteString(" LIMIT ?")
		args = append(args, int64(opts.Limit)+1)
	}
	b.WriteString(")")
	return b.String(), args
}

// Count implements backends.Store with a primary-key range COUNT(*).
func (s *Store) Count(ctx context.Context, prefix string) (int64, error) {
	if err := backends.CheckPrefix(prefix); err != nil {
		return 0, err
	}
	if s.closed.Load() {
		return 0, backends.ErrClosed
	}
	ctx, cancel := s.bound(ctx)
	defer cancel()
	q, args := "SELECT COUNT(*) FROM k3_kv WHERE k >= ?", []any{[]byte(prefix)}
	if end := backends.PrefixEnd(prefix); end != "" {
		q, args = q+" AND k < ?", append(args, []byte(end))
	}
	var n int64
	if err := s.queryRow(ctx, q, args...).Scan(&n); err != nil {
		return 0, s.opError(fmt.Sprintf("count %q", prefix), err)
	}
	return n, nil
}

// Create implements backends.Store.
func (s *Store) Create(ctx context.Context, key string, value []byte) (int64, error) {
	if err := backends.CheckWrite(key, value); err != nil {
		return 0, err
	}
	k, v := []byte(key), nonNil(value)
	return s.write(ctx, "create", key, func(tx *gorm.DB, rev int64) error {
		return insertKey(tx, k, v, rev)
	})
}

// insertKey creates the key at rev and logs it; ErrKeyExists if it exists.
func insertKey(tx *gorm.DB, k, v []byte, rev int64) error {
	if _, err := exec(tx, sqlInsertKV, k, v, rev, rev); err != nil {
		if isDuplicate(err) {
			return backends.ErrKeyExists
		}
		return err
	}
	_, err := exec(tx, sqlLogCreated, rev, k, v, rev)
	return err
}

// Put implements backends.Store.
func (s *Store) Put(ctx context.Context, key string, value []byte) (int64, error) {
	if err := backends.CheckWrite(key, value); err != nil {
		return 0, err
	}
	k, v := []byte(key), nonNil(value)
	return s.write(ctx, "put", key, func(tx *gorm.DB, rev int64) error {
		if n, err := exec(tx, sqlLogUpdated, rev, v, k); err != nil || n == 0 {
			if err != nil {
				return err
			}
			return insertKey(tx, k, v, rev)
		}
		_, err := exec(tx, sqlUpdateKV, v, rev, k)
		return err
	})
}

// Update implements backends.Store.
func (s *Store) Update(ctx context.Context, key string, value []byte, ifRev int64) (int64, error) {
	if err := backends.CheckWrite(key, value); err != nil {
		return 0, err
	}
	k, v := []byte(key), nonNil(value)
	return s.write(ctx, "update", key, func(tx *gorm.DB, rev int64) error {
		if n, err := exec(tx, sqlLogUpdatedIf, rev, v, k, ifRev); err != nil || n == 0 {
			if err != nil {
				return err
			}
			return whyNot(tx, k, ifRev)
		}
		_, err := exec(tx, sqlUpdateKV, v, rev, k)
		return err
	})
}

// Delete implements backends.Store.
func (s *Store) Delete(ctx context.Context, key string, ifRev int64) (int64, error) {
	if err := backends.CheckKey(key); err != nil {
		return 0, err
	}
	k := []byte(key)
	return s.write(ctx, "delete", key, func(tx *gorm.DB, rev int64) error {
		q, args := sqlLogDeleted, []any{rev, k}
		if ifRev != 0 {
			q, args = sqlLogDeletedIf, append(args, ifRev)
		}
		if n, err := exec(tx, q, args...); err != nil || n == 0 {
			if err != nil {
				return err
			}
			return whyNot(tx, k, ifRev)
		}
		_, err := exec(tx, sqlDeleteKV, k)
		return err
	})
}

// whyNot explains a conditional write that matched no row: ErrNotFound or
// ErrConflict. The caller holds the meta row lock, so no writer can change
// the key meanwhile.
func whyNot(tx *gorm.DB, k []byte, ifRev int64) error {
	var mod int64
	switch err := tx.Statement.ConnPool.QueryRowContext(tx.Statement.Context, sqlModRev, k).Scan(&mod); {
	case isNoRows(err):
		return backends.ErrNotFound
	case err != nil:
		return err
	}
	return fmt.Errorf("%w: at revision %d (current %d)", backends.ErrConflict, ifRev, mod)
}

// write runs one write transaction: take the next revision (and with it the
// meta row lock that serialises writers), let fn change the key and log the
// change, commit. A failed fn rolls everything back, so the revision is not
// consumed. After the commit it wakes this Store's watch poller.
//
// The request timeout bounds the transaction whatever the caller's context:
// it holds the lock every writer of the database queues on.
func (s *Store) write(ctx context.Context, op, key string, fn func(tx *gorm.DB, rev int64) error) (int64, error) {
	if s.closed.Load() {
		return 0, backends.ErrClosed
	}
	ctx, cancel := s.bound(ctx)
	defer cancel()
	var rev int64
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		res, err := tx.Statement.ConnPool.ExecContext(tx.Statement.Context, sqlNextRev)
		if err != nil {
			return err
		}
		switch n, err := res.RowsAffected(); {
		case err != nil:
			return fmt.Errorf("take the next revision: %w", err)
		case n != 1:
			return fmt.Errorf("k3_meta row missing (%d rows updated)", n)
		}
		if rev, err = res.LastInsertId(); err != nil {
			return err
		}
		return fn(tx, rev)
	})
	if err != nil {
		return 0, s.opError(fmt.Sprintf("%s %q", op, key), err)
	}
	s.notify()
	s.maybeCompact(rev)
	return rev, nil
}

// exec runs one statement of a write transaction on GORM's transaction
// (its *sql.Tx) and returns the rows affected. It skips GORM's statement
// builder and callbacks like queryRow does: the SQL is fixed, and the write
// path must stay within a few percent of hand-written database/sql.
func exec(tx *gorm.DB, q string, args ...any) (int64, error) {
	res, err := tx.Statement.ConnPool.ExecContext(tx.Statement.Context, q, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// nonNil maps a nil slice to an empty one: the driver sends nil as NULL,
// and an empty value must read back as empty, not absent.
func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// cloneValue copies value bytes handed to a caller.
func cloneValue(b []byte) []byte { return bytes.Clone(nonNil(b)) }
