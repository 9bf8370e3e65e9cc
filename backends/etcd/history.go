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
// revision fails, which is where history stops otherwise. Compacted is
// found as Revision finds it, by reads at past revisions (one when nothing
// was compacted, about log2 of the revisions in question otherwise).
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
	resp, err := s.getAt(ctx, key, 0)
	if err != nil {
		return h, err
	}
	h.Revision = resp.Header.Revision
	// readable is the lowest revision read so far (etcd's compaction
	// revision is at or below it); compacted, if not 0, is one whose read
	// failed as compacted (the compaction revision is above it).
	readable, compacted := h.Revision, int64(0)
	// kvs is the key at revision at.
	kvs, at := resp.Kvs, h.Revision
	if opts.Before > 0 && opts.Before-1 < h.Revision {
		kvs, at = nil, opts.Before-1
		if at > 0 {
			resp, err = s.getAt(ctx, key, at)
			switch {
			case errors.Is(err, rpctypes.ErrCompacted):
				// Only the version current at the oldest readable
				// revision may still be known below Before.
				compacted = at
				if readable, err = s.compactionRev(ctx, compacted, readable); err != nil {
					return h, err
				}
				if resp, err = s.getAt(ctx, key, readable); err != nil {
					return h, err
				}
				if len(resp.Kvs) > 0 && resp.Kvs[0].ModRevision < opts.Before {
					h.Entries = append(h.Entries, historyEntry(resp.Kvs[0]))
				}
				h.Compacted = readable - 1
				return h, nil
			case err != nil:
				return h, err
			}
			kvs, readable = resp.Kvs, at
		}
	}
	for at > 0 {
		if len(kvs) == 0 {
			// Absent at a readable revision: a delete, or nothing yet.
			h.StopsAtDelete = true
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
			compacted = at
			break
		}
		if err != nil {
			return h, err
		}
		kvs, readable = resp.Kvs, at
	}
	least, err := s.compactionRev(ctx, compacted, readable)
	if err != nil {
		return h, err
	}
	h.Compacted = least - 1
	return h, nil
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
// readable and revision lo is not (lo 0: not known). It binary-searches
// with count-only reads at past revisions: one read when nothing was
// compacted, about log2(hi-lo) otherwise.
func (s *Store) compactionRev(ctx context.Context, lo, hi int64) (int64, error) {
	readable := func(rev int64) (bool, error) {
		_, err := s.getAtCount(ctx, rev)
		switch {
		case err == nil:
			return true, nil
		case errors.Is(err, rpctypes.ErrCompacted):
			return false, nil
		}
		return false, err
	}
	if lo == 0 {
		if ok, err := readable(1); err != nil || ok {
			return 1, err
		}
		lo = 1
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
	return hi, nil
}

// getAtCount reads the probe key at rev, count only, under the request
// timeout: a read whose only use is to succeed or fail.
func (s *Store) getAtCount(ctx context.Context, rev int64) (*clientv3.GetResponse, error) {
	ctx, cancel, err := s.call(ctx)
	if err != nil {
		return nil, err
	}
	defer cancel()
	return s.client.Get(ctx, probeKey, clientv3.WithRev(rev), clientv3.WithCountOnly())
}

// historyEntry is the entry of one version read from etcd.
func historyEntry(kv *mvccpb.KeyValue) backends.HistoryEntry {
	typ := backends.Updated
	if kv.Version == 1 {
		typ = backends.Created
	}
	return backends.HistoryEntry{Type: typ, KV: toKV(kv)}
}
