package tui

import (
	"fmt"
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/k3/k3-storage/engine/lifecycle"
)

const nginxPod = `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"nginx-7d9f","namespace":"default","labels":{"app":"nginx"}},"spec":{"containers":[{"name":"nginx","image":"nginx:1.27","ports":[{"containerPort":80}]}]},"status":{"phase":"Running","podIP":"10.244.0.12"}}`

// clusterStore is a small cluster's worth of keys, including keys that do
// not start with "/".
func clusterStore(t *testing.T) []string {
	return []string{
		"/registry/pods/default/nginx-7d9f", nginxPod,
		"/registry/pods/default/redis-0", `{"kind":"Pod","metadata":{"name":"redis-0"}}`,
		"/registry/pods/kube-system/coredns-5d78c9869d-4xk2p", `{"kind":"Pod"}`,
		"/registry/pods/kube-system/coredns-5d78c9869d-9zq7m", `{"kind":"Pod"}`,
		"/registry/pods/kube-system/etcd-node-1", `{"kind":"Pod"}`,
		"/registry/services/default/kubernetes", `{"kind":"Service"}`,
		"/registry/configmaps/default/app-config", "# app settings\napiVersion: v1\nkind: ConfigMap\ndata:\n  mode: production # tuned\n  replicas: 3\n  hosts:\n    - a.example\n    - b.example\n",
		"/registry/minions/node-1", "node-1 Ready",
		"compact_rev_key", "12",
		"config/feature-flags", "enabled: true\n",
	}
}

// open moves down and presses enter, then waits for the level's path
// line and anything else the new level shows.
func (h *harness) open(down int, wantPath string, want ...string) {
	h.t.Helper()
	for i := 0; i < down; i++ {
		h.keys("down")
	}
	h.keys("enter")
	h.waitFor(append(want, wantPath+" · ")...)
}

// TestBrowserTree walks the tree from the root to a pod and shows its
// value pretty-printed, with the key counts of each directory.
func TestBrowserTree(t *testing.T) {
	clock := newTestClock()
	f := readyEngine(clock, newStore(t, clusterStore(t)...))
	h := startHarness(t, f, Options{}, 80, 24)
	h.waitFor("compact_rev_key", "共 10 个键")
	h.open(0, "/", "registry/")
	h.open(0, "/registry/", "configmaps/", "pods/")
	h.open(2, "/registry/pods/", "kube-system/")
	h.open(0, "/registry/pods/default/", `"app": "nginx"`, "共 2 个键")
	fm := h.golden()
	if fm.br.level != "/registry/pods/default/" || fm.br.val.kind != kindJSON {
		t.Fatalf("level %q kind %v", fm.br.level, fm.br.val.kind)
	}
}

// TestBrowserRoot shows the root level: the "/" tree, a directory that
// does not start with "/" and a plain key, with counts.
func TestBrowserRoot(t *testing.T) {
	clock := newTestClock()
	f := readyEngine(clock, newStore(t, clusterStore(t)...))
	h := startHarness(t, f, Options{}, 80, 24)
	h.waitFor("compact_rev_key", "共 10 个键")
	h.keys("down")
	h.waitFor("12")
	h.golden()
}

// TestBrowserYAML shows a YAML value highlighted, at a wider size.
func TestBrowserYAML(t *testing.T) {
	clock := newTestClock()
	f := readyEngine(clock, newStore(t, clusterStore(t)...))
	h := startHarness(t, f, Options{}, 100, 30)
	h.waitFor("compact_rev_key")
	h.open(0, "/")
	h.open(0, "/registry/", "configmaps/")
	h.open(0, "/registry/configmaps/", "default/")
	h.open(0, "/registry/configmaps/default/", "replicas")
	h.golden()
}

// TestBrowserHex toggles the hex view of a value with x.
func TestBrowserHex(t *testing.T) {
	clock := newTestClock()
	f := readyEngine(clock, newStore(t, clusterStore(t)...))
	h := startHarness(t, f, Options{}, 80, 24)
	h.waitFor("compact_rev_key")
	h.keys("down")
	h.waitFor("文本 · 2 B")
	h.keys("x")
	h.waitFor("00000000  31 32")
	h.golden()
}

// TestBrowserFlat lists every key below the level with t.
func TestBrowserFlat(t *testing.T) {
	clock := newTestClock()
	f := readyEngine(clock, newStore(t, clusterStore(t)...))
	h := startHarness(t, f, Options{}, 80, 24)
	h.waitFor("compact_rev_key")
	h.keys("t")
	h.waitFor(txtModeFlat+" · 1/10", "etcd-node-1")
	h.golden()
}

// TestBrowserFilter narrows a level to children containing a substring,
// and an anchored filter reads only a range.
func TestBrowserFilter(t *testing.T) {
	clock := newTestClock()
	f := readyEngine(clock, newStore(t, clusterStore(t)...))
	h := startHarness(t, f, Options{}, 80, 24)
	h.waitFor("compact_rev_key")
	h.open(0, "/")
	h.open(0, "/registry/", "pods/")
	h.open(2, "/registry/pods/", "kube-system/")
	h.open(1, "/registry/pods/kube-system/", "etcd-node-1")
	h.keys("/")
	h.typeText("DNS-5d78c9869d-9")
	h.waitFor(txtNoMatch) // upper case: case-sensitive
	for range "DNS-5d78c9869d-9" {
		h.keys("backspace")
	}
	h.typeText("dns-5d78c9869d-9")
	h.keys("enter")
	h.waitFor("过滤 dns-5d78c9869d-9", "1/1")
	fm := h.golden()
	if e, ok := fm.br.selected(); !ok || e.name != "/registry/pods/kube-system/coredns-5d78c9869d-9zq7m" {
		t.Fatalf("selected %+v", e)
	}
}

// TestHelpView lists every binding from the key map with ?.
func TestHelpView(t *testing.T) {
	clock := newTestClock()
	f := readyEngine(clock, newStore(t, clusterStore(t)...))
	h := startHarness(t, f, Options{}, 80, 24)
	h.waitFor("compact_rev_key")
	h.keys("?")
	h.waitFor(txtHelpTitle, hlpRefresh)
	h.golden()
}

// TestNarrowResize: the browser adapts when the terminal shrinks below
// two panes; enter shows the value on its own and esc goes back.
func TestNarrowResize(t *testing.T) {
	clock := newTestClock()
	f := readyEngine(clock, newStore(t, clusterStore(t)...))
	h := startHarness(t, f, Options{}, 80, 24)
	h.waitFor("compact_rev_key")
	h.tm.Send(tea.WindowSizeMsg{Width: 50, Height: 14})
	h.keys("down", "enter")
	h.waitFor("文本 · 2 B")
	h.golden()
}

// TestStartupLog shows the startup checklist again with L.
func TestStartupLog(t *testing.T) {
	clock := newTestClock()
	f := readyEngine(clock, newStore(t, "k", "v"))
	f.emit(lifecycle.Event{Kind: lifecycle.KindLog, Level: lifecycle.Warn, Detail: "未找到容器运行时：已尝试 DOCKER_HOST (未设置)"})
	h := startHarness(t, f, Options{}, 80, 24)
	h.waitFor("共 1 个键", "1 条警告")
	h.keys("L")
	h.waitFor(txtLogTitle, "内存存储已初始化")
	h.golden()
}

// TestOpenSoleRoot: a store whose keys all start with "/" holds nothing at
// the root but "/": the browser opens it at once. Going back up shows the
// root as it is.
func TestOpenSoleRoot(t *testing.T) {
	store := newStore(t, "/registry/pods/a", "1", "/registry/services/b", "2")
	d := newDriver(t, &countingStore{Store: store}, 80, 24)
	if d.b().level != "/" || d.selected() != "/registry/" {
		t.Fatalf("level %q selected %q, want inside /", d.b().level, d.selected())
	}
	d.press("left")
	if d.b().level != "" || d.selected() != "/" {
		t.Fatalf("after ←: level %q selected %q", d.b().level, d.selected())
	}
	// A root that holds more than one child is shown as it is.
	store2 := newStore(t, "/registry/pods/a", "1", "compact_rev_key", "2")
	if d := newDriver(t, &countingStore{Store: store2}, 80, 24); d.b().level != "" {
		t.Fatalf("level %q with two children at the root", d.b().level)
	}
}

// TestHelpScrolls: at 40×10 the help shows a few lines at a time, says
// which, and scrolls to its last line.
func TestHelpScrolls(t *testing.T) {
	d := newDriver(t, &countingStore{Store: newStore(t, "k", "v")}, 40, 10)
	d.press("?")
	total := len(d.b().helpLines())
	if total <= d.b().helpBody() {
		t.Fatalf("the help fits at 40×10 (%d lines)", total)
	}
	first := d.m.View()
	if !strings.Contains(first, fmt.Sprintf("行 1-%d/%d ↓", d.b().helpBody(), total)) {
		t.Fatalf("no position:\n%s", first)
	}
	d.press("end")
	last := d.m.View()
	if !strings.Contains(last, fmt.Sprintf("/%d", total)) || strings.Contains(last, "↓") || !strings.Contains(last, "写入") {
		t.Fatalf("the end of the help:\n%s", last)
	}
	d.press("home", "down")
	if d.b().helpOffset != 1 || d.b().mode != modeHelp {
		t.Fatalf("offset %d mode %v", d.b().helpOffset, d.b().mode)
	}
	d.press("esc")
	if d.b().mode != modeBrowse {
		t.Fatalf("mode %v after esc", d.b().mode)
	}
}

// TestFooterKeepsHelpAndQuit: however narrow the screen, the footer
// keeps ? and q, dropping the other bindings first.
func TestFooterKeepsHelpAndQuit(t *testing.T) {
	for _, w := range []int{40, 50, 60, 70, 80, 100} {
		d := newDriver(t, &countingStore{Store: newStore(t, "k", "v")}, w, 24)
		for _, mode := range []string{"", "enter"} {
			d.press(mode)
			lines := strings.Split(d.m.View(), "\n")
			footer := lines[len(lines)-1]
			if !strings.Contains(footer, "? 帮助") || !strings.Contains(footer, "q 退出") || ansiWidth(footer) > w {
				t.Errorf("width %d, mode %v: footer %q", w, d.b().mode, footer)
			}
		}
	}
}
