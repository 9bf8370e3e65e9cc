package dump_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/k3/k3-storage/backends"
	"github.com/k3/k3-storage/backends/memory"
	"github.com/k3/k3-storage/dump"
)

func newMemory(t *testing.T) *memory.Store {
	s := memory.New(memory.Options{})
	t.Cleanup(func() { s.Close() })
	return s
}

// sample returns an export of n keys /k/0000.. and the store they are in.
func sample(t *testing.T, n int) ([]byte, *memory.Store) {
	t.Helper()
	s := newMemory(t)
	for i := range n {
		if _, err := s.Create(t.Context(), fmt.Sprintf("/k/%04d", i), []byte(fmt.Sprint("value ", i))); err != nil {
			t.Fatal(err)
		}
	}
	file, _ := export(t, s, dump.ExportOptions{})
	return file, s
}

// TestImportStream imports from a reader that cannot seek: it is copied to
// a temporary file, which is removed afterwards.
func TestImportStream(t *testing.T) {
	file, src := sample(t, 50)
	dst := newMemory(t)
	tmp := t.TempDir()
	pr, pw := io.Pipe()
	go func() {
		pw.CloseWithError(func() error { _, err := pw.Write(file); return err }())
	}()
	stats, err := dump.Import(t.Context(), dst, pr, dump.ImportOptions{TempDir: tmp})
	if err != nil || stats.Created != 50 || stats.Bytes != int64(len(file)) {
		t.Fatalf("import: %+v, %v", stats, err)
	}
	sameData(t, "imported", all(t, dst), all(t, src))
	if left, _ := os.ReadDir(tmp); len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}

	// A malformed stream is rejected before any write, and its copy removed.
	bad := bytes.Replace(file, []byte("count: 50"), []byte("count: 51"), 1)
	_, err = dump.Import(t.Context(), newMemory(t), io.MultiReader(bytes.NewReader(bad)), dump.ImportOptions{TempDir: tmp})
	if !errors.Is(err, dump.ErrTruncated) {
		t.Errorf("bad stream: %v, want ErrTruncated", err)
	}
	if left, _ := os.ReadDir(tmp); len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}
}

// TestImportFile reads a file from disk, and a reader from its current
// offset.
func TestImportFile(t *testing.T) {
	file, src := sample(t, 20)
	path := filepath.Join(t.TempDir(), "export.yaml")
	if err := os.WriteFile(path, append([]byte("junk before the offset\n"), file...), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Seek(int64(len("junk before the offset\n")), io.SeekStart); err != nil {
		t.Fatal(err)
	}
	dst := newMemory(t)
	if stats, err := dump.Import(t.Context(), dst, f, dump.ImportOptions{}); err != nil || stats.Created != 20 {
		t.Fatalf("import from offset: %+v, %v", stats, err)
	}
	sameData(t, "imported", all(t, dst), all(t, src))

	// ImportFile names the file in errors.
	_, err = dump.ImportFile(t.Context(), newMemory(t), path, dump.ImportOptions{})
	var fe *dump.FormatError
	if !errors.As(err, &fe) || fe.Path != path || fe.Line != 1 || !strings.HasPrefix(err.Error(), path+":1: ") {
		t.Errorf("ImportFile of a file with junk: %v", err)
	}
	_, err = dump.ImportFile(t.Context(), newMemory(t), filepath.Join(t.TempDir(), "missing.yaml"), dump.ImportOptions{})
	if !errors.Is(err, dump.ErrUsage) || !errors.Is(err, os.ErrNotExist) || dump.ExitCode(err) != 2 {
		t.Errorf("ImportFile of a missing file: %v", err)
	}
}

func TestImportProgress(t *testing.T) {
	file, _ := sample(t, 1000)
	var got []dump.ImportProgress
	stats, err := dump.Import(t.Context(), newMemory(t), bytes.NewReader(file), dump.ImportOptions{
		Progress: func(p dump.ImportProgress) { got = append(got, p) },
	})
	if err != nil {
		t.Fatal(err)
	}
	var last dump.ImportProgress
	var done []dump.Phase
	for _, p := range got {
		if p.Phase < last.Phase || p.Phase == last.Phase && (p.Entries < last.Entries || p.Bytes < last.Bytes) {
			t.Errorf("progress went back: %+v after %+v", p, last)
		}
		if p.TotalBytes != int64(len(file)) {
			t.Errorf("TotalBytes %d, want %d", p.TotalBytes, len(file))
		}
		if p.Done {
			done = append(done, p.Phase)
		}
		last = p
	}
	if len(got) < 4 || len(done) != 2 || done[0] != dump.PhaseValidate || done[1] != dump.PhaseWrite {
		t.Fatalf("%d reports, phases done %v", len(got), done)
	}
	if last.Entries != 1000 || last.TotalEntries != 1000 || last.Created != stats.Created || last.Bytes != int64(len(file)) {
		t.Errorf("last report %+v", last)
	}
	if s := last.String(); !strings.Contains(s, "1000 / 1000") || !strings.Contains(s, "100%") {
		t.Errorf("progress line %q", s)
	}
}

// racingStore changes a key right after Import reads it, as another client
// would.
type racingStore struct {
	backends.Store
	key string
}

func (r *racingStore) Get(ctx context.Context, key string) (backends.KeyValue, error) {
	kv, err := r.Store.Get(ctx, key)
	if key == r.key {
		if _, err := r.Store.Put(ctx, key, []byte("theirs")); err != nil {
			return kv, err
		}
	}
	return kv, err
}

// TestImportConflict: a key changed between Import's read and its write is
// reported and keeps the other writer's value.
func TestImportConflict(t *testing.T) {
	file, _ := sample(t, 10)
	dst := newMemory(t)
	if _, err := dst.Put(t.Context(), "/k/0003", []byte("old")); err != nil {
		t.Fatal(err)
	}
	if _, err := dst.Put(t.Context(), "/k/0004", []byte("old")); err != nil {
		t.Fatal(err)
	}
	stats, err := dump.Import(t.Context(), &racingStore{Store: dst, key: "/k/0003"}, bytes.NewReader(file),
		dump.ImportOptions{Overwrite: true})
	if !errors.Is(err, dump.ErrNotAllImported) || dump.ExitCode(err) != 1 {
		t.Fatalf("import: %v, want ErrNotAllImported", err)
	}
	if stats.Created != 8 || stats.Updated != 1 || stats.Failed != 1 || stats.Skipped != 0 {
		t.Fatalf("stats %+v", stats)
	}
	r := stats.Reports[0]
	if len(stats.Reports) != 1 || r.Key != "/k/0003" || r.Reason != dump.ReasonConflict || !errors.Is(r.Err, backends.ErrConflict) {
		t.Fatalf("reports %+v", stats.Reports)
	}
	if !strings.Contains(r.String(), `"/k/0003"`) {
		t.Errorf("report line %q", r.String())
	}
	if kv, _ := dst.Get(t.Context(), "/k/0003"); string(kv.Value) != "theirs" {
		t.Errorf("conflicting key holds %q, want the other writer's value", kv.Value)
	}
	if kv, _ := dst.Get(t.Context(), "/k/0004"); string(kv.Value) != "value 4" {
		t.Errorf("overwritten key holds %q", kv.Value)
	}
}

// changingFile is a file whose content differs on the second read.
type changingFile struct {
	*bytes.Reader
	second []byte
	seeks  int
}

func (c *changingFile) Seek(off int64, whence int) (int64, error) {
	if whence == io.SeekStart && off == 0 {
		if c.seeks++; c.seeks == 2 { // the first rewinds after the size check
			c.Reader = bytes.NewReader(c.second)
		}
	}
	return c.Reader.Seek(off, whence)
}

func TestImportChanged(t *testing.T) {
	file, _ := sample(t, 10)
	edited := bytes.Replace(file, []byte("value 7"), []byte("value 8"), 1)
	dst := newMemory(t)
	_, err := dump.Import(t.Context(), dst, &changingFile{Reader: bytes.NewReader(file), second: edited}, dump.ImportOptions{})
	if !errors.Is(err, dump.ErrChanged) || !errors.Is(err, dump.ErrMalformed) {
		t.Fatalf("import of a changing file: %v, want ErrChanged", err)
	}
}

func TestImportStoreError(t *testing.T) {
	file, _ := sample(t, 10)
	dst := memory.New(memory.Options{})
	dst.Close()
	_, err := dump.Import(t.Context(), dst, bytes.NewReader(file), dump.ImportOptions{})
	if !errors.Is(err, backends.ErrClosed) || errors.Is(err, dump.ErrMalformed) || dump.ExitCode(err) != 1 {
		t.Fatalf("import into a closed store: %v", err)
	}
	if !strings.Contains(err.Error(), `"/k/0000"`) {
		t.Errorf("error %q does not name the key", err)
	}
}

func TestImportCancelled(t *testing.T) {
	file, _ := sample(t, 10)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	dst := newMemory(t)
	_, err := dump.Import(ctx, dst, bytes.NewReader(file), dump.ImportOptions{})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("import with a cancelled context: %v", err)
	}
	if n, _ := dst.Count(t.Context(), ""); n != 0 {
		t.Errorf("%d keys written", n)
	}
}

func TestImportMaxReports(t *testing.T) {
	file, src := sample(t, 30)
	for _, tt := range []struct{ max, want int }{{0, 30}, {5, 5}, {-1, 0}} {
		stats, err := dump.Import(t.Context(), src, bytes.NewReader(file), dump.ImportOptions{MaxReports: tt.max})
		if !errors.Is(err, dump.ErrNotAllImported) || stats.Skipped != 30 || len(stats.Reports) != tt.want {
			t.Errorf("MaxReports %d: %d reports, %d skipped, %v", tt.max, len(stats.Reports), stats.Skipped, err)
		}
	}
}

// TestImportUnsortedDuplicate finds a duplicate far from its first
// occurrence in a file whose keys are not in order.
func TestImportUnsortedDuplicate(t *testing.T) {
	var b strings.Builder
	b.WriteString("keys:\n")
	for i := range 2000 {
		fmt.Fprintf(&b, "- key: /k/%04d\n  value: v\n", (i*7919)%2000)
	}
	b.WriteString("- key: /k/1234\n  value: again\ncount: 2001\n")
	dst := newMemory(t)
	_, err := dump.Import(t.Context(), dst, strings.NewReader(b.String()), dump.ImportOptions{})
	var fe *dump.FormatError
	if !errors.As(err, &fe) || !errors.Is(err, dump.ErrDuplicateKey) || fe.Line != 4002 {
		t.Fatalf("import: %v, want a duplicate at line 4002", err)
	}
	first := 0
	for i := range 2000 {
		if (i*7919)%2000 == 1234 {
			first = 2 + 2*i
		}
	}
	if !strings.Contains(err.Error(), fmt.Sprint("第 ", first, " 行")) {
		t.Errorf("error %q does not name the first line %d", err, first)
	}
	if n, _ := dst.Count(t.Context(), ""); n != 0 {
		t.Errorf("%d keys written", n)
	}
	// Without the duplicate, the unsorted file imports.
	ok := strings.Replace(b.String(), "- key: /k/1234\n  value: again\ncount: 2001\n", "count: 2000\n", 1)
	if stats, err := dump.Import(t.Context(), dst, strings.NewReader(ok), dump.ImportOptions{}); err != nil || stats.Created != 2000 {
		t.Errorf("unsorted import: %+v, %v", stats, err)
	}
}

// TestMessagesEscapeKeys: a key with terminal escapes appears escaped in
// errors and reports.
func TestMessagesEscapeKeys(t *testing.T) {
	file := "keys:\n- key: \"\\e]0;pwned\\a\\e[2J\\u202e\"\ncount: 1\n"
	_, err := dump.Import(t.Context(), newMemory(t), strings.NewReader(file), dump.ImportOptions{})
	if !errors.Is(err, dump.ErrMissingField) {
		t.Fatalf("got %v", err)
	}
	if strings.ContainsAny(err.Error(), "\x1b\a\u202e") {
		t.Errorf("error text holds raw control characters: %q", err)
	}
	r := dump.KeyReport{Key: "\x1b[2J\xff", Line: 3, Reason: dump.ReasonExists}
	if s := r.String(); strings.ContainsAny(s, "\x1b") || !strings.Contains(s, `\x1b[2J\xff`) {
		t.Errorf("report %q", s)
	}
}

func TestExportOptions(t *testing.T) {
	s := newMemory(t)
	for _, k := range []string{"/a/1", "/a/2", "/b/1"} {
		if _, err := s.Create(t.Context(), k, []byte(k)); err != nil {
			t.Fatal(err)
		}
	}
	var progress []dump.ExportProgress
	file, stats := export(t, s, dump.ExportOptions{Prefix: "/a/", Progress: func(p dump.ExportProgress) {
		progress = append(progress, p)
	}})
	if stats.Keys != 2 || bytes.Contains(file, []byte("/b/1")) || !bytes.Contains(file, []byte("prefix: /a/\n")) {
		t.Errorf("export of /a/: %+v\n%s", stats, file)
	}
	if p := progress[len(progress)-1]; !p.Done || p.Keys != 2 || p.Total != 2 || p.Bytes != int64(len(file)) {
		t.Errorf("last progress %+v", p)
	}

	plain, _ := export(t, s, dump.ExportOptions{OmitRevisions: true})
	if bytes.Contains(plain, []byte("revision")) || bytes.Contains(plain, []byte("meta:")) {
		t.Errorf("export without revisions:\n%s", plain)
	}

	empty, stats := export(t, s, dump.ExportOptions{Prefix: "/none/"})
	if stats.Keys != 0 || !bytes.Contains(empty, []byte("keys: []\ncount: 0\n")) {
		t.Errorf("empty export:\n%s", empty)
	}
	if stats, err := dump.Import(t.Context(), newMemory(t), bytes.NewReader(empty), dump.ImportOptions{}); err != nil || stats.Entries != 0 {
		t.Errorf("import of an empty export: %+v, %v", stats, err)
	}

	_, err := dump.Export(t.Context(), s, io.Discard, dump.ExportOptions{Prefix: strings.Repeat("p", backends.MaxKeySize+1)})
	if !errors.Is(err, dump.ErrUsage) || !errors.Is(err, backends.ErrInvalidKey) || dump.ExitCode(err) != 2 {
		t.Errorf("export with a long prefix: %v", err)
	}
}

type failingWriter struct{}

var errDiskFull = errors.New("disk full")

func (failingWriter) Write([]byte) (int, error) { return 0, errDiskFull }

func TestExportWriteError(t *testing.T) {
	_, s := sample(t, 10)
	_, err := dump.Export(t.Context(), s, failingWriter{}, dump.ExportOptions{})
	if !errors.Is(err, errDiskFull) || dump.ExitCode(err) != 1 {
		t.Errorf("export to a failing writer: %v", err)
	}
}

// listCounter records the size of each page Export asks for and reads.
type listCounter struct {
	backends.Store
	pages []int
	bytes []int
}

func (l *listCounter) List(ctx context.Context, prefix string, opts backends.ListOptions) (backends.Page, error) {
	page, err := l.Store.List(ctx, prefix, opts)
	n := 0
	for _, kv := range page.Items {
		n += len(kv.Value)
	}
	l.pages, l.bytes = append(l.pages, opts.Limit), append(l.bytes, n)
	return page, err
}

// TestExportPageBytes: pages of large values are read a few at a time, so
// memory follows PageBytes rather than PageSize.
func TestExportPageBytes(t *testing.T) {
	s := newMemory(t)
	big := bytes.Repeat([]byte("v"), 1<<20)
	for i := range 40 {
		if _, err := s.Create(t.Context(), fmt.Sprintf("/big/%02d", i), big); err != nil {
			t.Fatal(err)
		}
	}
	l := &listCounter{Store: s}
	_, stats := export(t, l, dump.ExportOptions{PageBytes: 4 << 20})
	if stats.Keys != 40 {
		t.Fatalf("exported %d keys", stats.Keys)
	}
	for i, n := range l.bytes[1:] { // the first page is read before any size is known
		if n > 4<<20 {
			t.Errorf("page %d of %d bytes (limit %d), want at most 4 MiB", i+1, n, l.pages[i+1])
		}
	}
}

// TestExportFile: the file appears only when the export succeeds, with
// mode 0600; a failed export leaves the earlier file and no temporary one.
func TestExportFile(t *testing.T) {
	want, s := sample(t, 10)
	dir := t.TempDir()
	path := filepath.Join(dir, "out.yaml")
	if _, err := dump.ExportFile(t.Context(), s, path, dump.ExportOptions{}); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(path)
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("file holds %d bytes (%v), want the export's %d", len(got), err, len(want))
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", fi.Mode().Perm())
	}
	if _, err := s.Put(t.Context(), "/k/new", []byte("x")); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := dump.ExportFile(ctx, s, path, dump.ExportOptions{}); err == nil {
		t.Fatal("export with a cancelled context succeeded")
	}
	if got, _ := os.ReadFile(path); !bytes.Equal(got, want) {
		t.Errorf("a failed export changed the earlier file")
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("files left: %v", entries)
	}
}
