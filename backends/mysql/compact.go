package mysql

import (
	"context"
	"fmt"
	"github.com/k3/k3-storage/backends"
)

// compactBatch is how many log rows one DELETE removes, so that compaction
// never holds many row locks or a long transaction.
const compactBatch = 1000

// Compact implements backends.Compactor: after it, a Watch from any revision
// below rev fails with ErrCompacted. It first advances k3_meta.compact_rev to
// rev-1 (never backwards), then deletes the log rows below rev in batches of
// compactBatch; if it is interrupted, the rows left behind are removed by
// the next compaction and are never served (readers check compact_rev).
// Compacting beyond the current revision is an error. Each statement, not
// the whole call, is bounded by Options.RequestTimeout.
func (s *Store) Compact(ctx context.Context, rev int64) error {
	if s.closed.Load() {
		return backends.ErrClosed
	}
	if err := s.compact(ctx, rev); err != nil {
		return s.opError(fmt.Sprintf("compact to revision %d", rev), err)
	}
	return nil
}

// compact runs the statements of a compaction, each bounded by the request
// timeout of its own (a long compaction is many short statements).
func (s *Store) compact(ctx context.Context, rev int64) error {
	var cur, compacted int64
	err := s.step(ctx, func(ctx context.Context) error {
		return s.queryRow(ctx, sqlMeta).Scan(&cur, &compacted)
	})
	if err != nil {
		return err
	}
	if rev > cur {
		return fmt.Errorf("beyond the current revision %d", cur)
	}
	if rev-1 > compacted {
		err := s.step(ctx, func(ctx context.Context) error {
			return s.db.WithContext(ctx).Exec("UPDATE k3_meta SET compact_rev = GREATEST(compact_rev, ?) WHERE id = 1", rev-1).Error
		})
		if err != nil {
			return err
		}
	}
	for {
		var deleted int64
		err := s.step(ctx, func(ctx context.Context) error {
			res := s.db.WithContext(ctx).Exec("DELETE FROM k3_log WHERE rev < ? ORDER BY rev LIMIT ?", rev, compactBatch)
			deleted = res.RowsAffected
			return res.Error
		})
		if err != nil {
			return err
		}
		if deleted < compactBatch {
			return nil
		}
	}
}

// step runs one statement under ctx bounded by the request timeout.
func (s *Store) step(ctx context.Context, fn func(ctx context.Context) error) error {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	return fn(ctx)
}

// Revision implements backends.Revisioner: the current revision and the
// newest compacted one (0 when nothing is compacted).
func (s *Store) Revision(ctx context.Context) (current, compacted int64, err error) {
	if s.closed.Load() {
		return 0, 0, backends.ErrClosed
	}
	ctx, cancel := s.bound(ctx)
	defer cancel()
	if err := s.queryRow(ctx, sqlMeta).Scan(&current, &compacted); err != nil {
		return 0, 0, s.opError("revision", err)
	}
	return current, compacted, nil
}

// maybeCompact asks for a background compaction that keeps the newest
// history log rows when rev, a revision this Store just wrote, is a multiple
// of compactEvery. Every process sharing the database does the same for the
// revisions it writes, so the log stays bounded whoever writes, and
// concurrent compactions are harmless (compact_rev only grows, deletes are
// idempotent). At most one runs per Store; a request made while it runs is
// served when it finishes, never dropped.
func (s *Store) maybeCompact(rev int64) {
	if s.history <= 0 || rev%s.compactEvery != 0 || rev <= s.history {
		return
	}
	target := rev - s.history + 1
	for {
		old := s.compactTarget.Load()
		if old >= target || s.compactTarget.CompareAndSwap(old, target) {
			break
		}
	}
	if !s.compacting.CompareAndSwap(false, true) {
		return
	}
	if !s.goBackground(s.autoCompact) {
		s.compacting.Store(false)
	}
}

// autoCompact compacts to the requested target until no newer request is
// pending. An error (server gone, Store closing) leaves the request for the
// next one: the log only grows a little beyond History meanwhile.
func (s *Store) autoCompact() {
	var done int64
	for {
		target := s.compactTarget.Load()
		if target > done {
			if err := s.compact(s.ctx, target); err != nil {
				s.compacting.Store(false)
				return
			}
			done = target
			continue
		}
		s.compacting.Store(false)
		// A request stored after the Load above but before the Store
		// found compacting still set: take it over if nobody else did.
		if s.compactTarget.Load() <= done || !s.compacting.CompareAndSwap(false, true) {
			return
		}
	}
}
