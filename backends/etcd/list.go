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
	// maxNarrowStep is the most bytes of After one narrow read gives up
	// over the previous one (see narrowing).
	maxNarrowStep = 4
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
	var bounds ranges = oneRange(end)
	if opts.After != "" && opts.After >= start {
		start = opts.After + "\x00" // the least key greater than After
		if opts.Limit > 0 && strings.HasPrefix(opts.After, prefix) && s.sizes.large(prefix) {
			bounds = &narrowing{after: opts.After, end: end, floor: len(prefix), m: len(opts.After)}
		}
	}
	page, count, err := s.listRanges(ctx, start, end, bounds, opts.Limit)
	if _, narrow := bounds.(*narrowing); narrow && errors.Is(err, rpctypes.ErrCompacted) {
		// The first read's revision was compacted before a later read:
		// read the page again in one range, at the current revision.
		page, count, err = s.listRanges(ctx, start, end, oneRange(end), opts.Limit)
	}
	if err != nil {
		return backends.Page{}, s.fail("list", prefix, err)
	}
	if opts.After == "" && opts.Limit > 0 {
		s.sizes.set(prefix, count)
	}
	return page, nil
}

// ranges yields the upper bounds of the consecutive ranges a page is read
// in, the last being the end of the prefix's range; found says whether the
// previous read found keys.
type ranges interface{ next(found bool) string }

// oneRange is a page read in one range, up to its end.
type oneRange string

func (r oneRange) next(bool) string { return string(r) }

// listRanges reads up to limit+1 keys (every key when limit is 0) from start
// through the consecutive ranges [start, b1), [b1, b2) … whose bounds come
// from bounds, up to end, the first read at the current revision and the
// others at the same one, and stops once it has enough. count is the total
// etcd reported for the first range.
func (s *Store) listRanges(ctx context.Context, start, end string, bounds ranges, limit int) (page backends.Page, count int64, err error) {
	var kvs []*mvccpb.KeyValue
	lo, found := start, false
	for i := 0; ; i++ {
		hi := bounds.next(found)
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
		kvs, found = append(kvs, resp.Kvs...), len(resp.Kvs) > 0
		if limit > 0 && len(kvs) > limit {
			kvs, page.More = kvs[:limit], true
			break
		}
		if hi == end {
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

// narrowing yields the bounds of the narrow ranges a page after the key
// after (which starts with the prefix) is read in. The keys above after fall,
// in order, into those that extend after, those that share all but its last
// byte, all but its last two, and so on up to the prefix: the keys sharing
// after's first m bytes end at PrefixEnd(after[:m]). Keys are path segments,
// names and counters, so each of these sets is some times larger than the
// one before, and a page is usually found within a few of them. Each read
// gives up one more byte of after; after three or more reads in a row that
// found no keys (a name's random suffix, a sparse counter) it gives up 2,
// then 4 (maxNarrowStep), so that a long empty stretch costs few round
// trips, while a single empty set (a counter at the end of its decade)
// does not make the next read skip the set it needs. A read overshoots the
// set it needs by at most a few bytes. Sets that end where the previous one does (after 0xff
// bytes) add no read. After maxNarrowReads reads, the last covers the rest.
type narrowing struct {
	after, end string
	floor      int    // len(prefix): the set of the whole prefix
	m          int    // the next read ends with the keys sharing after[:m]
	empty      int    // reads in a row that found no keys
	reads      int    // narrow reads so far
	prev       string // the last bound returned
}

func (n *narrowing) next(found bool) string {
	if n.reads > 0 {
		n.empty++
		if found {
			n.empty = 0
		}
		step := 1
		if n.empty > 2 {
			step = min(1<<(n.empty-2), maxNarrowStep)
		}
		n.m -= step
	}
	for n.reads < maxNarrowReads && n.m > n.floor {
		b := backends.PrefixEnd(n.after[:n.m])
		if b == "" { // after[:m] is all 0xff: its keys run to the end
			break
		}
		if b != n.prev {
			n.prev = b
			n.reads++
			return b
		}
		n.m-- // the same set as the last read's: no read
	}
	return n.end
}
