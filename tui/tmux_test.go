package tui

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/k3/k3-storage/internal/testbin"
	"github.com/k3/k3-storage/internal/testenv"
)

// tmuxSession drives a program in a detached tmux session on a private
// server (its own socket), so that it neither sees nor disturbs any other
// tmux.
type tmuxSession struct {
	t    *testing.T
	sock string
	name string
}

func (s *tmuxSession) tmux(args ...string) (string, error) {
	// -f /dev/null: no user configuration (a default-terminal of "screen",
	// say, would change what the program under test may draw).
	out, err := exec.Command("tmux", append([]string{"-f", "/dev/null", "-S", s.sock}, args...)...).CombinedOutput()
	return string(out), err
}

func (s *tmuxSession) send(keys ...string) {
	s.t.Helper()
	if out, err := s.tmux(append([]string{"send-keys", "-t", s.name}, keys...)...); err != nil {
		s.t.Fatalf("send-keys %q: %v\n%s", keys, err, out)
	}
}

func (s *tmuxSession) screen() string {
	out, _ := s.tmux("capture-pane", "-p", "-t", s.name)
	return out
}

// waitScreen polls the pane until it shows every want.
func (s *tmuxSession) waitScreen(want ...string) {
	s.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		scr := s.screen()
		missing := ""
		for _, w := range want {
			if !strings.Contains(scr, w) {
				missing = w
				break
			}
		}
		if missing == "" {
			return
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("the screen does not show %q after 20s:\n%s", missing, scr)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// waitFile polls until path exists and returns its content.
func waitFile(t *testing.T, path string, s *tmuxSession) string {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		if b, err := os.ReadFile(path); err == nil && len(b) > 0 {
			return string(b)
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not written after 20s; screen:\n%s", path, s.screen())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// waitBuffer polls until tmux's newest paste buffer holds want.
func waitBuffer(t *testing.T, s *tmuxSession, want string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		got, err := s.tmux("show-buffer")
		if err == nil && got == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("paste buffer %q (%v), want %q; screen:\n%s", got, err, want, s.screen())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// shellQuote quotes s for sh.
func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// hasColor reports SGR colour parameters in captured pane output.
func hasColor(s string) bool {
	sgr := regexp.MustCompile("\x1b\\[([0-9;]*)m")
	for _, m := range sgr.FindAllStringSubmatch(s, -1) {
		for _, p := range strings.Split(m[1], ";") {
			n, err := strconv.Atoi(p)
			if err == nil && (n >= 30 && n <= 38 || n >= 40 && n <= 48 || n >= 90 && n <= 97 || n >= 100 && n <= 107) {
				return true
			}
		}
	}
	return false
}

// startBinary runs bin in a fresh tmux session, in an empty directory (so
// the built-in example config, memory backend, is used), with extra
// environment settings; the shell writes the exit code to the returned
// file. The variables that change colour detection are set as in a
// developer's terminal: TERM is the pane's own (tmux-256color) and CI is
// cleared (CI runners set it, which termenv takes to mean "not a terminal",
// so the console would rightly draw without colour).
func startBinary(t *testing.T, bin string, env ...string) (*tmuxSession, string) {
	t.Helper()
	dir := t.TempDir()
	work := filepath.Join(dir, "work")
	if err := os.Mkdir(work, 0o755); err != nil {
		t.Fatal(err)
	}
	exitFile := filepath.Join(dir, "exit")
	s := &tmuxSession{t: t, sock: filepath.Join(dir, "tmux.sock"), name: fmt.Sprintf("k3tui-%d", os.Getpid())}
	envArgs := "-u CONFIG_PATH -u NO_COLOR -u CI -u CLICOLOR -u CLICOLOR_FORCE TERM=tmux-256color"
	for _, e := range env {
		envArgs += " " + shellQuote(e)
	}
	script := fmt.Sprintf("cd %s && env %s %s; echo EXIT=$? > %s", shellQuote(work), envArgs, shellQuote(bin), shellQuote(exitFile))
	if out, err := s.tmux("new-session", "-d", "-s", s.name, "-x", "100", "-y", "30", "sh", "-c", script); err != nil {
		t.Fatalf("tmux new-session: %v\n%s", err, out)
	}
	t.Cleanup(func() { s.tmux("kill-server") })
	return s, exitFile
}

// TestTmuxEndToEnd drives the real binary in a terminal: it starts on the
// memory backend (an empty directory, so the built-in example config),
// creates /registry/pods/default/bar with n / enter / ctrl+s, sees it in
// the tree and quits with q, exit code 0. Under NO_COLOR nothing is
// coloured.
func TestTmuxEndToEnd(t *testing.T) {
	_, err := exec.LookPath("tmux")
	testenv.Need(t, "tmux", err)
	if testing.Short() {
		t.Skip("builds and runs the binary; skipped with -short")
	}
	bin := testbin.Binary(t)

	t.Run("create", func(t *testing.T) {
		s, exitFile := startBinary(t, bin)
		s.waitScreen("memory", "● "+txtLive, txtEmptyLevel, "（内置）")
		if scr := s.screen(); strings.Contains(scr, "rgb:") || strings.Contains(scr, "11;") {
			t.Fatalf("a terminal reply leaked into the console:\n%s", scr)
		}
		if out, _ := s.tmux("capture-pane", "-p", "-e", "-t", s.name); !hasColor(out) {
			t.Errorf("no colour at all without NO_COLOR:\n%q", out)
		}
		s.send("n")
		s.waitScreen(txtNewTitle)
		s.send("-l", "/registry/pods/default/bar")
		s.waitScreen("键: /registry/pods/default/bar")
		s.send("Enter")
		s.waitScreen(txtValueHint)
		s.send("-l", `{"kind":"Pod"}`)
		s.waitScreen(`{"kind":"Pod"}`)
		s.send("C-s")
		s.waitScreen("已创建 /registry/pods/default/bar", "/registry/pods/default/ · 树", "▸  bar", `"kind": "Pod"`)
		// c and C copy the key and the value through OSC 52, which tmux
		// keeps as a paste buffer when set-clipboard is on.
		if out, err := s.tmux("set", "-g", "set-clipboard", "on"); err != nil {
			t.Fatalf("set-clipboard: %v\n%s", err, out)
		}
		for _, c := range []struct{ key, want string }{{"c", "/registry/pods/default/bar"}, {"C", `{"kind":"Pod"}`}} {
			s.send(c.key)
			waitBuffer(t, s, c.want)
		}
		// Up the tree: the new key is counted in each directory above it.
		s.send("Left")
		s.waitScreen("/registry/pods/ · 树", "default/", "共 1 个键")
		s.send("q")
		if got := strings.TrimSpace(waitFile(t, exitFile, s)); got != "EXIT=0" {
			t.Fatalf("exit: %s", got)
		}
	})

	t.Run("no-color", func(t *testing.T) {
		s, exitFile := startBinary(t, bin, "NO_COLOR=1")
		s.waitScreen("● "+txtLive, txtEmptyLevel)
		if out, _ := s.tmux("capture-pane", "-p", "-e", "-t", s.name); hasColor(out) {
			t.Errorf("colour under NO_COLOR:\n%q", out)
		}
		s.send("q")
		if got := strings.TrimSpace(waitFile(t, exitFile, s)); got != "EXIT=0" {
			t.Fatalf("exit: %s", got)
		}
	})
}
