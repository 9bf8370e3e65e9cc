package dump_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/k3/k3-storage/backends"
	"github.com/k3/k3-storage/backends/etcd"
	"github.com/k3/k3-storage/backends/etcd/etcdtest"
	"github.com/k3/k3-storage/backends/memory"
	"github.com/k3/k3-storage/backends/mysql"
	"github.com/k3/k3-storage/backends/mysql/mysqltest"
	"github.com/k3/k3-storage/dump"
)

// backend opens empty stores of one kind, each closed when the test ends.
type backend struct {
	name string
	open func(t *testing.T) backends.Store
}

func backendsUnderTest() []backend {
	return []backend{
		{"memory", func(t *testing.T) backends.Store {
			s := memory.New(memory.Options{})
			t.Cleanup(func() { s.Close() })
			return s
		}},
		{"mysql", func(t *testing.T) backends.Store {
			opts := mysqltest.NewDatabase(t)
			ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
			defer cancel()
			s, err := mysql.Open(ctx, opts)
			if err != nil {
				t.Fatalf("mysql.Open: %v", err)
			}
			t.Cleanup(func() { s.Close() })
			return s
		}},
		{"etcd", func(t *testing.T) backends.Store {
			// A private server each: the tests export every key.
			eps := etcdtest.New(t, etcdtest.Config{Direct: true}).Endpoints()
			ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
			defer cancel()
			s, err := etcd.Open(ctx, etcd.Options{Endpoints: eps})
			if err != nil {
				t.Fatalf("etcd.Open: %v", err)
			}
			t.Cleanup(func() { s.Close() })
			return s
		}},
	}
}

// hostileData returns keys and values that a careless exporter breaks:
// NUL, 0xFF and other invalid UTF-8, terminal escape sequences, YAML
// markers and keywords, blanks at either end, line breaks, and maximal
// keys and values, text and binary.
func hostileData() map[string][]byte {
	bigText := bytes.Repeat([]byte("{\"line\": \"text of a large value\"}\n"), backends.MaxValueSize/30)[:backends.MaxValueSize]
	bigBinary := make([]byte, backends.MaxValueSize)
	for i := range bigBinary {
		bigBinary[i] = byte(i*31 + i>>8)
	}
	data := map[string][]byte{
		"/registry/pods/default/nginx": []byte(`{"kind":"Pod","apiVersion":"v1"}`),
		"/big/text":                    bigText,
		"/big/binary":                  bigBinary,
		"/empty":                       {},
		"/multi-line":                  []byte("{\n  \"a\": 1,\n  \"b\": [\n    2\n  ]\n}\n"),
		"/trailing-newlines":           []byte("x\n\n\n"),
		"/crlf":                        []byte("a\r\nb\r\n"),
		"a\x00b":                       []byte("nul\x00inside"),
		"\x00":                         []byte{0},
		"\xff":                         []byte{0xff, 0xfe, 0x00},
		"\xc3\x28 invalid":             []byte("\xc3\x28"),
		"\x1b[31mred\x1b[0m":           []byte("\x1b]0;title\a\x1b[2J"),
		"---":                          []byte("---"),
		"...":                          []byte("...\n---\n"),
		"#":                            []byte("# not a comment"),
		" leading":                     []byte(" leading"),
		"trailing ":                    []byte("trailing "),
		"  ":                           []byte("  "),
		"true":                         []byte("true"),
		"null":                         []byte("null"),
		"~":                            []byte("~"),
		"1e3":                          []byte("0x1F"),
		"2001-12-14":                   []byte("12:30:00"),
		"- item":                       []byte("- item"),
		"key: value":                   []byte("key: value"),
		"'\"\\":                        []byte("'\"\\"),
		"a\nb":                         []byte("a\nb"),
		"\u202eevil":                   []byte("\u2066isolate\u2069"),
		"\u2028\u0085\ufeff":           []byte("\u2028\u0085\ufeff"),
		"/中文/键":                        []byte("中文的值 😀"),
		"/" + strings.Repeat("k", backends.MaxKeySize-1): []byte("longest key"),
		strings.Repeat("\xfe", backends.MaxKeySize):      []byte("longest binary key"),
	}
	return data
}

func fill(t *testing.T, s backends.Store, data map[string][]byte) {
	t.Helper()
	for k, v := range data {
		if _, err := s.Put(t.Context(), k, v); err != nil {
			t.Fatalf("Put %q: %v", k, err)
		}
	}
}

// all returns every key and value of s.
func all(t *testing.T, s backends.Store) map[string][]byte {
	t.Helper()
	got := make(map[string][]byte)
	after := ""
	for {
		page, err := s.List(t.Context(), "", backends.ListOptions{After: after, Limit: 7})
		if err != nil {
			t.Fatalf("List: %v", err)
		}
		for _, kv := range page.Items {
			got[kv.Key] = kv.Value
		}
		if !page.More {
			return got
		}
		after = page.Items[len(page.Items)-1].Key
	}
}

func sameData(t *testing.T, what string, got, want map[string][]byte) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: %d keys, want %d", what, len(got), len(want))
	}
	for k, v := range want {
		g, ok := got[k]
		if !ok {
			t.Errorf("%s: key %q missing", what, k)
		} else if !bytes.Equal(g, v) {
			t.Errorf("%s: key %q has %d bytes %.40q, want %d bytes %.40q", what, k, len(g), g, len(v), v)
		}
	}
}

func export(t *testing.T, s backends.Store, opts dump.ExportOptions) ([]byte, dump.ExportStats) {
	t.Helper()
	var buf bytes.Buffer
	stats, err := dump.Export(t.Context(), s, &buf, opts)
	if err != nil {
		t.Fatalf("Export: %v", err)
	}
	return buf.Bytes(), stats
}

// TestRoundTrip exports hostile keys and values from each backend, imports
// them into an empty store of the same kind, imports again without and
// with Overwrite, and compares.
func TestRoundTrip(t *testing.T) {
	for _, b := range backendsUnderTest() {
		t.Run(b.name, func(t *testing.T) {
			ctx := t.Context()
			data := hostileData()
			src, dst := b.open(t), b.open(t)
			fill(t, src, data)

			file, stats := export(t, src, dump.ExportOptions{})
			if stats.Keys != int64(len(data)) || !stats.Snapshot || stats.Bytes != int64(len(file)) {
				t.Fatalf("export stats %+v, want %d keys in a snapshot of %d bytes", stats, len(data), len(file))
			}
			if again, _ := export(t, src, dump.ExportOptions{}); !bytes.Equal(again, file) {
				t.Errorf("two exports of the same data differ")
			}

			is, err := dump.Import(ctx, dst, bytes.NewReader(file), dump.ImportOptions{})
			if err != nil || is.Created != int64(len(data)) || is.Entries != int64(len(data)) {
				t.Fatalf("import: %+v, %v", is, err)
			}
			sameData(t, "after import", all(t, dst), data)
			srcPlain, _ := export(t, src, dump.ExportOptions{OmitRevisions: true})
			dstPlain, _ := export(t, dst, dump.ExportOptions{OmitRevisions: true})
			if !bytes.Equal(srcPlain, dstPlain) {
				t.Errorf("exports without revisions of source and copy differ")
			}

			// Again, without Overwrite: every key is skipped and reported.
			is, err = dump.Import(ctx, dst, bytes.NewReader(file), dump.ImportOptions{})
			if !errors.Is(err, dump.ErrNotAllImported) || dump.ExitCode(err) != 1 {
				t.Fatalf("re-import: %v, want ErrNotAllImported", err)
			}
			if is.Skipped != int64(len(data)) || is.Created+is.Updated+is.Failed != 0 || len(is.Reports) != len(data) {
				t.Fatalf("re-import stats %+v", is)
			}
			for _, r := range is.Reports {
				if r.Reason != dump.ReasonExists || !errors.Is(r.Err, backends.ErrKeyExists) || r.Line == 0 {
					t.Errorf("report %+v", r)
				}
			}

			// Change every value at the source; with Overwrite the copy
			// follows.
			for k, v := range data {
				data[k] = append(bytes.Clone(v[:len(v)/2]), '!')
			}
			fill(t, src, data)
			file2, _ := export(t, src, dump.ExportOptions{})
			is, err = dump.Import(ctx, dst, bytes.NewReader(file2), dump.ImportOptions{Overwrite: true})
			if err != nil || is.Updated != int64(len(data)) || is.Created+is.Skipped+is.Failed != 0 {
				t.Fatalf("overwrite: %+v, %v", is, err)
			}
			sameData(t, "after overwrite", all(t, dst), data)
		})
	}
}

// writingStore writes to the store it wraps after its n-th List returns,
// as another client would between two pages of an export.
type writingStore struct {
	backends.Store
	t     *testing.T
	lists int
	after map[int]func(ctx context.Context, s backends.Store) error
}

func (w *writingStore) List(ctx context.Context, prefix string, opts backends.ListOptions) (backends.Page, error) {
	page, err := w.Store.List(ctx, prefix, opts)
	w.lists++
	if f := w.after[w.lists]; f != nil && err == nil {
		if err := f(ctx, w.Store); err != nil {
			w.t.Fatalf("write after list %d: %v", w.lists, err)
		}
	}
	return page, err
}

// writes changes keys on both sides of the first page: updates, deletes,
// creates, a delete and re-create, and writes outside the prefix.
func writes(ctx context.Context, s backends.Store) error {
	ops := []func() error{
		func() error { _, err := s.Put(ctx, "/s/005", []byte("written page")); return err },
		func() error { _, err := s.Put(ctx, "/s/050", []byte("later page")); return err },
		func() error { _, err := s.Put(ctx, "/s/050", []byte("twice")); return err },
		func() error { _, err := s.Delete(ctx, "/s/060", 0); return err },
		func() error { _, err := s.Create(ctx, "/s/060+", []byte("new")); return err },
		func() error { _, err := s.Delete(ctx, "/s/070", 0); return err },
		func() error { _, err := s.Create(ctx, "/s/070", []byte("re-created")); return err },
		func() error { _, err := s.Put(ctx, "/other", []byte("outside")); return err },
		func() error { _, err := s.Create(ctx, "/s/999", []byte("after the end")); return err },
	}
	for _, op := range ops {
		if err := op(); err != nil {
			return err
		}
	}
	return nil
}

// TestSnapshot writes to the store while it is exported, page by page, on
// each backend: the export must be byte for byte the export of the store
// as it was at the first page's revision.
func TestSnapshot(t *testing.T) {
	for _, b := range backendsUnderTest() {
		t.Run(b.name, func(t *testing.T) {
			ctx := t.Context()
			s := b.open(t)
			for i := range 100 {
				if _, err := s.Create(ctx, fmt.Sprintf("/s/%03d", i), []byte(fmt.Sprint("v", i))); err != nil {
					t.Fatal(err)
				}
			}
			opts := dump.ExportOptions{Prefix: "/s/", PageSize: 10}
			want, _ := export(t, s, opts)

			w := &writingStore{Store: s, t: t, after: map[int]func(context.Context, backends.Store) error{
				1: writes,
				3: func(ctx context.Context, s backends.Store) error {
					_, err := s.Delete(ctx, "/s/099", 0)
					return err
				},
			}}
			got, stats := export(t, w, opts)
			if !stats.Snapshot || stats.LastRevision == stats.Revision {
				t.Errorf("stats %+v: want a snapshot over pages read at different revisions", stats)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("export while writing:\n%s\nwant the snapshot:\n%s", got, want)
			}

			// Without the snapshot, the pages are as read, and the file says so.
			w.lists = 0
			w.after = map[int]func(context.Context, backends.Store) error{
				1: func(ctx context.Context, s backends.Store) error {
					_, err := s.Put(ctx, "/s/080", []byte("changed"))
					return err
				},
			}
			opts.SnapshotBytes = -1
			got, stats = export(t, w, opts)
			if stats.Snapshot {
				t.Errorf("stats %+v: want no snapshot", stats)
			}
			if !bytes.Contains(got, []byte("changed")) || !bytes.Contains(got, []byte(fmt.Sprintf("%d 至 %d", stats.Revision, stats.LastRevision))) {
				t.Errorf("export without snapshot lacks the later write or the note:\n%s", got)
			}
			if _, err := dump.Import(ctx, memory.New(memory.Options{}), bytes.NewReader(got), dump.ImportOptions{}); err != nil {
				t.Errorf("import of an export without snapshot: %v", err)
			}
		})
	}
}

// TestSnapshotCompacted: when the store's history no longer reaches back
// to the first page, the export goes on as read and says so.
func TestSnapshotCompacted(t *testing.T) {
	ctx := t.Context()
	s := memory.New(memory.Options{History: 4})
	defer s.Close()
	for i := range 30 {
		if _, err := s.Create(ctx, fmt.Sprintf("/s/%03d", i), []byte("v")); err != nil {
			t.Fatal(err)
		}
	}
	w := &writingStore{Store: s, t: t, after: map[int]func(context.Context, backends.Store) error{
		1: func(ctx context.Context, s backends.Store) error {
			for range 10 {
				if _, err := s.Put(ctx, "/s/025", []byte("busy")); err != nil {
					return err
				}
			}
			return nil
		},
	}}
	got, stats := export(t, w, dump.ExportOptions{PageSize: 10})
	if stats.Snapshot || stats.Keys != 30 {
		t.Errorf("stats %+v: want 30 keys, no snapshot", stats)
	}
	if !bytes.Contains(got, []byte("busy")) {
		t.Errorf("the later write is missing")
	}
}

// TestSnapshotWatchEnds: the watch Export starts for a snapshot ends with
// the export.
func TestSnapshotWatchEnds(t *testing.T) {
	s := newMemory(t) // closed after the leak check
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	for i := range 30 {
		if _, err := s.Create(t.Context(), fmt.Sprintf("/s/%03d", i), []byte("v")); err != nil {
			t.Fatal(err)
		}
	}
	w := &writingStore{Store: s, t: t, after: map[int]func(context.Context, backends.Store) error{
		1: func(ctx context.Context, s backends.Store) error {
			_, err := s.Put(ctx, "/s/020", []byte("later"))
			return err
		},
	}}
	if _, stats := export(t, w, dump.ExportOptions{PageSize: 10}); !stats.Snapshot || stats.LastRevision == stats.Revision {
		t.Fatalf("stats %+v: want a snapshot that watched", stats)
	}
}
