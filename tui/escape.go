package tui

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Escape makes untrusted text (keys, values, error messages) inert before
// it reaches the terminal: control characters, escape sequences and
// DEL/C1 codes are shown as \xNN, line breaks and tabs as \n \r \t,
// invalid UTF-8 bytes as U+FFFD, and bidirectional controls (which can
// reorder what is displayed) as \u{NNNN}. Printable text passes unchanged.
func Escape(s string) string {
	if isPlain(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size <= 1:
			b.WriteRune('\uFFFD')
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		case r >= 0x80 && r < 0xa0:
			fmt.Fprintf(&b, `\u{%04x}`, r)
		case isBidiControl(r) || isInvisibleFormat(r):
			fmt.Fprintf(&b, `\u{%04x}`, r)
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// EscapeMultiline is Escape for text shown over several lines: newlines
// are kept as line breaks, everything else is escaped.
func EscapeMultiline(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = Escape(l)
	}
	return strings.Join(lines, "\n")
}

// isPlain reports whether s is printable ASCII, the common case.
func isPlain(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f {
			return false
		}
	}
	return true
}

// isBidiControl reports the Unicode bidirectional formatting characters
// (Trojan Source, CVE-2021-42574).
func isBidiControl(r rune) bool {
	return r == 0x061c || r == 0x200e || r == 0x200f ||
		(r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069)
}

// isInvisibleFormat reports zero-width and other format characters that
// would hide text or make two different keys look the same.
func isInvisibleFormat(r rune) bool {
	return (r >= 0x200b && r <= 0x200d) || r == 0x2060 || r == 0xfeff || (r >= 0xfff9 && r <= 0xfffb)
}
