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
// last one marked with "…" when text was cut.
func wrapPlain(s string, width, maxLines int) []string {
	if width <= 0 {
		return nil
	}
	var out []string
	for _, para := range strings.Split(s, "\n") {
		for {
			if ansi.StringWidth(para) <= width {
				out = append(out, para)
				break
			}
			head := ansi.Truncate(para, width, "")
			if head == "" { // a character wider than the line
				_, size := utf8.DecodeRuneInString(para)
				head = para[:size]
			}
			out = append(out, head)
			para = para[len(head):]
		}
	}
	if maxLines > 0 && len(out) > maxLines {
		out = out[:maxLines]
		out[maxLines-1] = clip(out[maxLines-1]+"…", width)
		if ansi.StringWidth(out[maxLines-1]) < width {
			out[maxLines-1] += "…"
		}
	}
	return out
}
