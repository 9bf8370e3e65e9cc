package tui

import (
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/k3/k3-storage/internal/units"
)

// Copying a key (c) or a value (C) to the clipboard of the terminal the
// console runs in, with the OSC 52 escape sequence: the terminal, not the
// machine the console runs on, keeps it, so it works over ssh. Bubble Tea
// v1 has no command for it; the sequence goes to the program's own output
// (terminal), between two frames.

// maxOSC52 is the longest base64 payload the console sends. Terminals cap
// what they accept (xterm and others at about 100,000 bytes of base64,
// some far lower) and drop longer sequences silently; the console says so
// instead.
const maxOSC52 = 100_000

// osc52 returns the sequence that puts data on the terminal's clipboard:
// ESC ] 52 ; c ; base64(data) BEL. The payload is base64, so nothing in
// data can end the sequence early or start another one.
func osc52(data []byte) string {
	return "\x1b]52;c;" + base64.StdEncoding.EncodeToString(data) + "\a"
}

// terminal is the program's output, shared with the commands that write
// sequences of their own: each Write is whole, under one lock, so a
// sequence never lands inside a frame (Bubble Tea writes each frame with
// one Write).
type terminal struct {
	mu sync.Mutex
	w  io.Writer
}

func (t *terminal) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.w.Write(p)
}

// ttyTerminal is a terminal on a file, which Bubble Tea recognises as a
// TTY (to size the screen, to restore its state) through Fd, Read and
// Close.
type ttyTerminal struct {
	terminal
	f *os.File
}

func newTTYTerminal(f *os.File) *ttyTerminal {
	return &ttyTerminal{terminal: terminal{w: f}, f: f}
}

func (t *ttyTerminal) Fd() uintptr                { return t.f.Fd() }
func (t *ttyTerminal) Read(p []byte) (int, error) { return t.f.Read(p) }

// Close leaves the file open: it is the process's standard output.
func (t *ttyTerminal) Close() error { return nil }

// errNoTerminal is a copy without a terminal to write to.
var errNoTerminal = errors.New("no terminal")

// copiedMsg is copyCmd's answer.
type copiedMsg struct {
	text string // the status to show on success
	err  error
}

// copyCmd sends data to the terminal's clipboard, or explains why not:
// too large for a terminal to take, or no terminal. what names it for the
// status line (escaped by the caller).
func (b *browser) copyCmd(data []byte, what string, now time.Time) tea.Cmd {
	if n := base64.StdEncoding.EncodedLen(len(data)); n > maxOSC52 {
		b.setStatus(statusErr, fmt.Sprintf(txtCopyTooLarge, what, units.Bytes(int64(len(data))),
			units.Bytes(int64(base64.StdEncoding.DecodedLen(maxOSC52)))), now, 6*time.Second)
		return nil
	}
	out, size := b.cfg.term, units.Bytes(int64(len(data)))
	return func() tea.Msg {
		if out == nil {
			return copiedMsg{err: errNoTerminal}
		}
		if _, err := io.WriteString(out, osc52(data)); err != nil {
			return copiedMsg{err: err}
		}
		return copiedMsg{text: fmt.Sprintf(txtCopied, what, size)}
	}
}

// copyKey copies the selected key (or directory prefix) as it is.
func (b *browser) copyKey(now time.Time) tea.Cmd {
	e, ok := b.selected()
	if !ok {
		return nil
	}
	return b.copyCmd([]byte(e.name), fmt.Sprintf(txtCopyKey, clipMiddle(Escape(e.name), 40)), now)
}

// copyValue copies the selected key's value, as it is, once read.
func (b *browser) copyValue(now time.Time) tea.Cmd {
	e, ok := b.selected()
	switch {
	case !ok || e.dir:
		b.setStatus(statusErr, txtCopyNeedsKey, now, 4*time.Second)
		return nil
	case b.val.key != e.name || !b.val.loaded:
		b.setStatus(statusInfo, txtValueLoading, now, 2*time.Second)
		return nil
	}
	v := b.val.kv.Value
	return b.copyCmd(v, fmt.Sprintf(txtCopyValue, clipMiddle(Escape(e.name), 40)), now)
}

func (b *browser) copied(msg copiedMsg, now time.Time) {
	if msg.err != nil {
		b.setStatus(statusErr, txtCopyFailed+": "+Escape(msg.err.Error()), now, 6*time.Second)
		return
	}
	b.setStatus(statusOK, msg.text, now, 5*time.Second)
}
