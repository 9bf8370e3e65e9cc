package etcd

import (
	"context"
	"errors"
	"fmt"

	"go.etcd.io/etcd/api/v3/mvccpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/k3/k3-storage/backends"
)

// CountRev implements backends.RevisionCounter with one count-only range
// read: etcd counts at the revision its read transaction sees and returns
// that revision in the response header, so both are one snapshot.
func (s *Store) CountRev(ctx context.Context, prefix string) (n, rev int64, err error) {
	if err := backends.CheckPrefix(prefix); err != nil {
		return 0, 0, err
	}
	ctx, cancel, err := s.call(ctx)
	if err != nil {
		return 0, 0, err
	}
	defer cancel()
	start, end := keyRange(prefix)
	resp, err := s.client.Get(ctx, start, clientv3.WithRange(end), clientv3.WithCountOnly())
	if err != nil {
		return 0, 0, s.fail("count", prefix, err)
	}
	return resp.Count, resp.Header.Revision, nil
}

// History implements backends.Historian by reading the key at past
// revisions, one round trip per version: the version current at revision r
// is the one written last at or before r, so reading at ModRevision-1 gives
// the version before it. etcd keeps no record of deletes that a read can
// reach: a read at the revision before an incarnation's CreateRevision
// finds the key absent and cannot tell when, or whether, an older
// incarnation ended. History stops there and sets StopsAtDelete; a caller
// that knows where an older incarnation ended (a Deleted event's
// ModRevision) reaches it with Before. A read below etcd's compaction
// revision fails, which is where history stops otherwise (see Compact for
// how etcd's compaction revision is the contract's compacted one). The
// compacted revision is found as Revision finds it (compactionRev), by
// reads at past revisions of the key itself, so that a user who may read
// only the key can read its history: usually one.
//
// Every read is bounded by the request timeout of its own.
func (s *Store) History(ctx context.Context, key string, opts backends.HistoryOptions) (backends.History, error) {
	if err := backends.CheckKey(key); err != nil {
		return backends.History{}, err
	}
	if err := backends.CheckRevision(opts.Before); err != nil {
		return backends.History{}, fmt.Errorf("etcd: history of %q: %w", key, err)
	}
	if s.closed.Load() {
		return backends.History{}, backends.ErrClosed
	}
	h, err := s.history(ctx, key, opts)
	if err != nil {
		return backends.History{}, s.fail("history of", key, err)
	}
	return h, nil
}

func (s *Store) history(ctx context.Context, key string, opts backends.HistoryOptions) (backends.History, error) {
	var h backends.History
	if opts.Before == 1 {
		// Nothing is older than revision 1.
		resp, err := s.getAtCount(ctx, key, 0)
		if err != nil {
			return h, err
		}
		h.Revision = resp.Header.Revision
		least, err := s.compactionRev(ctx, key, 0, h.Revision)
		h.Compacted = compactedAt(least)
		return h, err
	}
	// at is the revision read; 0 reads the current one. A read at any
	// revision reports the current one in its header.
	at := max(opts.Before-1, 0)
	resp, err := s.getAt(ctx, key, at)
	if errors.Is(err, rpctypes.ErrFutureRev) {
		at = 0 // Before is beyond the current revision: it keeps everything
		resp, err = s.getAt(ctx, key, at)
	}
	if errors.Is(err, rpctypes.ErrCompacted) {
		return s.historyBelowCompaction(ctx, key, opts)
	}
	if err != nil {
		return h, err
	}
	h.Revision = resp.Header.Revision
	if at == 0 {
		at = h.Revision
	}
	// readable is the lowest revision read (etcd's compaction revision is
	// at or below it); unreadable, if not 0, one whose read failed as
	// compacted (the compaction revision is above it); absent, if not 0,
	// the revision where the key was found missing.
	kvs, readable := resp.Kvs, at
	var unreadable, absent int64
	for {
		if len(kvs) == 0 {
			absent = at // a delete, or nothing yet
			break
		}
		if opts.Limit > 0 && len(h.Entries) == opts.Limit {
			h.More = true
			break
		}
		kv := kvs[0]
		h.Entries = append(h.Entries, historyEntry(kv))
		if at = kv.ModRevision - 1; at == 0 {
			break
		}
		resp, err := s.getAt(ctx, key, at)
		if errors.Is(err, rpctypes.ErrCompacted) {
			unreadable = at
			break
		}
		if err != nil {
			return h, err
		}
		kvs, readable = resp.Kvs, at
	}
	least, err := s.compactionRev(ctx, key, unreadable, readable)
	h.Compacted = compactedAt(least)
	// Missing at the compacted revision itself hides nothing the contract
	// knows: a delete there or before it is compacted.
	h.StopsAtDelete = absent > h.Compacted
	return h, err
}

// historyBelowCompaction is History when Before-1 is compacted: of the
// versions below Before, only the one current at the compacted revision
// (the oldest readable one) may still be known. A compaction that passes
// that revision meanwhile makes it look again.
func (s *Store) historyBelowCompaction(ctx context.Context, key string, opts backends.HistoryOptions) (backends.History, error) {
	for {
		var h backends.History
		resp, err := s.getAtCount(ctx, key, 0)
		if err != nil {
			return h, err
		}
		h.Revision = resp.Header.Revision
		least, err := s.compactionRev(ctx, key, opts.Before-1, h.Revision)
		if err != nil {
			return h, err
		}
		h.Compacted = compactedAt(least)
		resp, err = s.getAt(ctx, key, least)
		if errors.Is(err, rpctypes.ErrCompacted) {
			continue
		}
		if err != nil {
			return h, err
		}
		if len(resp.Kvs) > 0 && resp.Kvs[0].ModRevision < opts.Before {
			h.Entries = append(h.Entries, historyEntry(resp.Kvs[0]))
		}
		return h, nil
	}
}

// compactedAt is the contract's compacted revision for etcd's compaction
// revision least, the least revision still readable (see Compact): least
// itself, or 0 when that is 1. Reads cannot tell a compaction to revision 1
// from none, and need not: etcd's empty store is at revision 1 and its
// first write is revision 2, so revision 1 holds nothing to compact. (Hence
// after Compact(2) a Watch from 1 still starts; it delivers the same events
// as one from 2.)
func compactedAt(least int64) int64 {
	if least <= 1 {
		return 0
	}
	return least
}

// getAt reads key at revision rev (0: the current revision) under the
// request timeout.
func (s *Store) getAt(ctx context.Context, key string, rev int64) (*clientv3.GetResponse, error) {
	ctx, cancel, err := s.call(ctx)
	if err != nil {
		return nil, err
	}
	defer cancel()
	if rev == 0 {
		return s.client.Get(ctx, key)
	}
	return s.client.Get(ctx, key, clientv3.WithRev(rev))
}

// compactionRev returns etcd's compaction revision, the least revision
// still readable (1 when nothing was compacted), given that revision hi is
// readable and revision lo is not (lo 0: not known). It searches with
// count-only reads of probe (a key the caller may read) at past revisions.
// A compaction revision only grows, so the last one this Store found is a
// floor: if it is still readable, one read settles it (also when nothing
// was compacted); otherwise a binary search above it takes about
// log2(hi-floor) reads.
func (s *Store) compactionRev(ctx context.Context, probe string, lo, hi int64) (int64, error) {
	readable := func(rev int64) (bool, error) {
		_, err := s.getAtCount(ctx, probe, rev)
		switch {
		case err == nil:
			return true, nil
		case errors.Is(err, rpctypes.ErrCompacted):
			return false, nil
		}
		return false, err
	}
	floor := max(s.compactFloor.Load(), 1)
	switch {
	case floor >= hi:
		return hi, nil
	case floor > lo:
		ok, err := readable(floor)
		if err != nil || ok {
			return floor, err
		}
		lo = floor
	}
	for hi-lo > 1 {
		mid := lo + (hi-lo)/2
		ok, err := readable(mid)
		if err != nil {
			return 0, err
		}
		if ok {
			hi = mid
		} else {
			lo = mid
		}
	}
	for {
		old := s.compactFloor.Load()
		if hi <= old || s.compactFloor.CompareAndSwap(old, hi) {
			return hi, nil
		}
	}
}

// getAtCount reads key at rev (0: the current revision), count only, under
// the request timeout: a read for its header, or to see whether it
// succeeds.
func (s *Store) getAtCount(ctx context.Context, key string, rev int64) (*clientv3.GetResponse, error) {
	ctx, cancel, err := s.call(ctx)
	if err != nil {
		return nil, err
	}
	defer cancel()
	return s.client.Get(ctx, key, clientv3.WithRev(rev), clientv3.WithCountOnly())
}

// historyEntry is the entry of one version read from etcd.
func historyEntry(kv *mvccpb.KeyValue) backends.HistoryEntry {
	typ := backends.Updated
	if kv.Version == 1 {
		typ = backends.Created
	}
	return backends.HistoryEntry{Type: typ, KV: toKV(kv)}
}
