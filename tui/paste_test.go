package tui

import (
	"encoding/json"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/charmbracelet/bubbles/textarea"
	tea "github.com/charmbracelet/bubbletea"
)

// Shapes of pasted text.
const (
	shapeLines   = iota // pretty-printed JSON: many short lines with spaces
	shapeOneLine        // compact JSON on one line: few key messages
	shapeSpaced         // JSON on one line with a space after , and : (one key message a word)
)

// pasteText is about size bytes of Kubernetes-like JSON in the given shape.
func pasteText(size, shape int) string {
	type container struct {
		Name  string            `json:"name"`
		Image string            `json:"image"`
		Env   map[string]string `json:"env"`
	}
	pod := func(i int) any {
		return map[string]any{
			"apiVersion": "v1", "kind": "Pod",
			"metadata": map[string]any{"name": fmt.Sprintf("web-%d", i), "namespace": "default", "labels": map[string]string{"app": "web", "tier": "frontend"}},
			"spec":     map[string]any{"containers": []container{{Name: "web", Image: "nginx:1.27", Env: map[string]string{"MODE": "production", "REPLICA": fmt.Sprint(i)}}}},
		}
	}
	spaced := strings.NewReplacer(",", ", ", ":", ": ")
	marshal := func(v any) []byte {
		switch shape {
		case shapeOneLine:
			b, _ := json.Marshal(v)
			return b
		case shapeSpaced:
			b, _ := json.Marshal(v)
			return []byte(spaced.Replace(string(b)))
		}
		b, _ := json.MarshalIndent(v, "", "  ")
		return b
	}
	var items []any
	for n := size / len(marshal(pod(0))); ; n++ {
		for len(items) < n {
			items = append(items, pod(len(items)))
		}
		if b := marshal(map[string]any{"items": items}); len(b) >= size {
			return string(b)
		}
	}
}

// keystrokes splits text into the key messages Bubble Tea reads from a
// terminal that pastes without bracketed paste: it reads 256 bytes at a
// time and makes one message of each run of printable runes, and one of
// each space, newline (enter) and tab.
func keystrokes(text string) []tea.KeyMsg {
	var msgs []tea.KeyMsg
	for len(text) > 0 {
		n := min(256, len(text))
		for n < len(text) && !utf8.RuneStart(text[n]) {
			n++
		}
		chunk := text[:n]
		text = text[n:]
		var run []rune
		flush := func() {
			if len(run) > 0 {
				msgs = append(msgs, tea.KeyMsg{Type: tea.KeyRunes, Runes: run})
				run = nil
			}
		}
		for _, r := range chunk {
			switch r {
			case ' ':
				flush()
				msgs = append(msgs, tea.KeyMsg{Type: tea.KeySpace, Runes: []rune{' '}})
			case '\n':
				flush()
				msgs = append(msgs, tea.KeyMsg{Type: tea.KeyEnter})
			case '\t':
				flush()
				msgs = append(msgs, tea.KeyMsg{Type: tea.KeyTab})
			default:
				run = append(run, r)
			}
		}
		flush()
	}
	return msgs
}

// probeMsg asks pasteProbe whether cond holds of the console yet: once
// it does, the probe closes done, else it asks again shortly.
type probeMsg struct {
	cond func(model) bool
	done chan struct{}
}

// pasteProbe runs the console and answers probeMsgs.
type pasteProbe struct{ model }

func (p pasteProbe) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	if pm, ok := msg.(probeMsg); ok {
		if pm.cond(p.model) {
			close(pm.done)
			return p, nil
		}
		return p, tea.Tick(5*time.Millisecond, func(time.Time) tea.Msg { return pm })
	}
	m, cmd := p.model.Update(msg)
	p.model = m.(model)
	return p, cmd
}

// await sends a probe for cond and waits for it.
func await(b *testing.B, p *tea.Program, ended chan error, cond func(model) bool) {
	pm := probeMsg{cond: cond, done: make(chan struct{})}
	p.Send(pm)
	select {
	case <-pm.done:
	case err := <-ended:
		b.Fatalf("the program ended: %v", err)
	case <-time.After(5 * time.Minute):
		b.Fatal("not there after 5 minutes")
	}
}

// BenchmarkPaste pastes 5.5 to 135 KB into the new-key editor through the
// real program loop (Update and View for every message, the renderer
// writing frames to io.Discard), as one bracketed paste and as the key
// messages of a terminal without bracketed paste, and reports the time
// until the editor holds all of it and the memory it took (peak RSS over
// the process before the paste). textarea-alone is the baseline: the
// bubbles text area fed the same key messages, each followed by a View, as
// the console did before it batched typed text (its cost grows with the
// square of the size, so it runs on 5.5 KB only).
//
//	go test ./tui/ -run '^$' -bench BenchmarkPaste -benchtime 1x -v
func BenchmarkPaste(b *testing.B) {
	for _, shape := range []struct {
		name  string
		shape int
	}{{"lines", shapeLines}, {"one-line", shapeOneLine}, {"spaced", shapeSpaced}} {
		for _, size := range []int{5500, 22_000, 135_000} {
			text := pasteText(size, shape.shape)
			for _, form := range []string{"keys", "bracketed"} {
				b.Run(fmt.Sprintf("%s/%s/%dKB", shape.name, form, size/1000), func(b *testing.B) {
					var msgs []tea.KeyMsg
					if form == "keys" {
						msgs = keystrokes(text)
					} else {
						msgs = []tea.KeyMsg{{Type: tea.KeyRunes, Runes: []rune(text), Paste: true}}
					}
					for b.Loop() {
						benchPaste(b, text, msgs)
					}
				})
			}
			if size == 5500 {
				b.Run(fmt.Sprintf("%s/textarea-alone/%dKB", shape.name, size/1000), func(b *testing.B) {
					msgs := keystrokes(text)
					for b.Loop() {
						ta := textarea.New()
						ta.CharLimit, ta.MaxHeight = 0, 0
						ta.SetWidth(80)
						ta.SetHeight(14)
						ta.Focus()
						for _, m := range msgs {
							ta, _ = ta.Update(m)
							_ = ta.View()
						}
					}
				})
			}
		}
	}
}

// benchPaste runs one paste of msgs (text) into a fresh console.
func benchPaste(b *testing.B, text string, msgs []tea.KeyMsg) {
	b.StopTimer()
	runtime.GC()
	debug.FreeOSMemory()
	resetPeak(b)
	base, _ := rss(b)
	// The real clock: how long the console's own work takes matters.
	eng := readyEngine(newTestClock(), newStore(b))
	m := newModel(b.Context(), eng, Options{}, newStyles(true), time.Now)
	p := tea.NewProgram(pasteProbe{m}, tea.WithInput(nil), tea.WithOutput(io.Discard), tea.WithoutSignalHandler())
	ended := make(chan error, 1)
	go func() { _, err := p.Run(); ended <- err }()
	p.Send(tea.WindowSizeMsg{Width: 80, Height: 24})
	await(b, p, ended, func(m model) bool { return m.state == stateReady && m.br.list.loaded })
	for _, k := range []tea.KeyMsg{keyMsg("n"), keyMsg("k"), keyMsg("enter")} {
		p.Send(k)
	}
	await(b, p, ended, func(m model) bool { return m.br.mode == modeNewValue })
	b.StartTimer()
	start := time.Now()
	for _, k := range msgs {
		p.Send(k)
	}
	await(b, p, ended, func(m model) bool { return m.br.ed.area.Value() == text && showsEnd(m.View(), text) })
	took := time.Since(start)
	b.StopTimer()
	_, peak := rss(b)
	p.Quit()
	<-ended
	eng.store.Close()
	b.ReportMetric(took.Seconds(), "s-to-shown")
	b.ReportMetric(float64(peak-base)/(1<<20), "peak-RSS-added-MiB")
	b.ReportMetric(float64(len(msgs)), "messages")
	b.StartTimer()
}

// showsEnd reports whether the editor's view shows the end of text: the
// last line's number and end, or, for one line, its last characters
// (rows joined, without the editor's margin and spaces).
func showsEnd(view, text string) bool {
	lines := strings.Split(text, "\n")
	last := []rune(lines[len(lines)-1])
	tail := string(last[max(len(last)-16, 0):])
	if len(lines) > 1 {
		return strings.Contains(view, fmt.Sprintf("%d %s", len(lines), tail))
	}
	flat := strings.Map(func(r rune) rune {
		if r == '┃' || unicode.IsSpace(r) {
			return -1
		}
		return r
	}, view)
	return strings.Contains(flat, strings.Join(strings.Fields(tail), ""))
}

// TestPasteAsKeys: text typed or pasted as key messages (no bracketed
// paste) ends up in the editor exactly, and is saved as it was typed.
func TestPasteAsKeys(t *testing.T) {
	text := pasteText(3000, shapeLines)
	store := newStore(t)
	d := newDriver(t, &countingStore{Store: store}, 80, 24)
	d.press("n", "k", "enter")
	// The messages arrive faster than the program runs commands: their
	// commands run after them (the first flush of the burst inserts it).
	var cmds []tea.Cmd
	for _, k := range keystrokes(text) {
		cmds = append(cmds, d.update(k))
	}
	if n := len(d.b().ed.pending); n == 0 {
		t.Fatal("a burst of typed text went into the area message by message")
	}
	d.run(tea.Batch(cmds...))
	if got := d.b().ed.area.Value(); got != text {
		t.Fatalf("the area holds %d bytes, typed %d; differ at %d", len(got), len(text), firstDiff(got, text))
	}
	// The editor shows where the text ends, with the cursor.
	if view := d.m.View(); !showsEnd(view, text) {
		t.Fatalf("the end of the text is not on screen:\n%s", view)
	}
	// Typed on its own (a second after the last text), a key goes in at
	// once.
	d.b().ed.lastTyped = d.b().ed.lastTyped.Add(-time.Second)
	d.update(keyMsg("x"))
	if got := d.b().ed.area.Value(); got != text+"x" || !strings.Contains(d.m.View(), "x") {
		t.Fatalf("x is not in at once: the area ends with %q", got[max(len(got)-10, 0):])
	}
	d.update(keyMsg("backspace"))
	d.press("ctrl+s")
	if kv := get(t, store, "k"); string(kv.Value) != text {
		t.Fatalf("saved %d bytes, typed %d; differ at %d", len(kv.Value), len(text), firstDiff(string(kv.Value), text))
	}
}

func firstDiff(a, b string) int {
	for i := 0; i < min(len(a), len(b)); i++ {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}
