package dump

import (
	"encoding/base64"
	"strconv"
	"unicode"
	"unicode/utf8"
)

// The file format (see the package documentation). How each string is
// written is decided by scalarStyle: the rules are chosen so that yaml.v3,
// decoding into string fields, gives back the exact bytes, and so that
// nothing written can move a terminal's cursor or hide text (control
// characters, bidirectional overrides) when the file is printed.
const (
	// FormatVersion is the value of the format field this package writes
	// and the only one it reads.
	FormatVersion = "k3-storage-export/1"

	// Field names: top level, and per entry.
	fieldFormat   = "format"
	fieldPrefix   = "prefix"
	fieldRevision = "revision"
	fieldKeys     = "keys"
	fieldCount    = "count"
	fieldKey      = "key"
	fieldMeta     = "meta"
	fieldValue    = "value"

	// Names inside meta's flow mapping.
	metaCreate  = "create_revision"
	metaMod     = "mod_revision"
	metaVersion = "version"

	binaryTag = "!!binary"
	strTag    = "!!str"

	// base64Line is the length of the lines a long !!binary value is cut
	// into (as MIME does), so that a diff of two binary values is not one
	// line of two megabytes.
	base64Line = 76
)

// style is how one string is written.
type style int

const (
	stylePlain  style = iota // /registry/pods/a, unquoted
	styleSingle              // 'text', '' doubles a quote
	styleDouble              // "text", with escapes
	styleBlock               // a literal block scalar (|, |-, |+), values only
	styleBinary              // !!binary base64
)

// scalarStyle chooses how s is written. block allows a literal block
// scalar (values; keys are always one line).
//
//   - Invalid UTF-8, or text of which more than one rune in three would have
//     to be escaped (binary data that happens to be valid UTF-8; escapes
//     make it longer than base64): !!binary.
//   - Text with a line break, printable, without trailing blanks on any line
//     and not starting with a blank or a line break (editors keep such text
//     intact and YAML needs no indentation indicator): a literal block.
//   - A key-like string starting with '/' made only of letters, digits and
//     / . _ - : + = @ ~ (never a YAML number, bool, null or timestamp;
//     ':' not last): plain.
//   - Other printable text without tabs or line breaks: single-quoted.
//   - Anything else: double-quoted with escapes.
func scalarStyle(s []byte, block bool) style {
	var escapes, runes, breaks int
	plain := len(s) > 0 && s[0] == '/' && s[len(s)-1] != ':'
	single := true
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			runes++
			i++
			switch {
			case c == '\n':
				breaks++
				plain, single = false, false
			case c == '\t':
				plain, single = false, false
			case c < 0x20 || c == 0x7f:
				escapes++
				plain, single = false, false
			case plain && !plainByte(c):
				plain = false
			}
			continue
		}
		r, n := utf8.DecodeRune(s[i:])
		if r == utf8.RuneError && n == 1 {
			return styleBinary
		}
		runes++
		i += n
		if !safeRune(r) {
			escapes++
			plain, single = false, false
		} else if plain && !unicode.IsLetter(r) && !unicode.IsDigit(r) {
			plain = false
		}
	}
	switch {
	case escapes > 0 && escapes*3 > runes:
		return styleBinary
	case block && breaks > 0 && escapes == 0 && blockSafe(s):
		return styleBlock
	case plain:
		return stylePlain
	case single:
		return styleSingle
	}
	return styleDouble
}

// plainByte reports whether a plain scalar may hold the ASCII byte c
// (after its leading '/').
func plainByte(c byte) bool {
	switch {
	case c >= '0' && c <= '9', c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z':
		return true
	}
	switch c {
	case '/', '.', '_', '-', ':', '+', '=', '@', '~':
		return true
	}
	return false
}

// safeRune reports whether r (at or above utf8.RuneSelf) may appear
// unescaped: YAML must accept it in a stream and not read it as a line
// break (NEL, LS, PS), and it must not be invisible trickery on a terminal:
// C1 controls, the byte order mark, bidirectional controls.
func safeRune(r rune) bool {
	switch {
	case r < 0xa0: // C1 controls, NEL
		return false
	case r >= 0xd800 && r <= 0xdfff, r == 0xfeff, r == 0xfffe, r == 0xffff:
		return false
	case r == 0x2028, r == 0x2029: // line and paragraph separators
		return false
	case r == 0x061c, r == 0x200e, r == 0x200f,
		r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069:
		return false // bidirectional marks, embeddings, overrides, isolates
	}
	return r <= unicode.MaxRune
}

// blockSafe reports whether text (valid UTF-8 with a line break, no
// character needing an escape) can be a literal block scalar: it starts
// with neither a blank nor a line break, and no line ends in a blank.
func blockSafe(s []byte) bool {
	if s[0] == ' ' || s[0] == '\t' || s[0] == '\n' {
		return false
	}
	for i, c := range s {
		if c == '\n' && i > 0 && (s[i-1] == ' ' || s[i-1] == '\t') {
			return false
		}
	}
	last := s[len(s)-1]
	return last != ' ' && last != '\t'
}

// appendScalar appends s in the style scalarStyle chose for it. A block
// scalar's lines are indented by indent spaces; the caller has written
// "field: " and writes the line break that ends a non-block scalar.
func appendScalar(b, s []byte, st style, indent int) []byte {
	switch st {
	case stylePlain:
		return append(b, s...)
	case styleSingle:
		b = append(b, '\'')
		for _, c := range s {
			if c == '\'' {
				b = append(b, '\'')
			}
			b = append(b, c)
		}
		return append(b, '\'')
	case styleDouble:
		return appendDouble(b, s)
	case styleBlock:
		return appendBlock(b, s, indent)
	}
	return appendBinary(b, s, indent)
}

// appendDouble appends s (valid UTF-8) as a double-quoted scalar.
func appendDouble(b, s []byte) []byte {
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			i++
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c == '\n':
				b = append(b, '\\', 'n')
			case c == '\t':
				b = append(b, '\\', 't')
			case c == '\r':
				b = append(b, '\\', 'r')
			case c == 0:
				b = append(b, '\\', '0')
			case c == 0x1b:
				b = append(b, '\\', 'e')
			case c < 0x20 || c == 0x7f:
				b = append(b, '\\', 'x', hexDigit[c>>4], hexDigit[c&15])
			default:
				b = append(b, c)
			}
			continue
		}
		r, n := utf8.DecodeRune(s[i:])
		if safeRune(r) {
			b = append(b, s[i:i+n]...)
		} else {
			b = append(b, '\\', 'u')
			for shift := 12; shift >= 0; shift -= 4 {
				b = append(b, hexDigit[(r>>shift)&15])
			}
		}
		i += n
	}
	return append(b, '"')
}

const hexDigit = "0123456789ABCDEF"

// appendBlock appends s as a literal block scalar: the header (|, |- or
// |+ by how many line breaks end s) and each line indented, empty lines
// left empty.
func appendBlock(b, s []byte, indent int) []byte {
	trailing := 0
	for trailing < len(s) && s[len(s)-1-trailing] == '\n' {
		trailing++
	}
	switch trailing {
	case 0:
		b = append(b, '|', '-')
	case 1:
		b = append(b, '|')
	default:
		b = append(b, '|', '+')
	}
	start := 0
	for i := 0; i <= len(s); i++ {
		if i < len(s) && s[i] != '\n' {
			continue
		}
		if i == len(s) && start == i {
			break // s ends with a line break: no last partial line
		}
		b = append(b, '\n')
		if i > start {
			b = appendSpaces(b, indent)
			b = append(b, s[start:i]...)
		}
		start = i + 1
	}
	return b
}

// appendBinary appends s as !!binary base64: on the same line when short,
// else as a literal block of base64Line-character lines.
func appendBinary(b, s []byte, indent int) []byte {
	b = append(b, binaryTag...)
	b = append(b, ' ')
	n := base64.StdEncoding.EncodedLen(len(s))
	if n <= base64Line || indent < 0 {
		return base64.StdEncoding.AppendEncode(b, s)
	}
	b = append(b, '|')
	// Encode whole lines: base64Line characters are 57 input bytes.
	const chunk = base64Line / 4 * 3
	for len(s) > 0 {
		k := min(chunk, len(s))
		b = append(b, '\n')
		b = appendSpaces(b, indent)
		b = base64.StdEncoding.AppendEncode(b, s[:k])
		s = s[k:]
	}
	return b
}

func appendSpaces(b []byte, n int) []byte {
	for range n {
		b = append(b, ' ')
	}
	return b
}

// appendField appends "name: " and s in its style, then a line break. indent
// is the column of name; block scalars are indented two more. Keys pass
// block false, and binary keys stay on one line.
func appendField(b []byte, indent int, name string, s []byte, block bool) []byte {
	b = appendSpaces(b, indent)
	b = append(b, name...)
	b = append(b, ':', ' ')
	st := scalarStyle(s, block)
	inner := indent + 2
	if !block {
		inner = -1 // binary on one line
	}
	b = appendScalar(b, s, st, inner)
	return append(b, '\n')
}

// appendMeta appends an entry's revisions as one flow mapping line.
func appendMeta(b []byte, indent int, create, mod, version int64) []byte {
	b = appendSpaces(b, indent)
	b = append(b, fieldMeta+": {"+metaCreate+": "...)
	b = strconv.AppendInt(b, create, 10)
	b = append(b, ", "+metaMod+": "...)
	b = strconv.AppendInt(b, mod, 10)
	b = append(b, ", "+metaVersion+": "...)
	b = strconv.AppendInt(b, version, 10)
	return append(b, "}\n"...)
}

// appendInt appends "name: n" and a line break at column 0.
func appendInt(b []byte, name string, n int64) []byte {
	b = append(b, name...)
	b = append(b, ':', ' ')
	b = strconv.AppendInt(b, n, 10)
	return append(b, '\n')
}
