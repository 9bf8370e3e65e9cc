package tui

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Escape makes untrusted text (keys, values, error messages) inert before
// it reaches the terminal: control characters, escape sequences and
// DEL/C1 codes are shown as \xNN, line breaks and tabs as \n \r \t,
// each byte of invalid UTF-8 as \xNN, and invisible characters — bidirectional
// controls (which can reorder what is displayed), zero-width and other
// format characters, line and paragraph separators — as \u{NNNN}.
// Printable text passes unchanged.
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
			fmt.Fprintf(&b, `\x%02x`, s[i])
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
		case isInvisible(r):
			fmt.Fprintf(&b, `\u{%04x}`, r)
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// EscapeMultiline is Escape for text shown over several lines, such as an
// error that lists what was tried and the fixes: newlines are kept as line
// breaks, everything else is escaped.
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

// isInvisible reports characters that draw nothing yet change what the
// terminal shows: every format character (Unicode category Cf: bidi
// controls such as U+202E, which reorder text (Trojan Source,
// CVE-2021-42574), zero-width spaces and joiners, the soft hyphen, the
// deprecated format controls U+206A–206F, tag characters), the line and
// paragraph separators (Zl, Zp), and the unassigned code points of the tag
// block, which a newer terminal may treat as tags. They can hide text or make
// two different keys look the same.
func isInvisible(r rune) bool {
	if r < 0xa0 {
		return false // C0 and C1 controls are escaped as such
	}
	return unicode.In(r, unicode.Cf, unicode.Zl, unicode.Zp) || r >= 0xe0000 && r <= 0xe007f
}
