package tui

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/k3/k3-storage/backends"
	"github.com/k3/k3-storage/engine/lifecycle"
)

// Hostile keys and values: terminal escape sequences (colour, screen
// clear, OSC 52 clipboard write, OSC 8 link), C0/C1 control characters,
// invalid UTF-8 and bidi overrides. None of their bytes may reach the
// terminal.
func hostile() []string {
	return []string{
		"/evil/\x1b[31mRED\x1b[0m", "\x1b]52;c;ZXZpbA==\x07 clipboard\n\x1b[2J cleared",
		"/evil/bell\x07\x08back", `{"name":"` + "\u202e" + `txt.exe","note":"bidi in JSON","ctl":"\u001b[31m"}`,
		"/evil/bad\xff\xfeutf8", "\xff\xfe\x00\x1b[31mbinary",
		"/evil/\u202egnp.exe", "kind: \x1b]8;;http://evil.example\x07link\x1b]8;;\x07\nc1: \u009b31m",
		"/evil/osc\x1b]52;c;aGk=\x07", "plain",
		"/evil/zero\u200bwidth\u2066iso\u2069", "a\tb\r\n",
	}
}

// payloads are byte strings that must never appear in the output.
func payloads() []string {
	return []string{
		"\x1b[31mRED", "\x1b]52;", "\x07", "\x08", "\x1b[2J cleared", "\xff\xfe", "\u202e", "\x1b]8;;",
		"\u009b", "\u200b", "\u2066", "\x00",
	}
}

func checkInert(t *testing.T, out []byte) {
	t.Helper()
	for _, p := range payloads() {
		if i := bytes.Index(out, []byte(p)); i >= 0 {
			lo, hi := max(i-40, 0), min(i+40, len(out))
			t.Errorf("raw %q reached the terminal: …%q…", p, out[lo:hi])
		}
	}
}

// TestHostileData browses keys and values full of escape sequences and
// control characters: every one is shown escaped, in the list, the value
// pane, the hex view, the change feed, the header and error messages.
func TestHostileData(t *testing.T) {
	clock := newTestClock()
	store := newStore(t, hostile()...)
	f := readyEngine(clock, store)
	f.emit(lifecycle.Event{Kind: lifecycle.KindLog, Level: lifecycle.Warn, Detail: "warn \x1b]52;c;ZXZpbA==\x07 \u202ewarn"})
	h := startHarness(t, f, Options{ConfigFile: "conf\x1b[31m.yaml"}, 100, 30)
	h.waitFor("共 6 个键")
	h.open(0, "/evil/", `\x1b[31mRED\x1b[0m`, `\x1b]52;c;ZXZpbA==\x07 clipboard`, `\x1b[2J cleared`)
	h.keys("down")
	h.waitFor(`bad\xff\xfeutf8`, txtKindBinary, "|....[31m|")
	h.keys("x")
	h.waitFor(`\x00\x1b[31mbinary`)
	h.keys("x", "down")
	h.waitFor(`\u{202e}txt.exe`, `bell\x07\x08back`, `"\u001b[31m"`)
	h.keys("down")
	h.waitFor(`osc\x1b]52;c;aGk=\x07`, "plain")
	h.keys("down")
	h.waitFor(`a\tb\r`)
	h.keys("down")
	h.waitFor(`\u{202e}gnp.exe`, `\x1b]8;;http://evil.example\x07link`, `\u{009b}31m`)
	// The editor refuses values it cannot show inert.
	h.keys("e")
	h.waitFor(txtEditUnsafe)
	// A hostile key in the change feed and in a write error.
	if _, err := store.Create(context.Background(), "/evil/new\x1b]52;c;bmV3\x07", []byte("x")); err != nil {
		t.Fatal(err)
	}
	h.waitFor(`new\x1b]52;c;bmV3\x07`)
	fm := h.golden()
	checkInert(t, h.output())
	checkInert(t, []byte(fm.View()))
	if got := writeError(opUpdate, errors.New("boom \x1b]52;c;eA==\x07"), time.Second); strings.Contains(got, "\x1b") {
		t.Errorf("write error not escaped: %q", got)
	}
	var sum bytes.Buffer
	fm.dash.log = append(fm.dash.log, logLine{lifecycle.StageStopping, "stop \x1b[2J cleared"})
	fm.printSummary(&sum)
	checkInert(t, sum.Bytes())
}

// TestHostileStartup: hostile text in engine events (a pull's image and
// layer status, an attempt's address and error, a warning, a stage's
// error) is inert on the dashboard and in the failure message.
func TestHostileStartup(t *testing.T) {
	clock := newTestClock()
	f := newFakeEngine(clock, nil)
	f.backend, f.address = "mysql", "evil\x1b[2J cleared:3306"
	f.release = make(chan struct{})
	h := startHarness(t, f, Options{ConfigFile: "x\u202e.yaml"}, 100, 30)
	f.stage(lifecycle.StagePull, lifecycle.Running, "pull \x07", at(0))
	f.emit(lifecycle.Event{Kind: lifecycle.KindPull, Stage: lifecycle.StagePull, Pull: &lifecycle.Pull{
		Image: "img\x1b]52;c;eA==\x07", Layer: "l\x1b[31mRED", Phase: lifecycle.PhaseUnknown, Status: "Downloading\x08", Current: 5, Total: 10, Layers: 1}})
	f.emit(lifecycle.Event{Kind: lifecycle.KindAttempt, Stage: lifecycle.StageConnect, Err: errors.New("refused \x1b]8;;http://x\x07"),
		Attempt: &lifecycle.Attempt{N: 1, Address: "a\u202eb", Elapsed: time.Second, Budget: 45 * time.Second, NextDelay: time.Second}})
	f.emit(lifecycle.Event{Kind: lifecycle.KindLog, Level: lifecycle.Warn, Detail: "w \xff\xfe \u009b31m"})
	f.emit(lifecycle.Event{Kind: lifecycle.KindStage, Stage: lifecycle.StageConnect, Status: lifecycle.Running, Detail: "detail \x00"})
	h.waitFor(`img\x1b]52;c;eA==\x07`, `refused \x1b]8;;http://x\x07`, `w \xff\xfe \u{009b}31m`)
	f.startErr = backends.Permanent(errors.New("denied \x1b[31mRED\x1b]52;c;eA==\x07"))
	close(f.release)
	h.waitFor(txtFailed, `denied \x1b[31mRED`)
	h.keys("q")
	fm := h.final()
	checkInert(t, h.output())
	checkInert(t, []byte(fm.View()))
	var sum bytes.Buffer
	fm.printSummary(&sum)
	checkInert(t, sum.Bytes())
}
