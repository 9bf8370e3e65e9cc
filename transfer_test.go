package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/k3/k3-storage/backends"
	"github.com/k3/k3-storage/backends/etcd"
	"github.com/k3/k3-storage/backends/etcd/etcdtest"
	"github.com/k3/k3-storage/backends/memory"
	"github.com/k3/k3-storage/dump"
)

// etcdConfig writes a config for the etcd at endpoints, with no container,
// and returns its path.
func etcdConfig(t *testing.T, endpoints []string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "etcd.yaml")
	cfg := fmt.Sprintf("storage:\n  type: etcd\n  etcd:\n    endpoints: [%s]\n    container: {auto: false}\n", strings.Join(endpoints, ", "))
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// runCmd runs the program in-process to its end and returns its exit code
// and output.
func runCmd(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(t.Context(), make(chan struct{}), args, noEnv, strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

// TestExportImport: keys written to a file by export come back by import
// into another store, byte for byte, hostile keys and all; a second import
// skips and reports every key (exit 1); --overwrite updates them (exit 0);
// a malformed file is refused before any write (exit 2).
func TestExportImport(t *testing.T) {
	ctx := t.Context()
	// The source: a file written from a memory store by the dump package
	// (what an export of another k3 gives).
	src := memory.New(memory.Options{})
	defer src.Close()
	keys := map[string][]byte{
		"/registry/pods/default/web": []byte(`{"kind":"Pod","status":{"phase":"Running"}}`),
		"/k\x00nul":                  []byte("nul key"),
		"/k\xffbinary":               {0xff, 0x00, 0x1b, '[', '3', '1', 'm'},
		"/k\x1b[31mred":              []byte("escape\x1b]52;c;eA==\x07"),
		"/large":                     bytes.Repeat([]byte{0xab}, backends.MaxValueSize),
	}
	for k, v := range keys {
		if _, err := src.Create(ctx, k, v); err != nil {
			t.Fatal(err)
		}
	}
	file := filepath.Join(t.TempDir(), "keys.yaml")
	if _, err := dump.ExportFile(ctx, src, file, dump.ExportOptions{}); err != nil {
		t.Fatal(err)
	}

	eps := etcdtest.Start(t)
	cfg := etcdConfig(t, eps)
	if code, _, stderr := runCmd(t, "", "import", file, "--config", cfg); code != 0 {
		t.Fatalf("import: exit %d\n%s", code, stderr)
	}
	store, err := etcd.Open(ctx, etcd.Options{Endpoints: eps})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	for k, v := range keys {
		kv, err := store.Get(ctx, k)
		if err != nil || !bytes.Equal(kv.Value, v) {
			t.Fatalf("key %q after import: %v (value %d bytes, want %d)", k, err, len(kv.Value), len(v))
		}
	}

	code, _, stderr := runCmd(t, "", "import", "--config", cfg, file)
	if code != 1 || strings.Count(stderr, "\n") < len(keys) {
		t.Fatalf("second import: exit %d, want 1 with every key reported\n%s", code, stderr)
	}
	if _, err := store.Put(ctx, "/registry/pods/default/web", []byte("changed")); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := runCmd(t, "", "import", file, "--overwrite", "--config", cfg); code != 0 {
		t.Fatalf("import --overwrite: exit %d\n%s", code, stderr)
	}
	if kv, _ := store.Get(ctx, "/registry/pods/default/web"); string(kv.Value) != string(keys["/registry/pods/default/web"]) {
		t.Fatalf("--overwrite left %q", kv.Value)
	}

	// Export to stdout gives the same keys and values as the source.
	code, stdout, stderr := runCmd(t, "", "export", "--no-revisions", "--config", cfg)
	if code != 0 {
		t.Fatalf("export: exit %d\n%s", code, stderr)
	}
	var want bytes.Buffer
	if _, err := dump.Export(ctx, src, &want, dump.ExportOptions{OmitRevisions: true}); err != nil {
		t.Fatal(err)
	}
	if stdout != want.String() {
		t.Fatalf("export of the imported keys differs from the source's")
	}

	// From stdin, malformed: nothing is written, exit 2, the line named.
	bad := "format: k3-storage-export/1\nkeys:\n- key: /new/a\n  value: a\n- key: /new/b\n  value: !!binary ***\ncount: 2\n"
	code, _, stderr = runCmd(t, bad, "import", "-", "--config", cfg)
	if code != 2 || !strings.Contains(stderr, "第 6 行") {
		t.Fatalf("malformed import: exit %d, want 2 naming line 6\n%s", code, stderr)
	}
	if n, err := store.Count(ctx, "/new/"); err != nil || n != 0 {
		t.Fatalf("a malformed file wrote %d keys (%v)", n, err)
	}
}

// TestTransferUsage: the commands' own usage errors, exit 2.
func TestTransferUsage(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"import"}, "缺少要导入的文件"},
		{[]string{"export", "--prefx", "/a"}, "是否想写 --prefix"},
		{[]string{"export", "-o", ""}, "-o 不能为空"},
		{[]string{"import", "a.yaml", "b.yaml"}, `多余的参数 "b.yaml"`},
		{[]string{"exprot"}, "是否想写 export"},
	} {
		code, _, stderr := runCmd(t, "", tt.args...)
		if code != 2 || !strings.Contains(stderr, tt.want) {
			t.Errorf("%q: exit %d, stderr %q, want 2 and %q", tt.args, code, stderr, tt.want)
		}
	}
}
