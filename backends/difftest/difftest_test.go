package difftest_test

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/k3/k3-storage/backends"
	"github.com/k3/k3-storage/backends/backendtest"
	"github.com/k3/k3-storage/backends/etcd"
	"github.com/k3/k3-storage/backends/etcd/etcdtest"
	"github.com/k3/k3-storage/backends/memory"
	"github.com/k3/k3-storage/backends/mysql"
	"github.com/k3/k3-storage/backends/mysql/mysqltest"
)

var (
	flagSeqs     = flag.Int("k3.fuzz.seqs", 200, "number of random operation sequences TestDifferential runs")
	flagOps      = flag.Int("k3.fuzz.ops", 50, "operations per sequence (fences for watches come on top)")
	flagSeed     = flag.Uint64("k3.fuzz.seed", 1, "seed of the first sequence; sequence i uses seed+i")
	flagParallel = flag.Int("k3.fuzz.parallel", 4, "sequences run at once, each worker on a MySQL database and an etcd server of its own")
)

const (
	// maxWatches bounds the watches open at once; a checkpoint closes them.
	maxWatches = 4
	// fenceSuffix makes a watch prefix into the key of its fence.
	fenceSuffix = "\xff\xfe#fence"
	// opWait bounds one operation, and eventWait a checkpoint's wait for a
	// watch to deliver its fence.
	opWait    = 30 * time.Second
	eventWait = 30 * time.Second
)

// TestDifferential runs -k3.fuzz.seqs random sequences of -k3.fuzz.ops
// operations on a fresh memory Store and, under a prefix of their own, on
// one MySQL and one etcd Store: the same sequence on all three at once. It
// compares every result (values, revisions relative to the sequence's
// start, errors by sentinel, pages and their More flags), checks every
// History against backendtest.WantHistory, and compares what the watches
// of each Watch delivered. A failing sequence reports its seed and the
// index of the operation that differed, and nothing is shrunk.
//
// -k3.fuzz.parallel workers run sequences side by side, each with a MySQL
// database and an etcd server of its own (a sequence must be its store's
// only writer, or its revisions would not be its own), which hides the
// stores' commit latency.
func TestDifferential(t *testing.T) {
	ctx := t.Context()
	workers := max(1, min(*flagParallel, *flagSeqs))
	type shared struct{ my, et backends.Store }
	servers := make([]shared, workers)
	for i := range servers {
		servers[i] = shared{openMySQL(t), openEtcd(t)}
	}
	began := time.Now()
	seeds := make(chan uint64)
	var failed atomic.Bool
	var wg sync.WaitGroup
	all := make([]stats, workers)
	for w, srv := range servers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for seed := range seeds {
				if failed.Load() {
					continue
				}
				if !runSequence(ctx, t, seed, srv.my, srv.et, &all[w]) {
					failed.Store(true)
					t.Logf("replay: go test ./backends/difftest -run 'TestDifferential$' -v -k3.fuzz.seed=%d -k3.fuzz.seqs=1 -k3.fuzz.ops=%d",
						seed, *flagOps)
				}
			}
		}()
	}
	for i := range *flagSeqs {
		seeds <- *flagSeed + uint64(i)
	}
	close(seeds)
	wg.Wait()
	if failed.Load() {
		return
	}
	var sum stats
	for _, st := range all {
		sum.add(st)
	}
	t.Logf("%d sequences (seeds %d..%d) of %d operations, %d at once: %d operations on each of 3 stores (%d of them fences), %d watches, in %v",
		*flagSeqs, *flagSeed, *flagSeed+uint64(*flagSeqs)-1, *flagOps, workers, sum.ops, sum.fences, sum.watches, time.Since(began).Round(time.Millisecond))
	t.Logf("operations by kind: %v", sum.kinds)
}

// runSequence runs the sequence of seed on a fresh memory Store and, under
// a prefix of the sequence's own, on my and et; false when it failed t.
func runSequence(ctx context.Context, t *testing.T, seed uint64, my, et backends.Store, stats *stats) bool {
	mem := memory.New(memory.Options{})
	defer mem.Close()
	sq := &sequence{
		t:      t,
		ctx:    ctx,
		seed:   seed,
		rng:    rand.New(rand.NewPCG(seed, 0x6b33)),
		prefix: fmt.Sprintf("/fuzz/%d/", seed),
		model:  newModel(),
		stats:  stats,
	}
	for _, st := range []*store{
		{name: "memory", s: mem, firstWrite: 1},
		{name: "mysql", s: my, firstWrite: 1},
		{name: "etcd", s: et, firstWrite: 2, traits: backendtest.Traits{HistoryStopsAtDelete: true}},
	} {
		if !sq.start(st) {
			return false
		}
	}
	return sq.run(*flagOps)
}

func openMySQL(t *testing.T) backends.Store {
	opts := mysqltest.NewDatabase(t)
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	s, err := mysql.Open(ctx, opts)
	if err != nil {
		t.Fatalf("mysql.Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func openEtcd(t *testing.T) backends.Store {
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	s, err := etcd.Open(ctx, etcd.Options{Endpoints: etcdtest.Start(t)})
	if err != nil {
		t.Fatalf("etcd.Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// stats counts one worker's operations.
type stats struct {
	ops, fences, watches int
	kinds                map[string]int
}

func (s *stats) add(o stats) {
	s.ops, s.fences, s.watches = s.ops+o.ops, s.fences+o.fences, s.watches+o.watches
	if s.kinds == nil {
		s.kinds = map[string]int{}
	}
	for k, n := range o.kinds {
		s.kinds[k] += n
	}
}

// opKind is what an operation does.
type opKind int

const (
	opCreate opKind = iota
	opPut
	opUpdate
	opDelete
	opGet
	opList
	opCount
	opCountRev
	opWatch
	opHistory
	opCompact
	opRevision
	opFence // a Put of a watch prefix's fence key
)

var kindNames = [...]string{"create", "put", "update", "delete", "get", "list", "count", "countrev", "watch", "history", "compact", "revision", "fence"}

func (k opKind) String() string { return kindNames[k] }

// op is one operation. Revisions in it are relative to the sequence's
// start on each store (see abs).
type op struct {
	kind  opKind
	key   string // the key, or the prefix of List, Count, CountRev and Watch
	after string // List
	value string
	rev   int64 // Update and Delete ifRev, Watch fromRev, History Before, Compact target
	limit int   // List, History
}

// keys and prefixes, relative to the sequence's prefix: nested, bytewise
// neighbours, NUL and 0xFF bytes.
var (
	keySuffixes    = []string{"a", "a/", "a/b", "a/c", "ab", "a\x00", "a\xff", "b", "b/a", "\xff", "A", "a "}
	prefixSuffixes = []string{"", "", "a", "a/", "b", "\xff", "a/b", "zz"}
	afterSuffixes  = []string{"a", "a/", "a/b", "ab", "b", "\xff\xff", "zzz"}
)

// sequence is one random sequence run on every store.
type sequence struct {
	t       *testing.T
	ctx     context.Context
	seed    uint64
	rng     *rand.Rand
	prefix  string
	stores  []*store
	model   *model
	watches []*watchOp
	stats   *stats
	index   int // of the operation running
}

// store is one backend in one sequence.
type store struct {
	name   string
	s      backends.Store
	traits backendtest.Traits
	// base is the store's revision when the sequence started; compacted its
	// compacted revision as the sequence's Compacts leave it (absolute).
	base, compacted int64
	// firstWrite is the revision of the first write to an empty store:
	// 1, but 2 on etcd, whose empty store is at revision 1.
	firstWrite int64
}

// abs maps a relative revision argument to the store's: positive ones are
// offsets from base, 0 and negative ones stay as they are.
func (st *store) abs(rel int64) int64 {
	if rel > 0 {
		return st.base + rel
	}
	return rel
}

// rel maps a revision the store returned to the sequence's scale; 0 (no
// revision) stays 0.
func (st *store) rel(rev int64) int64 {
	if rev > 0 {
		return rev - st.base
	}
	return rev
}

// start adds st to the sequence at the store's current revision.
func (sq *sequence) start(st *store) bool {
	r, ok := st.s.(backends.Revisioner)
	if !ok {
		return sq.fail("%s does not implement backends.Revisioner", st.name)
	}
	cur, compacted, err := r.Revision(sq.ctx)
	if err != nil {
		return sq.fail("%s: Revision: %v", st.name, err)
	}
	st.base, st.compacted = cur, compacted
	sq.stores = append(sq.stores, st)
	return true
}

// run runs n random operations and a final checkpoint; false when it
// failed the test.
func (sq *sequence) run(n int) bool {
	for sq.index = 0; sq.index < n; sq.index++ {
		o := sq.next()
		switch {
		case o.kind == opCompact, o.kind == opWatch && len(sq.watches) >= maxWatches:
			// No watch may lag behind a compaction (whether it then
			// ends with ErrCompacted is a matter of timing); watches
			// are few.
			if !sq.checkpoint() {
				return false
			}
		}
		if !sq.do(o) {
			return false
		}
	}
	return sq.checkpoint()
}

func (sq *sequence) fail(format string, args ...any) bool {
	sq.t.Helper()
	sq.t.Errorf("seed %d, operation %d: %s", sq.seed, sq.index, fmt.Sprintf(format, args...))
	return false
}

// result is one store's outcome of an operation.
type result struct {
	text  string // compared across stores
	err   error
	rev   int64              // a write's relative revision
	hist  *backends.History  // History, compared with the model instead
	watch *watcher           // Watch
	kv    *backends.KeyValue // Get
}

// do runs o on every store at once, compares the results and updates the
// model from them.
func (sq *sequence) do(o op) bool {
	sq.t.Helper()
	sq.stats.ops++
	if sq.stats.kinds == nil {
		sq.stats.kinds = map[string]int{}
	}
	sq.stats.kinds[o.kind.String()]++
	results := make([]result, len(sq.stores))
	var wg sync.WaitGroup
	for i, st := range sq.stores {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(sq.ctx, opWait)
			defer cancel()
			results[i] = sq.apply(ctx, st, o)
		}()
	}
	wg.Wait()
	desc := sq.describe(o)
	for i := range sq.stores[1:] {
		if results[i+1].text != results[0].text {
			var b strings.Builder
			for j, st := range sq.stores {
				fmt.Fprintf(&b, "\n  %-6s %s", st.name, results[j].text)
				if results[j].err != nil {
					fmt.Fprintf(&b, " (%v)", results[j].err)
				}
			}
			sq.closeWatches(results)
			return sq.fail("%s: the stores disagree:%s", desc, b.String())
		}
	}
	switch o.kind {
	case opHistory:
		if results[0].hist == nil {
			break
		}
		for i, st := range sq.stores {
			got := sq.relHistory(st, *results[i].hist)
			want := backendtest.WantHistory(sq.model.writes[o.key], st.compacted-st.base, sq.model.cur,
				backends.HistoryOptions{Before: o.rev, Limit: o.limit}, st.traits)
			if g, w := sq.fmtHistory(got), sq.fmtHistory(want); g != w {
				sq.closeWatches(results)
				return sq.fail("%s: %s's History differs from the contract's:\n   got %s\n  want %s", desc, st.name, g, w)
			}
		}
	case opWatch:
		if results[0].watch != nil {
			w := &watchOp{prefix: o.key, start: o.rev, desc: fmt.Sprintf("operation %d (%s)", sq.index, desc)}
			if o.rev == 0 {
				w.start = sq.model.cur + 1
			}
			for _, r := range results {
				w.on = append(w.on, r.watch)
			}
			sq.watches = append(sq.watches, w)
			sq.stats.watches++
		}
	case opCompact:
		if results[0].err == nil {
			for _, st := range sq.stores {
				st.compacted = max(st.compacted, st.abs(o.rev)-1)
				if st.compacted < st.firstWrite {
					// Below the first write a compaction removes
					// nothing, and etcd cannot tell it from none.
					st.compacted = 0
				}
			}
		}
	case opRevision:
		for i, st := range sq.stores {
			if got := results[i].rev; got != st.compacted {
				return sq.fail("%s: %s reports compacted revision %d, the sequence's compactions left %d", desc, st.name, got, st.compacted)
			}
		}
	}
	if results[0].err == nil {
		sq.model.apply(o, results[0].rev)
	}
	return true
}

// closeWatches ends the watches an operation that failed opened.
func (sq *sequence) closeWatches(results []result) {
	for _, r := range results {
		if r.watch != nil {
			r.watch.close()
		}
	}
	for _, w := range sq.watches {
		for _, c := range w.on {
			c.close()
		}
	}
	sq.watches = nil
}

// apply runs o on one store.
func (sq *sequence) apply(ctx context.Context, st *store, o op) result {
	s := st.s
	write := func(rev int64, err error) result {
		if err != nil {
			return errResult(err)
		}
		return result{text: fmt.Sprintf("rev=%d", st.rel(rev)), rev: st.rel(rev)}
	}
	switch o.kind {
	case opCreate:
		return write(s.Create(ctx, o.key, []byte(o.value)))
	case opPut, opFence:
		return write(s.Put(ctx, o.key, []byte(o.value)))
	case opUpdate:
		return write(s.Update(ctx, o.key, []byte(o.value), st.abs(o.rev)))
	case opDelete:
		return write(s.Delete(ctx, o.key, st.abs(o.rev)))
	case opGet:
		kv, err := s.Get(ctx, o.key)
		if err != nil {
			return errResult(err)
		}
		return result{text: sq.fmtKV(st, kv), kv: &kv}
	case opList:
		page, err := s.List(ctx, o.key, backends.ListOptions{After: o.after, Limit: o.limit})
		if err != nil {
			return errResult(err)
		}
		var b strings.Builder
		fmt.Fprintf(&b, "rev=%d more=%v [", st.rel(page.Revision), page.More)
		for i, kv := range page.Items {
			if i > 0 {
				b.WriteString(" ")
			}
			b.WriteString(sq.fmtKV(st, kv))
		}
		b.WriteString("]")
		return result{text: b.String()}
	case opCount:
		n, err := s.Count(ctx, o.key)
		if err != nil {
			return errResult(err)
		}
		return result{text: fmt.Sprintf("n=%d", n)}
	case opCountRev:
		n, rev, err := s.(backends.RevisionCounter).CountRev(ctx, o.key)
		if err != nil {
			return errResult(err)
		}
		return result{text: fmt.Sprintf("n=%d rev=%d", n, st.rel(rev))}
	case opRevision:
		cur, compacted, err := s.(backends.Revisioner).Revision(ctx)
		if err != nil {
			return errResult(err)
		}
		// A shared store's compactions before the sequence began are no
		// part of it.
		return result{text: fmt.Sprintf("current=%d compacted=%d", st.rel(cur), max(compacted-st.base, 0)), rev: compacted}
	case opCompact:
		if err := s.(backends.Compactor).Compact(ctx, st.abs(o.rev)); err != nil {
			return errResult(err)
		}
		return result{text: "compacted"}
	case opHistory:
		h, err := s.(backends.Historian).History(ctx, o.key, backends.HistoryOptions{Before: st.abs(o.rev), Limit: o.limit})
		if err != nil {
			return errResult(err)
		}
		return result{text: "history", hist: &h}
	case opWatch:
		// The watch outlives the operation: its context is the sequence's.
		wctx, cancel := context.WithCancel(sq.ctx)
		ch, err := s.Watch(wctx, o.key, st.abs(o.rev))
		switch {
		case errors.Is(err, backends.ErrCompacted):
			// Watch may report it itself or as the only event.
			cancel()
			return result{text: "watching", watch: endedWatcher(err)}
		case err != nil:
			cancel()
			return errResult(err)
		}
		return result{text: "watching", watch: newWatcher(sq, st, ch, cancel)}
	}
	panic(fmt.Sprintf("unknown operation %d", o.kind))
}

func errResult(err error) result {
	return result{text: "error " + errClass(err), err: err}
}

// errClass names the contract's sentinel err wraps, or "other".
func errClass(err error) string {
	for _, s := range []struct {
		err  error
		name string
	}{
		{backends.ErrNotFound, "ErrNotFound"},
		{backends.ErrKeyExists, "ErrKeyExists"},
		{backends.ErrConflict, "ErrConflict"},
		{backends.ErrCompacted, "ErrCompacted"},
		{backends.ErrInvalidKey, "ErrInvalidKey"},
		{backends.ErrValueTooLarge, "ErrValueTooLarge"},
		{backends.ErrClosed, "ErrClosed"},
		{backends.ErrInvalidRevision, "ErrInvalidRevision"},
	} {
		if errors.Is(err, s.err) {
			return s.name
		}
	}
	return "other"
}

// short shows a key relative to the sequence's prefix.
func (sq *sequence) short(key string) string {
	if rest, ok := strings.CutPrefix(key, sq.prefix); ok {
		return fmt.Sprintf("…%q", rest)
	}
	if len(key) > 40 {
		return fmt.Sprintf("%q…(%d bytes)", key[:20], len(key))
	}
	return fmt.Sprintf("%q", key)
}

func (sq *sequence) fmtKV(st *store, kv backends.KeyValue) string {
	value := fmt.Sprintf("%q", kv.Value)
	if kv.Value == nil {
		value = "nil"
	}
	return fmt.Sprintf("{%s=%s c=%d m=%d v=%d}", sq.short(kv.Key), value, st.rel(kv.CreateRevision), st.rel(kv.ModRevision), kv.Version)
}

func (sq *sequence) describe(o op) string {
	switch o.kind {
	case opList:
		return fmt.Sprintf("list %s after %s limit %d", sq.short(o.key), sq.short(o.after), o.limit)
	case opUpdate, opDelete:
		return fmt.Sprintf("%v %s %q at revision %d", o.kind, sq.short(o.key), o.value, o.rev)
	case opWatch:
		return fmt.Sprintf("watch %s from revision %d", sq.short(o.key), o.rev)
	case opHistory:
		return fmt.Sprintf("history %s before %d limit %d", sq.short(o.key), o.rev, o.limit)
	case opCompact:
		return fmt.Sprintf("compact to revision %d", o.rev)
	case opRevision:
		return "revision"
	}
	return fmt.Sprintf("%v %s %q", o.kind, sq.short(o.key), o.value)
}

// relHistory maps a store's History onto the sequence's revisions; its
// Compacted keeps the store's own (it may lie before the sequence).
func (sq *sequence) relHistory(st *store, h backends.History) backends.History {
	out := h
	out.Entries = nil
	for _, e := range h.Entries {
		e.KV.CreateRevision, e.KV.ModRevision = st.rel(e.KV.CreateRevision), st.rel(e.KV.ModRevision)
		out.Entries = append(out.Entries, e)
	}
	out.Compacted, out.Revision = h.Compacted-st.base, st.rel(h.Revision)
	return out
}

func (sq *sequence) fmtHistory(h backends.History) string {
	var b strings.Builder
	fmt.Fprintf(&b, "rev=%d compacted=%d more=%v stopsAtDelete=%v [", h.Revision, h.Compacted, h.More, h.StopsAtDelete)
	plain := &store{}
	for i, e := range h.Entries {
		if i > 0 {
			b.WriteString(" ")
		}
		b.WriteString(e.Type.String() + sq.fmtKV(plain, e.KV))
	}
	b.WriteString("]")
	return b.String()
}

// model is what the sequence has written, on its relative scale, from the
// results the stores agreed on: it chooses revisions that are right or
// wrong on purpose, and it is what WantHistory checks History against.
type model struct {
	cur    int64
	keys   map[string]backends.KeyValue
	writes map[string][]backends.HistoryEntry
}

func newModel() *model {
	return &model{keys: map[string]backends.KeyValue{}, writes: map[string][]backends.HistoryEntry{}}
}

// apply records a successful operation; rev is a write's revision.
func (m *model) apply(o op, rev int64) {
	var e backends.HistoryEntry
	switch o.kind {
	case opCreate, opPut, opUpdate, opFence:
		old, ok := m.keys[o.key]
		e = backends.HistoryEntry{Type: backends.Created, KV: backends.KeyValue{
			Key: o.key, Value: []byte(o.value), CreateRevision: rev, ModRevision: rev, Version: 1}}
		if ok {
			e.Type, e.KV.CreateRevision, e.KV.Version = backends.Updated, old.CreateRevision, old.Version+1
		}
		m.keys[o.key] = e.KV
	case opDelete:
		e = backends.HistoryEntry{Type: backends.Deleted, KV: backends.KeyValue{Key: o.key, ModRevision: rev}}
		delete(m.keys, o.key)
	default:
		return
	}
	m.writes[o.key] = append(m.writes[o.key], e)
	m.cur = rev
}

// next draws the next operation.
func (sq *sequence) next() op {
	r, m := sq.rng, sq.model
	o := op{key: sq.key(), value: sq.value()}
	// pastRev is a revision of the sequence so far (1 when none).
	pastRev := func() int64 { return 1 + r.Int64N(max(m.cur, 1)) }
	switch x := r.IntN(100); {
	case x < 11:
		o.kind = opCreate
	case x < 22:
		o.kind = opPut
	case x < 35:
		o.kind = opUpdate
		o.rev = sq.ifRev(o.key, []int64{0, -1, pastRev(), m.cur + 1 + r.Int64N(3)})
	case x < 45:
		o.kind = opDelete
		o.rev = sq.ifRev(o.key, []int64{0, 0, 0, -1, pastRev()})
	case x < 52:
		o.kind = opGet
	case x < 62:
		o.kind, o.key, o.limit = opList, sq.prefixArg(), r.IntN(8)-2
		switch y := r.IntN(10); {
		case y < 4:
		case y < 8:
			o.after = sq.prefix + afterSuffixes[r.IntN(len(afterSuffixes))]
		case y < 9:
			o.after = "/"
		default:
			o.after = "~"
		}
	case x < 65:
		o.kind, o.key = opCount, sq.prefixArg()
	case x < 71:
		o.kind, o.key = opCountRev, sq.prefixArg()
	case x < 78:
		o.kind, o.key = opWatch, sq.prefixArg()
		switch y := r.IntN(20); {
		case y < 5:
			o.rev = 0
		case y < 14:
			o.rev = pastRev()
		case y < 18:
			o.rev = m.cur + 1 + r.Int64N(3)
		default:
			o.rev = -1 - r.Int64N(3)
		}
	case x < 88:
		o.kind, o.limit = opHistory, r.IntN(6)-1
		switch y := r.IntN(20); {
		case y < 9:
			o.rev = 0
		case y < 19:
			o.rev = 1 + r.Int64N(m.cur+2)
		default:
			o.rev = -1
		}
	case x < 92:
		o.kind = opCompact
		o.rev = pastRev()
		if r.IntN(5) == 0 {
			o.rev = m.cur + 1 + r.Int64N(2)
		}
	default:
		o.kind = opRevision
	}
	return o
}

// ifRev picks a compare-and-swap revision for key: usually its current
// one when it exists, else one of wrong.
func (sq *sequence) ifRev(key string, wrong []int64) int64 {
	if kv, ok := sq.model.keys[key]; ok && sq.rng.IntN(10) < 6 {
		return kv.ModRevision
	}
	return wrong[sq.rng.IntN(len(wrong))]
}

// key picks a key: one of a small set under the sequence's prefix, so that
// operations meet, or now and then an invalid one.
func (sq *sequence) key() string {
	switch x := sq.rng.IntN(100); {
	case x < 2:
		return ""
	case x < 3:
		return sq.prefix + strings.Repeat("k", backends.MaxKeySize)
	}
	return sq.prefix + keySuffixes[sq.rng.IntN(len(keySuffixes))]
}

func (sq *sequence) prefixArg() string {
	if sq.rng.IntN(100) == 0 {
		return sq.prefix + strings.Repeat("p", backends.MaxKeySize)
	}
	return sq.prefix + prefixSuffixes[sq.rng.IntN(len(prefixSuffixes))]
}

func (sq *sequence) value() string {
	if sq.rng.IntN(8) == 0 {
		return ""
	}
	return fmt.Sprintf("v%d", sq.rng.IntN(1000))
}

// watchOp is one Watch operation: its watcher on each store.
type watchOp struct {
	prefix string
	start  int64 // the first revision it may deliver (relative)
	desc   string
	on     []*watcher
}

// checkpoint ends every open watch: it writes a fence key under each watch
// prefix (more than once when a watch starts in the future), waits until
// every watcher has delivered the last fence under its prefix or ended,
// compares what the watchers of each Watch delivered, and closes them.
// The fences are ordinary operations, compared like the others.
func (sq *sequence) checkpoint() bool {
	if len(sq.watches) == 0 {
		return true
	}
	defer func() {
		for _, w := range sq.watches {
			for _, c := range w.on {
				c.close()
			}
		}
		sq.watches = nil
	}()
	fenced := map[string]int64{} // fence key -> relative revision of its last write
	fence := func(prefix string) bool {
		sq.stats.fences++
		o := op{kind: opFence, key: prefix + fenceSuffix, value: fmt.Sprintf("fence%d", sq.index)}
		if !sq.do(o) {
			return false
		}
		fenced[o.key] = sq.model.cur
		return true
	}
	// last is the revision of the last fence under a watch's prefix.
	last := func(w *watchOp) int64 {
		var rev int64
		for k, r := range fenced {
			if strings.HasPrefix(k, w.prefix) {
				rev = max(rev, r)
			}
		}
		return rev
	}
	for _, w := range sq.watches {
		if _, ok := fenced[w.prefix+fenceSuffix]; !ok && !fence(w.prefix) {
			return false
		}
	}
	for _, w := range sq.watches {
		for last(w) < w.start {
			if !fence(w.prefix) {
				return false
			}
		}
	}
	for _, w := range sq.watches {
		until := last(w)
		var texts []string
		for i, c := range w.on {
			if !c.waitFor(until) {
				return sq.fail("checkpoint: the watch of %s on %s delivered no event at revision %d, the last fence under its prefix, within %v; it has %s",
					w.desc, sq.stores[i].name, until, eventWait, c.String())
			}
			texts = append(texts, c.String())
		}
		for i := range texts[1:] {
			if texts[i+1] != texts[0] {
				var b strings.Builder
				for j, st := range sq.stores {
					fmt.Fprintf(&b, "\n  %-6s %s", st.name, texts[j])
				}
				return sq.fail("checkpoint: the watchers of %s disagree:%s", w.desc, b.String())
			}
		}
	}
	return true
}

// watcher collects one store's events of one Watch.
type watcher struct {
	cancel context.CancelFunc
	done   chan struct{} // closed when the channel is
	notify chan struct{} // cap 1: an event arrived

	mu     sync.Mutex
	events []string
	last   int64  // relative revision of the last event
	end    string // the final event's error, by sentinel
}

func newWatcher(sq *sequence, st *store, ch <-chan backends.Event, cancel context.CancelFunc) *watcher {
	w := &watcher{cancel: cancel, done: make(chan struct{}), notify: make(chan struct{}, 1)}
	go func() {
		defer close(w.done)
		for ev := range ch {
			w.mu.Lock()
			if ev.Err != nil {
				w.end = errClass(ev.Err)
			} else {
				text := ev.Type.String() + sq.fmtKV(st, ev.KV)
				if ev.PrevKV != nil {
					text += "<-" + sq.fmtKV(st, *ev.PrevKV)
				}
				w.events = append(w.events, text)
				w.last = st.rel(ev.KV.ModRevision)
			}
			w.mu.Unlock()
			select {
			case w.notify <- struct{}{}:
			default:
			}
		}
	}()
	return w
}

// endedWatcher stands for a Watch that failed with err itself.
func endedWatcher(err error) *watcher {
	w := &watcher{cancel: func() {}, done: make(chan struct{}), end: errClass(err)}
	close(w.done)
	return w
}

// waitFor waits until the watcher delivered an event at revision rev or
// later, or ended.
func (w *watcher) waitFor(rev int64) bool {
	timeout := time.After(eventWait)
	for {
		w.mu.Lock()
		reached := w.last >= rev
		w.mu.Unlock()
		if reached {
			return true
		}
		select {
		case <-w.notify:
		case <-w.done:
			return true
		case <-timeout:
			return false
		}
	}
}

// close ends the watch and waits for its channel to close.
func (w *watcher) close() {
	w.cancel()
	<-w.done
}

func (w *watcher) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	s := "[" + strings.Join(w.events, " ") + "]"
	if w.end != "" {
		s += " then " + w.end
	}
	return s
}
