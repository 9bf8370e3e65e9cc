package tui

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/charmbracelet/bubbles/spinner"
	"github.com/charmbracelet/x/ansi"

	"github.com/k3/k3-storage/internal/units"
)

// Small pure formatting helpers. They take everything they need as
// arguments (including the time) so that views are deterministic.

// formatCount renders a count with thousands separators: 1,000,000.
func formatCount(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	if neg {
		s = s[1:]
	}
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, c := range []byte(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteByte(c)
	}
	return b.String()
}

// formatDuration renders a duration compactly for a status line: 250ms,
// 12.3s, 2m05s, 1h02m.
func formatDuration(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	switch {
	case d < time.Second:
		return strconv.FormatInt(d.Milliseconds(), 10) + "ms"
	case d < time.Minute:
		return strconv.FormatFloat(d.Seconds(), 'f', 1, 64) + "s"
	case d < time.Hour:
		d = d.Round(time.Second)
		return fmt.Sprintf("%dm%02ds", int(d/time.Minute), int(d%time.Minute/time.Second))
	}
	d = d.Round(time.Minute)
	return fmt.Sprintf("%dh%02dm", int(d/time.Hour), int(d%time.Hour/time.Minute))
}

// formatSeconds renders a duration in whole seconds, for elapsed clocks
// that tick once a second: 0s, 12s, 2m05s.
func formatSeconds(d time.Duration) string {
	d = d.Truncate(time.Second)
	if d < time.Minute {
		return strconv.Itoa(int(d/time.Second)) + "s"
	}
	return formatDuration(d)
}

// formatRate renders a transfer rate; "" when it is unknown.
func formatRate(bytesPerSecond float64) string {
	if bytesPerSecond <= 0 {
		return ""
	}
	return units.Bytes(int64(bytesPerSecond)) + "/s"
}

// eta estimates the time left for remaining bytes at rate bytes per
// second; ok is false when it cannot be estimated.
func eta(remaining int64, bytesPerSecond float64) (d time.Duration, ok bool) {
	if bytesPerSecond <= 0 || remaining < 0 {
		return 0, false
	}
	return time.Duration(float64(remaining) / bytesPerSecond * float64(time.Second)), true
}

// spinnerFrame picks the spinner's frame from the clock rather than from
// a tick counter, so that a fixed clock draws a fixed frame.
func spinnerFrame(now time.Time) string {
	sp := spinner.MiniDot
	i := now.UnixNano() / int64(sp.FPS)
	return sp.Frames[int(i%int64(len(sp.Frames)))]
}

// fit truncates a rendered (possibly styled) line to width cells and pads
// it with spaces to exactly width.
func fit(s string, width int) string {
	if width <= 0 {
		return ""
	}
	w := ansi.StringWidth(s)
	if w > width {
		s = ansi.Truncate(s, width, "…")
		w = ansi.StringWidth(s)
	}
	if w < width {
		s += strings.Repeat(" ", width-w)
	}
	return s
}

// ansiWidth is the width of a rendered line in cells.
func ansiWidth(s string) int { return ansi.StringWidth(s) }

// clip truncates a rendered line to at most width cells.
func clip(s string, width int) string {
	if width <= 0 {
		return ""
	}
	if ansi.StringWidth(s) <= width {
		return s
	}
	return ansi.Truncate(s, width, "…")
}

// clipLeft keeps the end of plain text that is wider than width, marking
// the cut with "…": the tail of a long key is the part that tells keys apart.
func clipLeft(s string, width int) string {
	if width <= 0 {
		return ""
	}
	w := ansi.StringWidth(s)
	if w <= width {
		return s
	}
	return "…" + ansi.TruncateLeft(s, w-width+1, "")
}

// clipMiddle shortens plain text that is wider than width by cutting out
// its middle: both ends of a key tell where it is and what it is.
func clipMiddle(s string, width int) string {
	w := ansi.StringWidth(s)
	if w <= width {
		return s
	}
	if width < 8 {
		return clipLeft(s, width)
	}
	headW := width / 3
	head := ansi.Truncate(s, headW, "")
	tailW := width - ansi.StringWidth(head) - 1
	return head + "…" + ansi.TruncateLeft(s, w-tailW, "")
}

// wrapPlain breaks plain (already escaped) text into lines of at most
// width cells, keeping existing line breaks; at most maxLines lines, the
// last one marked with "…" when text was cut. Lines break at word
// boundaries: at a space (dropped), next to a wide (CJK) character except
// before closing or after opening punctuation, else after a '/'; a word
// longer than the line is cut. Continuation lines keep the paragraph's
// indentation, and align after a list marker ("- ", "1. ").
func wrapPlain(s string, width, maxLines int) []string {
	if width <= 0 {
		return nil
	}
	var out []string
	for _, para := range strings.Split(s, "\n") {
		hang := hangingIndent(para)
		if ansi.StringWidth(hang) > width/2 {
			hang = ""
		}
		first := true
		for {
			w := width
			if !first {
				w -= ansi.StringWidth(hang)
			}
			line, rest := breakLine(para, w)
			if !first {
				line = hang + line
			}
			out = append(out, line)
			if rest == "" {
				break
			}
			para, first = rest, false
		}
	}
	if maxLines > 0 && len(out) > maxLines {
		out = out[:maxLines]
		last := out[maxLines-1]
		if ansi.StringWidth(last) >= width {
			last = ansi.Truncate(last, width-1, "")
		}
		out[maxLines-1] = last + "…"
	}
	return out
}

// hangingIndent is the indentation of a paragraph's continuation lines:
// its leading spaces, plus the width of a list marker ("- ", "* ", "1. ").
func hangingIndent(para string) string {
	trimmed := strings.TrimLeft(para, " ")
	n := len(para) - len(trimmed)
	marker := 0
	switch {
	case strings.HasPrefix(trimmed, "- "), strings.HasPrefix(trimmed, "* "):
		marker = 2
	default:
		digits := 0
		for digits < len(trimmed) && trimmed[digits] >= '0' && trimmed[digits] <= '9' {
			digits++
		}
		if digits > 0 && strings.HasPrefix(trimmed[digits:], ". ") {
			marker = digits + 2
		}
	}
	return strings.Repeat(" ", n+marker)
}

// breakLine splits s after at most width cells at the best break (see
// wrapPlain); rest is "" when s fits.
func breakLine(s string, width int) (line, rest string) {
	if ansi.StringWidth(s) <= width {
		return s, ""
	}
	const (
		none = iota
		slash
		word
	)
	best, bestKind, bestSkip := 0, none, 0 // break at s[:best], resume at s[best+skip:]
	cells, prevWide, prev := 0, false, rune(0)
	for i, r := range s {
		rw := ansi.StringWidth(string(r))
		wide := rw > 1
		if i > 0 {
			switch {
			case r == ' ':
				best, bestKind, bestSkip = i, word, 1
			case (wide || prevWide) && !closing(r) && !opening(prev):
				best, bestKind, bestSkip = i, word, 0
			case prev == '/' && bestKind != word:
				best, bestKind, bestSkip = i, slash, 0
			}
		}
		if cells+rw > width {
			if r == ' ' { // the line ends exactly before a space
				return strings.TrimRight(s[:i], " "), strings.TrimLeft(s[i:], " ")
			}
			if bestKind == none || best == 0 {
				if i == 0 { // a character wider than the line
					_, size := utf8.DecodeRuneInString(s)
					return s[:size], s[size:]
				}
				return s[:i], s[i:]
			}
			return strings.TrimRight(s[:best], " "), strings.TrimLeft(s[best+bestSkip:], " ")
		}
		cells += rw
		prevWide, prev = wide, r
	}
	return s, ""
}

// closing reports punctuation that must not begin a line.
func closing(r rune) bool {
	return strings.ContainsRune("，。、；：！？）」』】》”’)]}.,;:!?", r)
}

// opening reports punctuation that must not end a line.
func opening(r rune) bool { return strings.ContainsRune("（「『【《“‘([{", r) }
