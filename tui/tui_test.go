package tui

import (
	"bytes"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/exp/teatest"

	"github.com/k3/k3-storage/engine"
	"github.com/k3/k3-storage/engine/lifecycle"
)

func newMemoryEngine(t *testing.T) *engine.Engine {
	t.Helper()
	eng, err := engine.New(engine.Options{Backend: engine.Memory, ConfigFile: "configs/config-example.yaml"})
	if err != nil {
		t.Fatal(err)
	}
	return eng
}

func TestStartupReadyQuit(t *testing.T) {
	eng := newMemoryEngine(t)
	m := newModel(t.Context(), eng, Options{ConfigFile: "configs/config-example.yaml"}, newStyles(true), time.Now)
	tm := teatest.NewTestModel(t, m, teatest.WithInitialTermSize(80, 24))
	teatest.WaitFor(t, tm.Output(), func(b []byte) bool {
		return bytes.Contains(b, []byte(txtLive)) && bytes.Contains(b, []byte("memory")) &&
			bytes.Contains(b, []byte("configs/config-example.yaml"))
	}, teatest.WithDuration(10*time.Second))
	tm.Send(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("q")})
	tm.WaitFinished(t, teatest.WithFinalTimeout(10*time.Second))
	fm := tm.FinalModel(t).(model)
	if fm.state != stateDone || fm.exitCode() != 0 {
		t.Fatalf("final state %v, exit code %d, err %q", fm.state, fm.exitCode(), fm.err)
	}
	var done []string
	for _, r := range fm.dash.rows {
		if r.status == lifecycle.Done {
			done = append(done, r.stage.String())
		}
	}
	if got := strings.Join(done, ","); got != "config,start,connect,ready,stopping,close-store,stopped" {
		t.Fatalf("finished stages %s", got)
	}
	var summary strings.Builder
	fm.printSummary(&summary)
	if want := "正在关闭存储服务...\n存储连接已关闭\n存储服务已关闭\n"; summary.String() != want {
		t.Fatalf("summary %q, want %q", summary.String(), want)
	}
}

func TestSignalShutsDownVisibly(t *testing.T) {
	eng := newMemoryEngine(t)
	m := newModel(t.Context(), eng, Options{}, newStyles(false), time.Now)
	tm := teatest.NewTestModel(t, m, teatest.WithInitialTermSize(80, 24))
	teatest.WaitFor(t, tm.Output(), func(b []byte) bool { return bytes.Contains(b, []byte(txtLive)) },
		teatest.WithDuration(10*time.Second))
	tm.Send(stopMsg{})
	tm.WaitFinished(t, teatest.WithFinalTimeout(10*time.Second))
	if fm := tm.FinalModel(t).(model); fm.exitCode() != 0 || fm.state != stateDone {
		t.Fatalf("after a signal: state %v exit %d", fm.state, fm.exitCode())
	}
}

func TestEscape(t *testing.T) {
	cases := []struct{ in, want string }{
		{"/registry/pods/a", "/registry/pods/a"},
		{"\x1b[31mred\x1b[0m", `\x1b[31mred\x1b[0m`},
		{"a\nb\tc\r", `a\nb\tc\r`},
		{"bell\x07del\x7f", `bell\x07del\x7f`},
		{"c1\u009bq", `c1\u{009b}q`},
		{"bad\xff\xfeutf8", `bad\xff\xfeutf8`},
		{"cut\xe4\xb8", `cut\xe4\xb8`},
		{"surrogate\xed\xa0\x80", `surrogate\xed\xa0\x80`},
		{"evil\u202eexe.txt", `evil\u{202e}exe.txt`},
		{"zero\u200bwidth", `zero\u{200b}width`},
		{"中文键", "中文键"},
		{"\x1b]52;c;aGk=\x07", `\x1b]52;c;aGk=\x07`},
		// Invisible format characters (Cf), line and paragraph separators.
		{"line\u2028sep\u2029para", `line\u{2028}sep\u{2029}para`},
		{"soft\u00adhyphen", `soft\u{00ad}hyphen`},
		{"mongolian\u180evs", `mongolian\u{180e}vs`},
		{"dep\u206afmt\u206f", `dep\u{206a}fmt\u{206f}`},
		{"word\u2061joiner\u2064", `word\u{2061}joiner\u{2064}`},
		{"tag\U000e0001\U000e0041\U000e007f", `tag\u{e0001}\u{e0041}\u{e007f}`},
		{"tag\U000e0000unassigned\U000e0030", `tag\u{e0000}unassigned\u{e0030}`},
		{"arabic\u0600sign", `arabic\u{0600}sign`},
		{"bom\ufeff", `bom\u{feff}`},
	}
	for _, c := range cases {
		if got := Escape(c.in); got != c.want {
			t.Errorf("Escape(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// TestEscapeKeepsText: ordinary printable text of any script, including
// emoji and combining marks, passes unchanged.
func TestEscapeKeepsText(t *testing.T) {
	for _, s := range []string{
		"/registry/pods/default/nginx-7d9f",
		"中文键/日本語/한국어",
		"café naïve Ωμέγα Кириллица",
		"עברית العربية हिन्दी ไทย",
		"e\u0301 combining, ﬁ ligature, ½ fraction, ™ ©",
		"emoji 🚀 👍🏽 🇨🇳 \u2764\ufe0f",
		"spaces\u00a0nbsp\u3000ideographic",
		"",
	} {
		if got := Escape(s); got != s {
			t.Errorf("Escape(%q) = %q, want it unchanged", s, got)
		}
	}
}
