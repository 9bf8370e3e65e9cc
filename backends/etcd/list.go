package etcd

import (
	"context"
	"errors"
	"strings"
	"sync"

	"go.etcd.io/etcd/api/v3/mvccpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/k3/k3-storage/backends"
)

// etcd answers a range read with a limit in time proportional to every key
// of the range, not to the limit: its index walks the whole range to count
// it for the response. A page that starts after a key deep in a large
// prefix would therefore cost as much as all the keys behind it, and paging
// through n keys O(n²/limit). List reads such pages in narrow ranges
// instead (pageBounds), all at the revision of the first read, and stops as
// soon as it has the page: the page is the same, and its cost follows the
// keys near After rather than the size of the prefix. Narrow reads cost
// round trips, which only pay off in a large prefix; the first page of a
// prefix (no After) is always one read, and its count tells how large the
// prefix is.

const (
	// narrowMinKeys is the prefix size from which pages after the first
	// are read in narrow ranges. Below it one read is cheaper than the
	// round trips (at ~0.4 µs per key counted against ~0.25 ms per round
	// trip on loopback; see BENCHMARKS.md).
	narrowMinKeys = 25_000
	// maxNarrowReads caps the narrow reads of one page; the last read
	// then covers the rest of the prefix.
	maxNarrowReads = 16
	// maxPrefixSizes bounds the prefixes whose size is remembered.
	maxPrefixSizes = 1024
)

// prefixSizes remembers, per prefix, the key count of its last one-read
// page from the start.
type prefixSizes struct {
	mu sync.Mutex
	n  map[string]int64
	// least overrides narrowMinKeys when set (tests).
	least int64
}

// large reports whether prefix is known to hold narrowMinKeys keys or more.
func (p *prefixSizes) large(prefix string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	least := p.least
	if least == 0 {
		least = narrowMinKeys
	}
	return p.n[prefix] >= least
}

// set records that prefix holds n keys, forgetting every other prefix when
// maxPrefixSizes are known.
func (p *prefixSizes) set(prefix string, n int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.n == nil || len(p.n) >= maxPrefixSizes {
		p.n = make(map[string]int64)
	}
	p.n[prefix] = n
}

// List implements backends.Store; the page is a snapshot at Page.Revision.
func (s *Store) List(ctx context.Context, prefix string, opts backends.ListOptions) (backends.Page, error) {
	if err := backends.CheckPrefix(prefix); err != nil {
		return backends.Page{}, err
	}
	ctx, cancel, err := s.call(ctx)
	if err != nil {
		return backends.Page{}, err
	}
	defer cancel()
	start, end := keyRange(prefix)
	bounds := []string{end}
	if opts.After != "" && opts.After >= start {
		start = opts.After + "\x00" // the least key greater than After
		if opts.Limit > 0 && strings.HasPrefix(opts.After, prefix) && s.sizes.large(prefix) {
			bounds = pageBounds(prefix, opts.After, end)
		}
	}
	page, count, err := s.listRanges(ctx, start, bounds, opts.Limit)
	if err != nil && len(bounds) > 1 && errors.Is(err, rpctypes.ErrCompacted) {
		// The first read's revision was compacted before a later read:
		// read the page again in one range, at the current revision.
		bounds = []string{end}
		page, count, err = s.listRanges(ctx, start, bounds, opts.Limit)
	}
	if err != nil {
		return backends.Page{}, s.fail("list", prefix, err)
	}
	if opts.After == "" && opts.Limit > 0 {
		s.sizes.set(prefix, count)
	}
	return page, nil
}

// listRanges reads up to limit+1 keys (every key when limit is 0) from start
// through the consecutive ranges [start, bounds[0]), [bounds[0], bounds[1])
// …, the first read at the current revision and the others at the same
// one, and stops once it has enough. count is the total etcd reported for
// the first range.
func (s *Store) listRanges(ctx context.Context, start string, bounds []string, limit int) (page backends.Page, count int64, err error) {
	var kvs []*mvccpb.KeyValue
	lo := start
	for i, hi := range bounds {
		ops := []clientv3.OpOption{clientv3.WithRange(hi)}
		if limit > 0 {
			// One more than asked tells whether more keys follow without
			// relying on the server's total count.
			ops = append(ops, clientv3.WithLimit(int64(limit+1-len(kvs))))
		}
		if i > 0 {
			// A read at a revision already served needs no consensus round
			// (serializable); a member that has not applied it yet says so,
			// and the read is made again through the leader.
			ops = append(ops, clientv3.WithRev(page.Revision))
		}
		resp, err := s.client.Get(ctx, lo, append(ops, serializable(i > 0)...)...)
		if err != nil && i > 0 && errors.Is(err, rpctypes.ErrFutureRev) {
			resp, err = s.client.Get(ctx, lo, ops...)
		}
		if err != nil {
			return backends.Page{}, 0, err
		}
		if i == 0 {
			page.Revision, count = resp.Header.Revision, resp.Count
		}
		kvs = append(kvs, resp.Kvs...)
		if limit > 0 && len(kvs) > limit {
			kvs, page.More = kvs[:limit], true
			break
		}
		lo = hi
	}
	page.Items = make([]backends.KeyValue, len(kvs))
	for i, kv := range kvs {
		page.Items[i] = toKV(kv)
	}
	return page, count, nil
}

// serializable returns the option of a serializable read when on is set.
func serializable(on bool) []clientv3.OpOption {
	if on {
		return []clientv3.OpOption{clientv3.WithSerializable()}
	}
	return nil
}

// pageBounds returns the upper bounds of the consecutive ranges that a page
// after the key after (which starts with prefix) is read in; the last is
// end, the end of the prefix's range. The keys above after fall, in order,
// into those that extend after, those that share all but its last byte,
// all but its last two, and so on up to the prefix; the keys sharing
// after's first m bytes end at PrefixEnd(after[:m]). Keys are path
// segments, names and counters, so each of these sets is some times larger
// than the one before and a page is usually found within a few of them:
// each read covers one more, up to maxNarrowReads, and the last read the
// rest of the prefix. Sets that end where the previous one does (after 0xff
// bytes) add no read.
func pageBounds(prefix, after, end string) []string {
	var bounds []string
	for m := len(after); m > len(prefix) && len(bounds) < maxNarrowReads; m-- {
		b := backends.PrefixEnd(after[:m])
		if b == "" { // after[:m] is all 0xff: its keys run to the end
			break
		}
		if len(bounds) == 0 || bounds[len(bounds)-1] != b {
			bounds = append(bounds, b)
		}
	}
	if len(bounds) == 0 || bounds[len(bounds)-1] != end {
		bounds = append(bounds, end)
	}
	return bounds
}
