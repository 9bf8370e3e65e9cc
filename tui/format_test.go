package tui

import (
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"

	"github.com/k3/k3-storage/engine/lifecycle"
	"github.com/k3/k3-storage/internal/units"
)

func TestFormatBytes(t *testing.T) {
	for n, want := range map[int64]string{
		0: "0 B", 1023: "1023 B", 1024: "1.0 KiB", 1536: "1.5 KiB", 40 << 20: "40.0 MiB", 3 << 30: "3.0 GiB", -5: "0 B",
	} {
		if got := units.Bytes(n); got != want {
			t.Errorf("units.Bytes(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestFormatCount(t *testing.T) {
	for n, want := range map[int64]string{0: "0", 999: "999", 1000: "1,000", 1000000: "1,000,000", -12345: "-12,345"} {
		if got := formatCount(n); got != want {
			t.Errorf("formatCount(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestFormatDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0: "0ms", 250 * time.Millisecond: "250ms", 1500 * time.Millisecond: "1.5s", 45 * time.Second: "45.0s",
		125 * time.Second: "2m05s", 2*time.Hour + 3*time.Minute: "2h03m",
	} {
		if got := formatDuration(d); got != want {
			t.Errorf("formatDuration(%v) = %q, want %q", d, got, want)
		}
	}
}

func TestETA(t *testing.T) {
	if d, ok := eta(10<<20, 2<<20); !ok || d != 5*time.Second {
		t.Errorf("eta = %v, %v", d, ok)
	}
	if _, ok := eta(10, 0); ok {
		t.Error("eta without a rate")
	}
}

func TestPullRate(t *testing.T) {
	p := newPullState()
	for i := 0; i <= 10; i++ {
		p.apply(at(time.Duration(i)*time.Second), pullAt(int64(i)<<20))
	}
	// Only the last five seconds count (plus one sample before them).
	if got := p.rate(); got != float64(1<<20) {
		t.Errorf("rate %v", got)
	}
	if len(p.samples) > 7 {
		t.Errorf("%d samples kept", len(p.samples))
	}
}

func TestClip(t *testing.T) {
	tests := []struct {
		name, in string
		width    int
		fn       func(string, int) string
		want     string
	}{
		{"fits", "abc", 5, clip, "abc"},
		{"cut", "abcdef", 4, clip, "abc…"},
		{"wide", "中文键名", 5, clip, "中文…"},
		{"left", "/registry/pods/default/a", 10, clipLeft, "…default/a"},
		{"middle", "/registry/pods/default/nginx", 16, clipMiddle, "/regi…ault/nginx"},
		{"fit pads", "ab", 4, fit, "ab  "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.fn(tt.in, tt.width); got != tt.want {
				t.Fatalf("%q → %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestWrapPlain(t *testing.T) {
	got := wrapPlain("abcdefghij\nxy", 4, 0)
	if strings.Join(got, "|") != "abcd|efgh|ij|xy" {
		t.Fatalf("%q", got)
	}
	if got := wrapPlain("abcdefghij", 4, 2); len(got) != 2 || got[1] != "efg…" {
		t.Fatalf("%q", got)
	}
	if got := wrapPlain("ab cd ef gh ij", 6, 2); len(got) != 2 || got[1] != "ef gh…" {
		t.Fatalf("%q: one mark, after the last word kept", got)
	}
}

func TestRenderValue(t *testing.T) {
	st := newStyles(true).value
	tests := []struct {
		name  string
		in    string
		kind  valueKind
		lines string
	}{
		{"empty", "", kindEmpty, ""},
		{"json object", `{"a":1,"b":[true,null]}`, kindJSON, "{|  \"a\": 1,|  \"b\": [|    true,|    null|  ]|}"},
		{"json scalar is text", `42`, kindText, "42"},
		{"yaml", "a: 1\nb:\n  - x\n", kindYAML, "a: 1|b:|  - x"},
		{"prose is text", "hello world", kindText, "hello world"},
		{"broken json is text", `{"a":`, kindText, `{"a":`},
		{"binary", "\x00\x01\x02", kindBinary, `\x00\x01\x02`},
		{"invalid utf8", "ok\xff", kindBinary, `ok\xff`},
		{"escapes in json strings", "{\"k\u202e\":\"\x1b\"}", kindText, "{\"k\\u{202e}\":\"\\x1b\"}"},
		{"bidi in valid json", "{\"k\u202e\":1}", kindJSON, "{|  \"k\\u{202e}\": 1|}"},
		{"escaped control in json", `{"k":"\u001b[31m"}`, kindJSON, `{|  "k": "\u001b[31m"|}`},
		{"json lines", "{\"a\":1}\n{\"b\":[2]}\n", kindJSON, "{|  \"a\": 1|}|{|  \"b\": [|    2|  ]|}"},
		{"concatenated json", `{"a":1}{"b":2}`, kindJSON, "{|  \"a\": 1|}|{|  \"b\": 2|}"},
		{"json-like yaml flow", `{a: 1, "b": [x, 'y'], c: {d: true}}`, kindYAML, "a: 1|\"b\":|  - x|  - 'y'|c:|  d: true"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kind, lines := renderValue([]byte(tt.in), st)
			if kind != tt.kind || strings.Join(lines, "|") != tt.lines {
				t.Fatalf("kind %v lines %q; want %v %q", kind, strings.Join(lines, "|"), tt.kind, tt.lines)
			}
		})
	}
}

func TestHexLine(t *testing.T) {
	v := []byte("{\"kind\":\"Pod\"}\n\x1b")
	if got := hexLine(v, 0, 16); got != `00000000  7b 22 6b 69 6e 64 22 3a  22 50 6f 64 22 7d 0a 1b  |{"kind":"Pod"}..|` {
		t.Errorf("%q", got)
	}
	if got := hexLine(v, 8, 8); got != `00000008  22 50 6f 64 22 7d 0a 1b  |"Pod"}..|` {
		t.Errorf("%q", got)
	}
	if got := hexLine(v, 16, 4); got != `00000010               ||` {
		t.Errorf("%q", got)
	}
	if got := hexLineCompact(v, 0, 16); got != `00000000 7b22 6b69 6e64 223a 2250 6f64 227d 0a1b  {"kind":"Pod"}..` {
		t.Errorf("%q", got)
	}
	if got := hexLineCompact(v, 16, 16); got != `00000010                                          ` {
		t.Errorf("%q", got)
	}
	if hexLines(0, 16) != 1 || hexLines(17, 16) != 2 {
		t.Error("hexLines")
	}
}

// TestHexLayout: the hex view holds as many bytes a line as fit the pane
// (16 in a 117-column terminal's 68-cell pane), and a line is never wider
// than its layout says, so it is never cut.
func TestHexLayout(t *testing.T) {
	v := []byte(strings.Repeat("0123456789abcdef", 2))
	for _, tt := range []struct {
		width, n int
		compact  bool
	}{
		{29, 4, false}, {44, 4, false}, {45, 8, false}, {65, 8, false}, {66, 16, true},
		{68, 16, true}, {77, 16, true}, {78, 16, false}, {117, 16, false},
	} {
		h := hexLayoutFor(tt.width)
		if h.n != tt.n || h.compact != tt.compact {
			t.Errorf("width %d: %+v, want %d bytes (compact %v)", tt.width, h, tt.n, tt.compact)
		}
		for off := 0; off < len(v); off += h.n {
			if w := ansiWidth(h.line(v, off)); w != h.width() || w > tt.width {
				t.Errorf("width %d: a line of %d cells, the layout says %d: %q", tt.width, w, h.width(), h.line(v, off))
			}
		}
	}
}

// TestHexViewWidth: at 117 columns the hex view shows 16 bytes a line.
func TestHexViewWidth(t *testing.T) {
	store := newStore(t, "k", strings.Repeat("0123456789abcdef", 4))
	d := newDriver(t, &countingStore{Store: store}, 117, 24)
	d.press("x")
	view := d.m.View()
	if !strings.Contains(view, "00000010 3031 3233 3435 3637 3839 6162 6364 6566  0123456789abcdef") {
		t.Fatalf("no 16-byte line:\n%s", view)
	}
}

func TestEditable(t *testing.T) {
	for in, want := range map[string]bool{
		"{\"a\":1}\nb": true, "a\tb": false, "中文": true, "\x1b[31m": false, "a\u202eb": false, "\xff": false, "a\u200bb": false, "\u009b": false,
	} {
		if got := editable([]byte(in)); got != want {
			t.Errorf("editable(%q) = %v", in, got)
		}
	}
}

func pullAt(done int64) lifecycle.Pull {
	return lifecycle.Pull{Image: "mysql:8.0", Done: done, Size: 100 << 20, Layers: 1}
}

func TestWrapPlainWords(t *testing.T) {
	tests := []struct {
		name  string
		in    string
		width int
		want  string // lines joined by |
	}{
		{"spaces", "pull image from registry failed", 12, "pull image|from|registry|failed"},
		{"no break inside a word", "lookup registry.example: no such host", 17, "lookup|registry.example:|no such host"},
		{"cjk between characters", "无法在本机提供数据库", 8, "无法在本|机提供数|据库"},
		{"no closing punctuation at a line start", "镜像无法拉取，改用本机", 12, "镜像无法拉|取，改用本机"},
		{"latin word inside cjk stays whole", "改用本机 mariadbd 启动", 12, "改用本机|mariadbd 启|动"},
		{"path breaks after a slash", "/root/.local/share/k3-storage", 14, "/root/.local/|share/|k3-storage"},
		{"list items hang", "  1. start Docker or point DOCKER_HOST at one", 20, "  1. start Docker or|     point|     DOCKER_HOST at|     one"},
		{"long word is cut", "abcdefghij", 4, "abcd|efgh|ij"},
		{"exact fit before a space", "abcd efgh", 4, "abcd|efgh"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := wrapPlain(tt.in, tt.width, 0)
			if strings.Join(got, "|") != tt.want {
				t.Fatalf("%q → %q, want %q", tt.in, strings.Join(got, "|"), tt.want)
			}
			for _, l := range got {
				if w := ansi.StringWidth(l); w > tt.width {
					t.Fatalf("line %q is %d cells wide, over %d", l, w, tt.width)
				}
			}
		})
	}
}
