package tui

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"
	"gopkg.in/yaml.v3"
)

// maxLineCells bounds each rendered line of a value. The pane shows at
// most its width of a line, but every frame measures and cuts each visible
// line, so a 1.5 MiB one-line value would cost its whole length on every
// frame. renderValue (which runs in a tea.Cmd) cuts lines once, to this
// many characters of the value and at most this many cells, and marks the
// cut with txtLineCut; the hex view (x) still shows every byte.
const maxLineCells = 512

// valueKind is how a value is shown.
type valueKind int

const (
	kindEmpty valueKind = iota
	kindJSON
	kindYAML
	kindText
	kindBinary
)

// kindLabel names a value kind in the pane's metadata line.
func kindLabel(k valueKind) string {
	switch k {
	case kindJSON:
		return "JSON"
	case kindYAML:
		return "YAML"
	case kindText:
		return txtKindText
	case kindBinary:
		return txtKindBinary
	}
	return txtKindEmpty
}

// valueStyles are the highlight colours of the value pane.
type valueStyles struct {
	key, str, num, lit, punct, comment lipgloss.Style
}

// renderValue classifies a value and renders it for the value pane, one
// string per line: JSON objects and arrays (one, or a stream of them such
// as JSON Lines) and YAML documents pretty-printed and highlighted when
// they parse, text otherwise. Every piece of the value goes through
// Escape, so nothing in it reaches the terminal raw. Lines longer than
// maxLineCells are cut (see cutLine).
func renderValue(v []byte, st valueStyles) (valueKind, []string) {
	if len(v) == 0 {
		return kindEmpty, nil
	}
	if pretty, ok := prettyJSON(v); ok {
		return kindJSON, highlightJSON(pretty, st)
	}
	if looksBinary(v) {
		return kindBinary, textLines(v, st)
	}
	if pretty, ok := prettyYAML(v); ok {
		return kindYAML, highlightYAML(pretty, st)
	}
	return kindText, textLines(v, st)
}

// cutLine cuts a line of the value's text to maxLineCells characters (an
// invalid byte counts as one), before it is escaped and highlighted, so
// that the work and the rendered line are bounded however long it is.
func cutLine(s string) (string, bool) {
	if len(s) <= maxLineCells {
		return s, false
	}
	i := 0
	for n := 0; n < maxLineCells && i < len(s); n++ {
		_, size := utf8.DecodeRuneInString(s[i:])
		i += size
	}
	return s[:i], i < len(s)
}

// capLine bounds a rendered line to maxLineCells cells (escaping can make
// a character several cells wide) and marks a line that was cut.
func capLine(line string, cut bool, st valueStyles) string {
	// A cell takes at least one byte: a short line needs no measuring.
	if len(line) > maxLineCells && ansi.StringWidth(line) > maxLineCells {
		line, cut = ansi.Truncate(line, maxLineCells, ""), true
	}
	if cut {
		line += st.comment.Render(txtLineCut)
	}
	return line
}

// prettyJSON indents a JSON object or array, or a stream of JSON values
// that starts with one (JSON Lines, concatenated objects), one after the
// other. ok is false for anything else.
func prettyJSON(v []byte) (string, bool) {
	t := bytes.TrimSpace(v)
	if len(t) == 0 || t[0] != '{' && t[0] != '[' {
		return "", false
	}
	if json.Valid(t) {
		var buf bytes.Buffer
		if err := json.Indent(&buf, t, "", "  "); err != nil {
			return "", false
		}
		return buf.String(), true
	}
	var buf bytes.Buffer
	dec := json.NewDecoder(bytes.NewReader(t))
	for n := 0; ; n++ {
		var raw json.RawMessage
		err := dec.Decode(&raw)
		if errors.Is(err, io.EOF) && n > 1 {
			return strings.TrimSuffix(buf.String(), "\n"), true
		}
		if err != nil {
			return "", false
		}
		if err := json.Indent(&buf, raw, "", "  "); err != nil {
			return "", false
		}
		buf.WriteByte('\n')
	}
}

// isJSONContainer reports a valid JSON object or array.
func isJSONContainer(v []byte) bool {
	t := bytes.TrimSpace(v)
	return len(t) > 0 && (t[0] == '{' || t[0] == '[') && json.Valid(t)
}

// looksBinary reports values that are not text: invalid UTF-8 or NUL
// bytes, or mostly control characters.
func looksBinary(v []byte) bool {
	if !utf8.Valid(v) || bytes.IndexByte(v, 0) >= 0 {
		return true
	}
	ctl := 0
	for _, c := range v {
		if c < 0x20 && c != '\n' && c != '\r' && c != '\t' {
			ctl++
		}
	}
	return ctl > len(v)/8
}

// textLines splits text into escaped lines.
func textLines(v []byte, st valueStyles) []string {
	s := strings.TrimSuffix(string(v), "\n")
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		l, cut := cutLine(l)
		lines[i] = capLine(Escape(l), cut, st)
	}
	return lines
}

// prettyYAML re-encodes YAML documents with two-space indentation. Only
// mappings and sequences count as YAML: any line of text is a valid YAML
// scalar, and showing prose as YAML would be wrong.
func prettyYAML(v []byte) (string, bool) {
	dec := yaml.NewDecoder(bytes.NewReader(v))
	var docs []*yaml.Node
	structured := false
	for {
		var n yaml.Node
		if err := dec.Decode(&n); err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			return "", false
		}
		if len(n.Content) > 0 {
			switch n.Content[0].Kind {
			case yaml.MappingNode, yaml.SequenceNode:
				structured = true
			}
		}
		blockStyle(&n)
		docs = append(docs, &n)
	}
	if !structured {
		return "", false
	}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	for _, d := range docs {
		if err := enc.Encode(d); err != nil {
			return "", false
		}
	}
	if err := enc.Close(); err != nil {
		return "", false
	}
	return strings.TrimSuffix(buf.String(), "\n"), true
}

// blockStyle turns flow mappings and sequences ({a: 1, b: [x]}, often
// JSON-like text that is not quite JSON) into block style, one entry a
// line.
func blockStyle(n *yaml.Node) {
	if n.Kind == yaml.MappingNode || n.Kind == yaml.SequenceNode {
		n.Style &^= yaml.FlowStyle
	}
	for _, c := range n.Content {
		blockStyle(c)
	}
}

// highlightJSON colours indented JSON token by token. Strings are escaped
// as a whole, quotes included; a string followed by ':' is a key.
func highlightJSON(src string, st valueStyles) []string {
	lines := strings.Split(src, "\n")
	out := make([]string, 0, len(lines))
	var b strings.Builder
	for _, line := range lines {
		// A cut string or number is coloured as far as it goes.
		line, cut := cutLine(line)
		b.Reset()
		for i := 0; i < len(line); {
			c := line[i]
			switch {
			case c == ' ':
				j := i
				for j < len(line) && line[j] == ' ' {
					j++
				}
				b.WriteString(line[i:j])
				i = j
			case c == '"':
				j := i + 1
				for j < len(line) && line[j] != '"' {
					if line[j] == '\\' {
						j++
					}
					j++
				}
				j = min(j+1, len(line))
				tok := Escape(line[i:j])
				k := j
				for k < len(line) && line[k] == ' ' {
					k++
				}
				if k < len(line) && line[k] == ':' {
					b.WriteString(st.key.Render(tok))
				} else {
					b.WriteString(st.str.Render(tok))
				}
				i = j
			case c == '-' || c >= '0' && c <= '9':
				j := i
				for j < len(line) && strings.IndexByte("+-.eE0123456789", line[j]) >= 0 {
					j++
				}
				b.WriteString(st.num.Render(line[i:j]))
				i = j
			case c >= 'a' && c <= 'z':
				j := i
				for j < len(line) && line[j] >= 'a' && line[j] <= 'z' {
					j++
				}
				b.WriteString(st.lit.Render(Escape(line[i:j])))
				i = j
			default:
				// Structural characters; anything else cannot occur in
				// valid JSON but is escaped all the same.
				_, size := utf8.DecodeRuneInString(line[i:])
				b.WriteString(st.punct.Render(Escape(line[i : i+size])))
				i += size
			}
		}
		out = append(out, capLine(b.String(), cut, st))
	}
	return out
}

// highlightYAML colours YAML line by line: comments, keys of mappings,
// sequence dashes and plain scalars.
func highlightYAML(src string, st valueStyles) []string {
	lines := strings.Split(src, "\n")
	out := make([]string, 0, len(lines))
	for _, line := range lines {
		line, cut := cutLine(line)
		out = append(out, capLine(highlightYAMLLine(line, st), cut, st))
	}
	return out
}

func highlightYAMLLine(line string, st valueStyles) string {
	rest := strings.TrimLeft(line, " ")
	indent := line[:len(line)-len(rest)]
	var b strings.Builder
	b.WriteString(indent)
	if rest == "---" || rest == "..." {
		b.WriteString(st.punct.Render(rest))
		return b.String()
	}
	if strings.HasPrefix(rest, "#") {
		b.WriteString(st.comment.Render(Escape(rest)))
		return b.String()
	}
	for strings.HasPrefix(rest, "- ") || rest == "-" {
		b.WriteString(st.punct.Render("-"))
		rest = strings.TrimPrefix(strings.TrimPrefix(rest, "-"), " ")
		if rest != "" || strings.HasSuffix(line, "- ") {
			b.WriteByte(' ')
		}
	}
	if k, v, ok := yamlKey(rest); ok {
		b.WriteString(st.key.Render(Escape(k)))
		b.WriteString(st.punct.Render(":"))
		if v != "" {
			b.WriteByte(' ')
			b.WriteString(yamlScalar(v, st))
		}
		return b.String()
	}
	b.WriteString(yamlScalar(rest, st))
	return b.String()
}

// yamlKey splits "key: value" (or "key:") outside quotes.
func yamlKey(s string) (key, value string, ok bool) {
	if s == "" || s[0] == '"' && !strings.Contains(s[1:], `":`) || s[0] == '\'' && !strings.Contains(s[1:], `':`) {
		return "", "", false
	}
	quote := byte(0)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'':
			if i == 0 {
				quote = c
			}
		case c == ':' && (i == len(s)-1 || s[i+1] == ' '):
			return s[:i], strings.TrimPrefix(s[i+1:], " "), true
		case c == ' ' && i+1 < len(s) && s[i+1] == '#':
			return "", "", false
		}
	}
	return "", "", false
}

// yamlScalar colours a scalar value (with a trailing comment, if any).
func yamlScalar(v string, st valueStyles) string {
	val, comment := v, ""
	if i := strings.Index(v, " #"); i >= 0 && v[0] != '"' && v[0] != '\'' {
		val, comment = v[:i], v[i:]
	}
	var out string
	switch {
	case val == "true" || val == "false" || val == "null" || val == "~":
		out = st.lit.Render(val)
	case isNumber(val):
		out = st.num.Render(val)
	case val == "|" || val == ">" || val == "|-" || val == ">-" || val == "{}" || val == "[]":
		out = st.punct.Render(val)
	default:
		out = st.str.Render(Escape(val))
	}
	if comment != "" {
		out += st.comment.Render(Escape(comment))
	}
	return out
}

func isNumber(s string) bool {
	_, err := strconv.ParseFloat(s, 64)
	return err == nil && strings.Trim(s, "+-.eE0123456789_xXoO") == ""
}

// hexLayout is how the hex view lays out a line: n bytes, in the full
// form (offset, bytes one by one in two groups of eight, the printable
// ones between bars) or, where that is too wide for sixteen bytes, in the
// compact form of xxd (bytes in pairs, no bars).
type hexLayout struct {
	n       int
	compact bool
}

// hexLayoutFor picks the widest layout that fits a pane of width cells:
// 16 bytes a line from 66 cells (a 117-column terminal's pane is 68), 8
// from 45, else 4.
func hexLayoutFor(width int) hexLayout {
	for _, h := range []hexLayout{{16, false}, {16, true}, {8, false}} {
		if h.width() <= width {
			return h
		}
	}
	return hexLayout{4, false}
}

// width is the cells a line of the layout takes.
func (h hexLayout) width() int {
	if h.compact {
		return 9 + (h.n/2)*5 - 1 + 2 + h.n
	}
	return 10 + 3*h.n + max(h.n/8-1, 0) + 3 + h.n
}

// line renders the bytes of v from off as one line.
func (h hexLayout) line(v []byte, off int) string {
	if h.compact {
		return hexLineCompact(v, off, h.n)
	}
	return hexLine(v, off, h.n)
}

// hexLine renders the n bytes of v from off as one hex dump line: offset,
// bytes, and the printable ASCII ones (others shown as '.').
func hexLine(v []byte, off, n int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%08x  ", off)
	end := min(off+n, len(v))
	for i := off; i < off+n; i++ {
		if i > off && (i-off)%8 == 0 {
			b.WriteByte(' ')
		}
		if i < end {
			fmt.Fprintf(&b, "%02x ", v[i])
		} else {
			b.WriteString("   ")
		}
	}
	b.WriteString(" |")
	writePrintable(&b, v[off:end])
	b.WriteByte('|')
	return b.String()
}

// hexLineCompact is hexLine as xxd lays it out: bytes in pairs, the
// printable ones after two spaces.
func hexLineCompact(v []byte, off, n int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%08x ", off)
	end := min(off+n, len(v))
	for i := off; i < off+n; i++ {
		if i > off && (i-off)%2 == 0 {
			b.WriteByte(' ')
		}
		if i < end {
			fmt.Fprintf(&b, "%02x", v[i])
		} else {
			b.WriteString("  ")
		}
	}
	b.WriteString("  ")
	writePrintable(&b, v[off:end])
	return b.String()
}

// writePrintable writes the printable ASCII bytes of v, others as '.'.
func writePrintable(b *strings.Builder, v []byte) {
	for _, c := range v {
		if c >= 0x20 && c < 0x7f {
			b.WriteByte(c)
		} else {
			b.WriteByte('.')
		}
	}
}

// hexLines is the number of hex dump lines of a value.
func hexLines(size, n int) int {
	return max((size+n-1)/n, 1)
}
