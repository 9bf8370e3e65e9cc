package dump

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"os"
	"slices"

	"github.com/k3/k3-storage/backends"
)

// DefaultMaxReports is how many skipped or failed keys ImportStats lists
// when ImportOptions.MaxReports is zero.
const DefaultMaxReports = 1000

// Progress is reported at most every progressEntries entries or
// progressBytes bytes, and at the end of each phase.
const (
	progressEntries = 256
	progressBytes   = 1 << 20
)

// ImportOptions configures Import. The zero value creates the keys that do
// not exist and reports the others.
type ImportOptions struct {
	// Overwrite replaces the value of keys that exist, each with a
	// compare-and-swap at the revision just read (a write, and so a new
	// revision and a watch event, even when the value is the same);
	// without it they are skipped and reported.
	Overwrite bool
	// Progress, when set, is called from the goroutine running Import
	// every 256 entries or 1 MiB read, and at the end of each phase (Done
	// set). It must return quickly; the CLI decides when to print.
	Progress func(ImportProgress)
	// TempDir is where a stream that cannot seek (a pipe) is copied to be
	// read twice; "" means os.TempDir(). The copy is removed at the end.
	TempDir string
	// MaxReports caps ImportStats.Reports; 0 means DefaultMaxReports,
	// negative lists none. The counts are always complete.
	MaxReports int
	// Path names the input in error messages; ImportFile sets it.
	Path string
}

// Phase is a stage of Import.
type Phase int

// Import validates the whole input, then writes.
const (
	PhaseValidate Phase = iota + 1
	PhaseWrite
)

// ImportProgress is reported to ImportOptions.Progress.
type ImportProgress struct {
	Phase        Phase
	Entries      int64 // entries read in this phase so far
	Bytes        int64 // bytes read in this phase so far
	TotalEntries int64 // entries in the file; known in PhaseWrite, else 0
	TotalBytes   int64 // size of the input; 0 while unknown (a stream being copied)
	Created      int64
	Updated      int64
	Skipped      int64
	Failed       int64
	Done         bool // the phase is complete
}

// Reason says why a key was not imported.
type Reason int

// Reasons of a KeyReport.
const (
	// ReasonExists: the key exists and Overwrite is off.
	ReasonExists Reason = iota + 1
	// ReasonConflict: the key changed (or was created or deleted) between
	// Import's read and its write; the other writer's change stands.
	ReasonConflict
)

// KeyReport is one key that was not imported.
type KeyReport struct {
	Key    string
	Line   int // line of the entry in the input
	Reason Reason
	Err    error // the store's error (wrapping ErrKeyExists, ErrConflict, ErrNotFound)
}

// ImportStats describes a finished (or failed) import.
type ImportStats struct {
	Entries int64 // entries in the input (once validated)
	Bytes   int64 // size of the input
	Created int64
	Updated int64
	Skipped int64 // existed, not overwritten
	Failed  int64 // conflicts
	// Reports lists the first MaxReports skipped or failed keys, in file
	// order.
	Reports []KeyReport
}

// ImportFile imports the file at path (see Import); error messages name it.
func ImportFile(ctx context.Context, store backends.Store, path string, opts ImportOptions) (ImportStats, error) {
	f, err := os.Open(path)
	if err != nil {
		return ImportStats{}, fmt.Errorf("%w: %w", ErrUsage, err)
	}
	defer f.Close()
	if opts.Path == "" {
		opts.Path = path
	}
	return Import(ctx, store, f, opts)
}

// Import reads a file in the format of this package from r and writes its
// keys through the Store contract, in file order: Create for a key that
// does not exist; for one that does, a report (ReasonExists) unless
// opts.Overwrite, and then Get and Update at the revision just read. A key
// that someone else changed or deleted between that read and the write is
// reported (ReasonConflict) and left as they left it: nothing is retried,
// so another writer's change is never overwritten unseen.
//
// Nothing is written unless the whole input is valid: Import reads it
// twice, first to validate it (syntax, missing fields, duplicate keys, key
// and value sizes, the final count), then to write. r is read from its
// current offset; if it cannot seek (a pipe), it is first copied to a
// temporary file in opts.TempDir while being validated, which takes disk
// space as large as the input. A seekable r must not change between the two
// reads: a difference found while writing is ErrChanged, with the keys
// before it already written. Memory does not grow with the number of keys;
// duplicate detection costs 8 bytes per key in one extra read, and only
// for files whose keys are not in ascending order.
//
// Errors: a *FormatError (ErrMalformed) when the input is rejected, before
// any write; ErrNotAllImported (with complete stats) when keys were
// skipped or failed; otherwise the store's, the reader's or the context's
// error, with the stats so far. Import does not close r.
func Import(ctx context.Context, store backends.Store, r io.Reader, opts ImportOptions) (ImportStats, error) {
	var stats ImportStats
	in, err := openInput(r, opts.TempDir)
	if err != nil {
		return stats, err
	}
	defer in.close()

	im := &importer{store: store, opts: opts, in: in, stats: &stats}
	if im.opts.MaxReports == 0 {
		im.opts.MaxReports = DefaultMaxReports
	}
	if err := im.validate(ctx); err != nil {
		return stats, err
	}
	if err := im.write(ctx); err != nil {
		return stats, err
	}
	if n := stats.Skipped + stats.Failed; n > 0 {
		return stats, fmt.Errorf(msgNotAllImported, ErrNotAllImported, stats.Skipped, stats.Failed)
	}
	return stats, nil
}

// input is the import's source, readable from its start as often as
// needed.
type input struct {
	rs   io.ReadSeeker
	base int64 // offset of the start
	size int64 // -1 until known
	// first is the reader of the first pass: rs, or for a stream the
	// stream copied into the temporary file rs as it is read.
	first io.Reader
	tmp   *os.File
}

func openInput(r io.Reader, tempDir string) (*input, error) {
	if rs, ok := r.(io.ReadSeeker); ok {
		if base, err := rs.Seek(0, io.SeekCurrent); err == nil {
			end, err := rs.Seek(0, io.SeekEnd)
			if err == nil {
				_, err = rs.Seek(base, io.SeekStart)
			}
			if err != nil {
				return nil, fmt.Errorf(msgImportRead, err)
			}
			return &input{rs: rs, base: base, size: end - base, first: rs}, nil
		}
	}
	tmp, err := os.CreateTemp(tempDir, "k3-storage-import-*.yaml")
	if err != nil {
		return nil, fmt.Errorf(msgImportSpool, err)
	}
	return &input{rs: tmp, size: -1, first: io.TeeReader(r, tmp), tmp: tmp}, nil
}

// rewind returns a reader of the input from its start.
func (in *input) rewind() (io.Reader, error) {
	if _, err := in.rs.Seek(in.base, io.SeekStart); err != nil {
		return nil, fmt.Errorf(msgImportRead, err)
	}
	return in.rs, nil
}

func (in *input) close() {
	if in.tmp != nil {
		in.tmp.Close()
		os.Remove(in.tmp.Name())
	}
}

// importer holds the state of one Import.
type importer struct {
	store backends.Store
	opts  ImportOptions
	in    *input
	stats *ImportStats

	seed   maphash.Seed
	digest uint64 // of the bytes read while validating
}

// hashingReader feeds what it reads into h.
type hashingReader struct {
	r io.Reader
	h *maphash.Hash
}

func (hr hashingReader) Read(p []byte) (int, error) {
	n, err := hr.r.Read(p)
	hr.h.Write(p[:n])
	return n, err
}

// validate reads the whole input once (and, for unsorted keys, twice more
// to look for duplicates), and fills stats.Entries and stats.Bytes.
func (im *importer) validate(ctx context.Context) error {
	im.seed = maphash.MakeSeed()
	var h maphash.Hash
	h.SetSeed(im.seed)
	d := newDecoder(hashingReader{im.in.first, &h}, im.opts.Path)
	prog := im.progress(PhaseValidate, d)
	var prev []byte
	prevLine := 0
	sorted := true
	for {
		e, err := d.next()
		if err != nil {
			return err
		}
		if e == nil {
			break
		}
		switch c := bytes.Compare(e.key, prev); {
		case c == 0 && prevLine > 0:
			return d.fail(e.keyLine, ErrDuplicateKey, msgDuplicateKey, QuoteKey(string(e.key)), prevLine)
		case c < 0:
			sorted = false
		}
		prev, prevLine = append(prev[:0], e.key...), e.keyLine
		if err := prog.step(ctx, false); err != nil {
			return err
		}
	}
	im.digest = h.Sum64()
	im.stats.Entries = d.entries
	im.stats.Bytes = d.lr.bytes
	im.in.size = d.lr.bytes
	if err := prog.step(ctx, true); err != nil {
		return err
	}
	if !sorted {
		return im.duplicates(ctx)
	}
	return nil
}

// duplicates finds two entries with the same key in an input whose keys are
// not in order: one read collects a hash of every key, and if two hashes are
// equal a second read compares the keys behind them.
func (im *importer) duplicates(ctx context.Context) error {
	hashes := make([]uint64, 0, im.stats.Entries)
	if err := im.eachEntry(ctx, func(e *entry, _ *decoder) error {
		hashes = append(hashes, maphash.Bytes(im.seed, e.key))
		return nil
	}); err != nil {
		return err
	}
	slices.Sort(hashes)
	suspects := make(map[uint64]bool)
	for i := 1; i < len(hashes); i++ {
		if hashes[i] == hashes[i-1] {
			suspects[hashes[i]] = true
		}
	}
	hashes = nil
	if len(suspects) == 0 {
		return nil
	}
	lines := make(map[string]int)
	return im.eachEntry(ctx, func(e *entry, d *decoder) error {
		if !suspects[maphash.Bytes(im.seed, e.key)] {
			return nil
		}
		if first, ok := lines[string(e.key)]; ok {
			return d.fail(e.keyLine, ErrDuplicateKey, msgDuplicateKey, QuoteKey(string(e.key)), first)
		}
		lines[string(e.key)] = e.keyLine
		return nil
	})
}

// eachEntry reads the (validated) input again and calls fn for each entry.
func (im *importer) eachEntry(ctx context.Context, fn func(*entry, *decoder) error) error {
	r, err := im.in.rewind()
	if err != nil {
		return err
	}
	d := newDecoder(r, im.opts.Path)
	for n := 0; ; n++ {
		e, err := d.next()
		if err != nil {
			return changed(err)
		}
		if e == nil {
			return nil
		}
		if n%progressEntries == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		if err := fn(e, d); err != nil {
			return err
		}
	}
}

// changed turns a format error on a second read, which the first read
// passed, into ErrChanged.
func changed(err error) error {
	var fe *FormatError
	if errors.As(err, &fe) {
		return fmt.Errorf("%w (%w)", ErrChanged, err)
	}
	return err
}

// write reads the input a second time and writes its keys.
func (im *importer) write(ctx context.Context) error {
	r, err := im.in.rewind()
	if err != nil {
		return err
	}
	var h maphash.Hash
	h.SetSeed(im.seed)
	d := newDecoder(hashingReader{r, &h}, im.opts.Path)
	prog := im.progress(PhaseWrite, d)
	for {
		e, err := d.next()
		if err != nil {
			return changed(err)
		}
		if e == nil {
			break
		}
		if err := im.put(ctx, e); err != nil {
			return err
		}
		if err := prog.step(ctx, false); err != nil {
			return err
		}
	}
	if d.entries != im.stats.Entries || h.Sum64() != im.digest {
		return ErrChanged
	}
	return prog.step(ctx, true)
}

// put writes one entry: Create, or for an existing key a report or, with
// Overwrite, Get then Update at the revision read.
func (im *importer) put(ctx context.Context, e *entry) error {
	key := string(e.key)
	_, err := im.store.Create(ctx, key, e.value)
	if err == nil {
		im.stats.Created++
		return nil
	}
	if !errors.Is(err, backends.ErrKeyExists) {
		return im.storeError(e, err)
	}
	if !im.opts.Overwrite {
		im.stats.Skipped++
		im.report(KeyReport{Key: key, Line: e.keyLine, Reason: ReasonExists, Err: err})
		return nil
	}
	cur, err := im.store.Get(ctx, key)
	if err == nil {
		_, err = im.store.Update(ctx, key, e.value, cur.ModRevision)
	}
	switch {
	case err == nil:
		im.stats.Updated++
	case errors.Is(err, backends.ErrConflict), errors.Is(err, backends.ErrNotFound):
		im.stats.Failed++
		im.report(KeyReport{Key: key, Line: e.keyLine, Reason: ReasonConflict, Err: err})
	default:
		return im.storeError(e, err)
	}
	return nil
}

func (im *importer) storeError(e *entry, err error) error {
	return fmt.Errorf(msgImportStore, QuoteKey(string(e.key)), e.keyLine, err)
}

func (im *importer) report(r KeyReport) {
	if len(im.stats.Reports) < im.opts.MaxReports {
		im.stats.Reports = append(im.stats.Reports, r)
	}
}

// progress reports one phase to opts.Progress and checks the context.
type progress struct {
	im        *importer
	phase     Phase
	d         *decoder
	lastN     int64
	lastBytes int64
}

func (im *importer) progress(phase Phase, d *decoder) *progress {
	return &progress{im: im, phase: phase, d: d}
}

// step is called after each entry, and with done at the end of the phase.
func (p *progress) step(ctx context.Context, done bool) error {
	n, b := p.d.entries, p.d.lr.bytes
	if !done && n-p.lastN < progressEntries && b-p.lastBytes < progressBytes {
		return nil
	}
	p.lastN, p.lastBytes = n, b
	if err := ctx.Err(); err != nil {
		return err
	}
	if p.im.opts.Progress == nil {
		return nil
	}
	s := p.im.stats
	pr := ImportProgress{
		Phase: p.phase, Entries: n, Bytes: b, Done: done,
		TotalBytes: max(p.im.in.size, 0),
		Created:    s.Created, Updated: s.Updated, Skipped: s.Skipped, Failed: s.Failed,
	}
	if p.phase == PhaseWrite {
		pr.TotalEntries = s.Entries
	}
	p.im.opts.Progress(pr)
	return nil
}
