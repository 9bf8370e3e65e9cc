package tui

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/charmbracelet/bubbles/cursor"
	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/k3/k3-storage/dump"
	"github.com/k3/k3-storage/internal/units"
)

// Export (E): the keys of the browsed level to a file in the format of
// `k3-storage export` (package dump), which `k3-storage import` reads.
// The user names the file (a name derived from the level is offered); an
// existing file is replaced only after a y. The export runs in the
// background, its progress in the status line; E again cancels it, and a
// cancelled or failed export leaves no file behind (dump.ExportFile writes
// a temporary file and renames it at the end).

// exportState is the export form and the export in flight.
type exportState struct {
	input  textinput.Model
	prefix string // the level exported
	path   string // the file, absolute
	ask    string // the question before replacing it
	gen    int
	cancel context.CancelFunc // nil: no export runs
	keys   *atomic.Int64      // entries written so far, set by the export's goroutine
	total  *atomic.Int64      // keys under the prefix when it began
}

// exportedMsg is the end of an export.
type exportedMsg struct {
	gen   int
	path  string
	stats dump.ExportStats
	err   error
}

// running reports an export in flight.
func (x *exportState) running() bool { return x.cancel != nil }

// startExport opens the file prompt, or cancels the export in flight.
func (b *browser) startExport(now time.Time) tea.Cmd {
	x := &b.export
	if x.running() {
		x.cancel()
		b.setStatus(statusInfo, txtExportCancelling, now, 3*time.Second)
		return nil
	}
	in := textinput.New()
	in.Prompt = ""
	in.CharLimit = 4096
	in.Cursor.SetMode(cursor.CursorStatic)
	in.SetValue(exportFileName(b.level))
	in.CursorEnd()
	in.Focus()
	x.input, x.prefix = in, b.level
	b.mode = modeExport
	return nil
}

// exportFileName is the file offered for a level: k3-export.yaml for the
// root, else k3-export-<the level's path>.yaml, keeping ASCII letters,
// digits, '.' and '_' and turning every run of other bytes into one '-'
// (no '/', so the file is in the working directory).
func exportFileName(level string) string {
	var sb strings.Builder
	dash := true
	for _, r := range level {
		if r < 0x80 && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_') {
			sb.WriteRune(r)
			dash = false
		} else if !dash {
			sb.WriteByte('-')
			dash = true
		}
	}
	name := strings.Trim(sb.String(), "-.")
	if len(name) > 80 {
		name = strings.Trim(name[:80], "-.")
	}
	if name == "" {
		return "k3-export.yaml"
	}
	return "k3-export-" + name + ".yaml"
}

// exportKey handles the file prompt and the overwrite question.
func (b *browser) exportKey(msg tea.KeyMsg, now time.Time) tea.Cmd {
	x := &b.export
	k := b.keys
	if b.mode == modeConfirmExport {
		b.mode = modeBrowse
		if key.Matches(msg, k.Confirm) {
			return b.runExport(now)
		}
		b.setStatus(statusInfo, txtExportNotOverwritten, now, 4*time.Second)
		return nil
	}
	switch {
	case key.Matches(msg, k.Cancel):
		b.mode = modeBrowse
		b.status = status{}
		return nil
	case key.Matches(msg, k.Next):
		name := strings.TrimSpace(x.input.Value())
		if name == "" {
			return nil
		}
		path, err := filepath.Abs(name)
		if err != nil {
			b.setStatus(statusErr, txtExportFailed+": "+Escape(err.Error()), now, 6*time.Second)
			return nil
		}
		x.path = path
		switch st, err := os.Stat(path); {
		case err == nil && st.IsDir():
			b.setStatus(statusErr, fmt.Sprintf(txtExportIsDir, Escape(path)), now, 6*time.Second)
			return nil
		case err == nil:
			b.mode = modeConfirmExport
			x.ask = fmt.Sprintf(txtExportOverwrite, Escape(path))
			return nil
		}
		b.mode = modeBrowse
		return b.runExport(now)
	}
	if msg.Type == tea.KeyRunes {
		msg.Runes = inertRunes(msg.Runes)
	}
	var cmd tea.Cmd
	x.input, cmd = x.input.Update(msg)
	return cmd
}

// runExport exports the level to x.path in the background.
func (b *browser) runExport(now time.Time) tea.Cmd {
	x := &b.export
	ctx, cancel := context.WithCancel(b.ctx)
	x.gen++
	x.cancel = cancel
	x.keys, x.total = new(atomic.Int64), new(atomic.Int64)
	keys, total := x.keys, x.total
	gen, path, store := x.gen, x.path, b.store
	opts := dump.ExportOptions{Prefix: x.prefix, Progress: func(p dump.ExportProgress) {
		keys.Store(p.Keys)
		total.Store(p.Total)
	}}
	b.status = status{}
	return func() tea.Msg {
		defer cancel()
		stats, err := dump.ExportFile(ctx, store, path, opts)
		return exportedMsg{gen: gen, path: path, stats: stats, err: err}
	}
}

// exported reports the end of an export.
func (b *browser) exported(msg exportedMsg, now time.Time) {
	x := &b.export
	if msg.gen != x.gen {
		return
	}
	x.cancel = nil
	switch {
	case errors.Is(msg.err, context.Canceled):
		b.setStatus(statusInfo, txtExportCancelled, now, 5*time.Second)
	case msg.err != nil:
		b.setStatus(statusErr, txtExportFailed+": "+Escape(oneLine(msg.err.Error())), now, 10*time.Second)
	default:
		b.setStatus(statusOK, fmt.Sprintf(txtExportDone, formatCount(msg.stats.Keys), Escape(msg.path),
			units.Bytes(msg.stats.Bytes), msg.stats.Revision), now, 10*time.Second)
	}
}

// exportLine is the status line while the prompt is open or an export
// runs ("" otherwise).
func (b *browser) exportLine(now time.Time) string {
	x := &b.export
	s := b.st
	switch {
	case b.mode == modeExport:
		level := txtRoot
		if x.prefix != "" {
			level = Escape(x.prefix)
		}
		return s.badge.Render(fmt.Sprintf(txtExportPrompt, level)) + x.input.View()
	case x.running():
		n, total := x.keys.Load(), x.total.Load()
		progress := formatCount(n)
		if total > 0 {
			progress += "/" + formatCount(total)
		}
		return s.dim.Render(s.spinner(now) + " " + fmt.Sprintf(txtExporting, progress, Escape(x.path)))
	}
	return ""
}
