package tui

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/k3/k3-storage/backends"
	"github.com/k3/k3-storage/dump"
)

// TestExportLevel: E offers a file named after the level, exports the
// level's keys (and only those) in the format `k3-storage import` reads,
// and replaces an existing file only after a y.
func TestExportLevel(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	clock := newTestClock()
	store := newStore(t,
		"/registry/pods/default/a", `{"kind":"Pod"}`,
		"/registry/pods/default/b", "line one\nline two\n",
		"/registry/pods/kube-system/c", "\xff\x00binary",
		"/registry/services/s", `{"kind":"Service"}`)
	h := startHarness(t, readyEngine(clock, store), Options{}, 120, 30)
	h.waitFor("共 4 个键")
	h.descend("/registry/")
	h.open(0, "/registry/pods/", "kube-system/")
	h.keys("E")
	h.waitFor("导出 /registry/pods/ 下的键到文件: ", "k3-export-registry-pods.yaml")
	h.keys("enter")
	path := filepath.Join(dir, "k3-export-registry-pods.yaml")
	h.waitFor("已导出 3 个键到 " + path)

	// The file holds the level's keys and values as they are.
	into := newStore(t)
	if _, err := dump.ImportFile(context.Background(), into, path, dump.ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	page, err := into.List(context.Background(), "", backends.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Items) != 3 || page.Items[2].Key != "/registry/pods/kube-system/c" || string(page.Items[2].Value) != "\xff\x00binary" {
		t.Fatalf("imported %+v", page.Items)
	}
	before, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}

	// Again: the file exists, and any key but y keeps it.
	if _, err := store.Put(context.Background(), "/registry/pods/default/a", []byte(`{"kind":"Pod","v":2}`)); err != nil {
		t.Fatal(err)
	}
	h.keys("E", "enter")
	h.waitFor("已存在：按 y 覆盖")
	h.keys("n")
	h.waitFor(txtExportNotOverwritten)
	if after, _ := os.ReadFile(path); string(after) != string(before) {
		t.Fatal("the file changed without a y")
	}
	h.keys("E", "enter")
	h.waitFor("已存在：按 y 覆盖")
	h.keys("y")
	h.waitFor("已导出 3 个键到")
	h.finish()
	if after, _ := os.ReadFile(path); string(after) == string(before) {
		t.Fatal("the file was not replaced after y")
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".*.tmp")); len(left) > 0 {
		t.Fatalf("temporary files left: %v", left)
	}
}

// TestExportFileName: the offered name is safe whatever the level holds.
func TestExportFileName(t *testing.T) {
	for level, want := range map[string]string{
		"":                   "k3-export.yaml",
		"/":                  "k3-export.yaml",
		"/registry/pods/":    "k3-export-registry-pods.yaml",
		"/a/../../etc/":      "k3-export-a-..-..-etc.yaml",
		"/x\x1b[2J/ünï/":     "k3-export-x-2J-n.yaml",
		"/v1.2/config_maps/": "k3-export-v1.2-config_maps.yaml",
	} {
		if got := exportFileName(level); got != want {
			t.Errorf("exportFileName(%q) = %q, want %q", level, got, want)
		}
	}
}

// TestQuitWaitsForExport: quitting cancels an export in flight and waits
// for it to end, so that it removes its temporary file before the process
// exits.
func TestQuitWaitsForExport(t *testing.T) {
	clock := newTestClock()
	m := newModel(t.Context(), readyEngine(clock, newStore(t)), Options{}, newStyles(true), clock.Now)
	m.br = newBrowser(t.Context(), newStore(t), browserConfig{styles: m.styles, keys: m.keys, clock: clock.Now})
	m.br.export.gen, m.br.export.cancel = 1, func() {}
	m.state, m.shutdownDone, m.eventsClosed = stateStopping, true, true
	if next, _ := m.maybeQuit(); next.(model).state == stateDone {
		t.Fatal("quit while the export runs")
	}
	next, _ := m.Update(exportedMsg{gen: 1, err: context.Canceled})
	if next.(model).state != stateDone {
		t.Fatal("did not quit once the export ended")
	}
}
