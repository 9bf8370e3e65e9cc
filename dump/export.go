package dump

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/k3/k3-storage/backends"
)

// Defaults of ExportOptions.
const (
	// DefaultPageSize is the most keys one List call asks for.
	DefaultPageSize = 1000
	// DefaultPageBytes is the key and value bytes a page aims at: page
	// sizes adapt to the values seen so far, so that a prefix of large
	// values is read a few keys at a time.
	DefaultPageBytes = 4 << 20
	// DefaultSnapshotBytes bounds the earlier key states Export holds to
	// give a snapshot while the store is being written to.
	DefaultSnapshotBytes = 64 << 20
)

// firstPage is the size of the first page, before anything is known of the
// values' sizes.
const firstPage = 16

// ErrUsage is satisfied by errors that come from invalid arguments (a
// prefix longer than backends.MaxKeySize). The CLI exits 2.
var ErrUsage = errors.New(msgErrUsage)

// ExportOptions configures Export. The zero value exports every key, with
// revisions, as one snapshot.
type ExportOptions struct {
	// Prefix selects the keys to export; "" is every key.
	Prefix string
	// PageSize is the most keys read per List call; 0 means
	// DefaultPageSize.
	PageSize int
	// PageBytes is the key and value bytes a page aims at; 0 means
	// DefaultPageBytes. Memory use follows it: the next page's size is
	// chosen from the sizes of the values just read, so only a prefix
	// whose values jump from small to large within one page holds more,
	// at most PageSize values.
	PageBytes int
	// OmitRevisions leaves out the header's revision and every entry's
	// meta line, so that exports of the same keys and values from
	// different stores (or before and after an import) are identical and
	// a diff shows only changed keys and values.
	OmitRevisions bool
	// SnapshotBytes bounds the earlier states of keys written during the
	// export that Export holds to make the file one snapshot (see Export);
	// 0 means DefaultSnapshotBytes. Past the bound, or when negative, later
	// pages are written as read.
	SnapshotBytes int64
	// Progress, when set, is called after every page and once at the end
	// (Done set), from the goroutine running Export. It must return
	// quickly.
	Progress func(ExportProgress)
}

// ExportProgress is reported to ExportOptions.Progress.
type ExportProgress struct {
	Keys  int64 // entries written so far
	Bytes int64 // bytes written so far
	Total int64 // keys under the prefix when the export began (Store.Count)
	Done  bool  // the last report
}

// ExportStats describes a finished (or failed) export.
type ExportStats struct {
	Keys  int64 // entries written
	Bytes int64 // bytes written
	Pages int   // List calls
	// Revision is the revision the export stands for, that of its first
	// page, written in the header.
	Revision int64
	// LastRevision is the revision of the last page read; equal to
	// Revision when nothing was written to the store during the export.
	LastRevision int64
	// Snapshot reports that every entry is the key as it was at Revision:
	// nothing was written during the export, or what was written was
	// undone from the store's watch history. When false, pages from some
	// point on are as read at their own revisions, up to LastRevision
	// (the file's last comment says so).
	Snapshot bool
}

// Export writes the keys under opts.Prefix to w in the format of this
// package (see the package documentation), one entry per key in bytewise
// key order, reading page by page through List in memory that does not
// grow with the number of keys.
//
// Consistency: the file stands for the store at the revision of the first
// page (the header's revision). Every page is a snapshot of its own
// revision; when a later page was read at a later revision, Export watches
// the whole store from the first page's revision on and replaces each key
// written since by its state at that revision (the previous state carried
// by the key's first later event), restores keys deleted since and drops
// keys created since. So the file is one snapshot even while the store is
// written to, unless the store's history no longer holds the first page's
// revision (ErrCompacted), or the earlier states would take more than
// SnapshotBytes; then the rest is written as read and ExportStats.Snapshot
// is false. This relies on the contract's one revision per write.
//
// Export does not close w; it returns the stats so far with any error:
// ErrUsage for an invalid prefix, else a store or write error, or the
// context's. A failed export lacks the final count line, so Import rejects
// it.
func Export(ctx context.Context, store backends.Store, w io.Writer, opts ExportOptions) (ExportStats, error) {
	var stats ExportStats
	if err := backends.CheckPrefix(opts.Prefix); err != nil {
		return stats, fmt.Errorf("%w: %w", ErrUsage, err)
	}
	pageSize := opts.PageSize
	if pageSize <= 0 {
		pageSize = DefaultPageSize
	}
	pageBytes := int64(opts.PageBytes)
	if pageBytes <= 0 {
		pageBytes = DefaultPageBytes
	}
	budget := opts.SnapshotBytes
	if budget == 0 {
		budget = DefaultSnapshotBytes
	}
	total := int64(-1)
	if opts.Progress != nil {
		n, err := store.Count(ctx, opts.Prefix)
		if err != nil {
			return stats, fmt.Errorf(msgExportCount, err)
		}
		total = n
	}

	bw := bufio.NewWriterSize(w, 256<<10)
	var buf, scratch []byte
	write := func(b []byte) error {
		n, err := bw.Write(b)
		stats.Bytes += int64(n)
		return err
	}

	snap := &snapshot{prefix: opts.Prefix, budget: budget}
	defer snap.stop()
	limit := min(firstPage, pageSize)
	after := ""
	for {
		if err := ctx.Err(); err != nil { // not every store checks
			return stats, err
		}
		page, err := store.List(ctx, opts.Prefix, backends.ListOptions{After: after, Limit: limit})
		if err != nil {
			return stats, fmt.Errorf(msgExportList, QuoteKey(after), err)
		}
		stats.Pages++
		stats.LastRevision = page.Revision
		items := page.Items
		if stats.Pages == 1 {
			stats.Revision = page.Revision
			snap.rev = page.Revision
			if budget < 0 {
				snap.abandon()
			}
			buf = appendHeader(buf[:0], opts, page.Revision)
		} else {
			if err := snap.catchUp(ctx, store, page.Revision); err != nil {
				return stats, err
			}
			items = snap.fix(items, page.More)
			snap.check(items)
		}
		if page.More && len(page.Items) == 0 {
			return stats, fmt.Errorf(msgExportEmptyPage, QuoteKey(after))
		}
		size := int64(0)
		for i := range page.Items {
			size += int64(len(page.Items[i].Key) + len(page.Items[i].Value))
		}
		if len(items) > 0 && stats.Keys == 0 {
			buf = append(buf, fieldKeys+":\n"...)
		}
		for i := range items {
			buf, scratch = appendEntry(buf, scratch, &items[i], opts.OmitRevisions)
			if len(buf) >= 64<<10 {
				if err := write(buf); err != nil {
					return stats, fmt.Errorf(msgExportWrite, err)
				}
				buf = buf[:0]
			}
		}
		stats.Keys += int64(len(items))
		if len(page.Items) > 0 {
			after = page.Items[len(page.Items)-1].Key
			snap.cursor = after
		}
		if !page.More {
			break
		}
		if err := write(buf); err != nil {
			return stats, fmt.Errorf(msgExportWrite, err)
		}
		buf = buf[:0]
		if opts.Progress != nil {
			opts.Progress(ExportProgress{Keys: stats.Keys, Bytes: stats.Bytes, Total: total})
		}
		limit = nextLimit(limit, len(page.Items), size, pageSize, pageBytes)
	}
	stats.Snapshot = !snap.broken || stats.LastRevision == stats.Revision
	if !stats.Snapshot {
		buf = fmt.Appendf(buf, "# "+msgCommentNotSnapshot+"\n", stats.Revision, stats.LastRevision)
	}
	if stats.Keys == 0 {
		buf = append(buf, fieldKeys+": []\n"...)
	}
	buf = appendInt(buf, fieldCount, stats.Keys)
	if err := write(buf); err != nil {
		return stats, fmt.Errorf(msgExportWrite, err)
	}
	if err := bw.Flush(); err != nil {
		return stats, fmt.Errorf(msgExportWrite, err)
	}
	if opts.Progress != nil {
		opts.Progress(ExportProgress{Keys: stats.Keys, Bytes: stats.Bytes, Total: total, Done: true})
	}
	return stats, nil
}

// ExportFile exports to the file at path (see Export), replacing it only
// when the export succeeds: it writes a temporary file in the same
// directory, syncs it and renames it over path, so that a failed or
// cancelled export leaves any earlier file as it was and no partial one.
// The file is created with mode 0600, as exports hold every value (Secrets
// among them).
func ExportFile(ctx context.Context, store backends.Store, path string, opts ExportOptions) (ExportStats, error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return ExportStats{}, fmt.Errorf(msgExportCreate, err)
	}
	stats, err := Export(ctx, store, f, opts)
	if err == nil {
		err = f.Sync()
		if err != nil {
			err = fmt.Errorf(msgExportWrite, err)
		}
	}
	if cerr := f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf(msgExportWrite, cerr)
	}
	if err == nil {
		if err = os.Rename(f.Name(), path); err != nil {
			err = fmt.Errorf(msgExportCreate, err)
		}
	}
	if err != nil {
		os.Remove(f.Name())
	}
	return stats, err
}

// nextLimit sizes the next page from the last one (n items of size bytes,
// read with limit): about pageBytes worth of keys and values, at most
// twice the last limit and at most pageSize.
func nextLimit(limit, n int, size int64, pageSize int, pageBytes int64) int {
	next := 2 * limit
	if size > 0 && n > 0 {
		next = min(next, int(pageBytes*int64(n)/size))
	}
	return max(1, min(next, pageSize))
}

// appendHeader appends the header comment and the fields before "keys".
func appendHeader(b []byte, opts ExportOptions, rev int64) []byte {
	for _, line := range strings.Split(msgCommentHeader, "\n") {
		b = append(b, "# "...)
		b = append(b, line...)
		b = append(b, '\n')
	}
	b = append(b, fieldFormat+": "+FormatVersion+"\n"...)
	b = appendField(b, 0, fieldPrefix, []byte(opts.Prefix), false)
	if !opts.OmitRevisions {
		b = appendInt(b, fieldRevision, rev)
	}
	return b
}

// appendEntry appends one entry; scratch is a buffer for the key's bytes.
func appendEntry(b, scratch []byte, kv *backends.KeyValue, omitRevisions bool) ([]byte, []byte) {
	b = append(b, '-', ' ')
	scratch = append(scratch[:0], kv.Key...)
	b = appendField(b, 0, fieldKey, scratch, false)
	if !omitRevisions {
		b = appendMeta(b, 2, kv.CreateRevision, kv.ModRevision, kv.Version)
	}
	return appendField(b, 2, fieldValue, kv.Value, true), scratch
}

// snapshot turns pages read at later revisions back into the state at rev,
// from the store's watch: the first event of each key after rev carries its
// state at rev (PrevKV), or says that it did not exist (Created).
type snapshot struct {
	rev    int64
	prefix string
	budget int64  // most bytes held in first
	cursor string // keys up to cursor are written

	events <-chan backends.Event
	cancel context.CancelFunc
	seen   int64 // the highest revision taken from events
	// first holds, for keys above cursor written since rev, their state at
	// rev (nil: absent at rev).
	first  map[string]*backends.KeyValue
	held   int64
	broken bool
}

// abandon gives the snapshot up: pages are written as read from now on.
func (s *snapshot) abandon() {
	s.broken = true
	s.first, s.held = nil, 0
	s.stop()
}

// stop ends the watch, if any.
func (s *snapshot) stop() {
	if s.cancel != nil {
		s.cancel()
		s.cancel, s.events = nil, nil
	}
}

// catchUp takes the store's events until it has seen every revision up to
// upTo. It fails only when ctx ends; any other failure abandons the
// snapshot.
func (s *snapshot) catchUp(ctx context.Context, store backends.Store, upTo int64) error {
	if s.broken || upTo <= max(s.rev, s.seen) {
		return nil
	}
	if s.events == nil {
		wctx, cancel := context.WithCancel(ctx)
		ch, err := store.Watch(wctx, "", s.rev+1)
		if err != nil {
			cancel()
			if ctx.Err() != nil {
				return ctx.Err()
			}
			s.abandon()
			return nil
		}
		s.events, s.cancel, s.first = ch, cancel, make(map[string]*backends.KeyValue)
	}
	for s.seen < upTo {
		select {
		case ev, ok := <-s.events:
			if !ok || ev.Err != nil {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				s.abandon()
				return nil
			}
			s.take(ev)
			if s.broken {
				return nil
			}
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// take records the state at s.rev of the event's key, if it is the key's
// first event since and the key is still to be written.
func (s *snapshot) take(ev backends.Event) {
	s.seen = max(s.seen, ev.KV.ModRevision)
	k := ev.KV.Key
	if !strings.HasPrefix(k, s.prefix) || k <= s.cursor {
		return
	}
	if _, ok := s.first[k]; ok {
		return
	}
	var prev *backends.KeyValue
	if ev.Type != backends.Created {
		if ev.PrevKV == nil {
			s.abandon() // not what the contract promises: no way to undo
			return
		}
		p := *ev.PrevKV
		prev = &p
		s.held += int64(len(p.Value))
	}
	s.first[k] = prev
	s.held += int64(len(k)) + 64
	if s.held > s.budget {
		s.abandon()
	}
}

// check abandons the snapshot if an item was written after s.rev and fix
// did not replace it: an event the store did not deliver.
func (s *snapshot) check(items []backends.KeyValue) {
	if s.broken {
		return
	}
	for i := range items {
		if items[i].ModRevision > s.rev {
			s.abandon()
			return
		}
	}
}

// fix returns a page's items (read after s.cursor, up to its last item if
// more, else to the end of the prefix) as they were at s.rev.
func (s *snapshot) fix(items []backends.KeyValue, more bool) []backends.KeyValue {
	if s.broken || len(s.first) == 0 {
		return items
	}
	hi := ""
	if more {
		hi = items[len(items)-1].Key
	}
	var keys []string
	for k := range s.first {
		if k > s.cursor && (hi == "" || k <= hi) {
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		return items
	}
	slices.Sort(keys)
	out := make([]backends.KeyValue, 0, len(items)+len(keys))
	use := func(k string) {
		if kv := s.first[k]; kv != nil {
			out = append(out, *kv)
			s.held -= int64(len(kv.Value))
		}
		s.held -= int64(len(k)) + 64
		delete(s.first, k)
	}
	i, j := 0, 0
	for i < len(items) || j < len(keys) {
		switch {
		case j < len(keys) && (i == len(items) || keys[j] < items[i].Key):
			use(keys[j]) // deleted since s.rev (or created and deleted)
			j++
		case j < len(keys) && keys[j] == items[i].Key:
			use(keys[j]) // written since s.rev
			i++
			j++
		default:
			out = append(out, items[i])
			i++
		}
	}
	return out
}
