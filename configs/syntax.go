package configs

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// A YAML syntax error should send the user to the line they must fix, but
// yaml.v3 reports the line of its "context mark" where it has one (the start
// of the enclosing collection, quoted scalar or key), counted from 0 for
// parser errors and from 1 for scanner errors, and a problem on the first
// line gets no line at all. syntaxError therefore works the line out again:
//
//  1. It parses the text again behind one added empty line. No context can
//     start on that line, so the line yaml.v3 reports is always the context
//     line: exact for parser errors, one too many for scanner errors.
//  2. Where the context is what the user must fix (an unclosed [ or {, an
//     unclosed quote, a key without ':'), that is the line. Otherwise the
//     problem is on the first line at which the text, cut after that line,
//     fails with the very same error; it lies at or after the context and
//     is found by bisection.
//  3. The source text at that line then names the mistake where it can: a
//     tab in the indentation, an indentation that matches no enclosing
//     level, a quote opened on an earlier line and never closed. Otherwise
//     yaml.v3's problem is translated.

// Problem texts of yaml.v3 that syntaxError treats specially.
const (
	problemFlowSeq  = "did not find expected ',' or ']'"
	problemFlowMap  = "did not find expected ',' or '}'"
	problemNoKey    = "did not find expected key"
	problemNoColon  = "could not find expected ':'"
	problemBadStart = "found character that cannot start any token"
	problemQuoteEOF = "found unexpected end of stream"
	problemQuoteDoc = "found unexpected document indicator"
	problemAnchor   = "unknown anchor '"       // followed by the name
	problemMaxDepth = "exceeded max depth of " // followed by a number
)

const utf8BOM = "\uFEFF"

// lineBreaks returns YAML's line breaks as yaml.v3 counts them, longest
// first.
func lineBreaks() []string { return []string{"\r\n", "\r", "\n", "\u0085", "\u2028", "\u2029"} }

// syntaxError turns the error yaml.v3 returned for data into an *Error at
// the line the user must fix.
func syntaxError(name string, data []byte, err error) *Error {
	line, msg := locateSyntaxError(data, err)
	return &Error{File: name, Line: line, Msg: msgYAMLSyntax + msg, Err: err}
}

func locateSyntaxError(data []byte, err error) (line int, msg string) {
	line, problem := splitYAMLError(err)
	if bytes.HasPrefix(data, []byte{0xFE, 0xFF}) || bytes.HasPrefix(data, []byte{0xFF, 0xFE}) {
		// UTF-16: the text cannot be inspected as bytes; keep yaml.v3's line.
		return line, translateProblem(problem)
	}
	shifted := parseStream(withLeadingLine(data))
	if shifted == nil {
		return line, translateProblem(problem)
	}
	ctx, problem := splitYAMLError(shifted)
	src, open := scanSource(data)
	switch problem {
	case problemFlowSeq, problemFlowMap: // parser errors: ctx is exact
		line = ctx
	case problemQuoteEOF, problemQuoteDoc, problemNoColon: // scanner errors
		line = ctx - 1
	default:
		line = firstFailingLine(data, shifted.Error(), max(ctx-1, 1), len(src))
	}
	line = min(max(line, min(1, len(src))), len(src))
	if open.line > 0 && line >= lastContent(src) {
		// The text ends inside a flow collection, and yaml.v3 noticed only
		// at the end: the opening bracket is the one to close.
		return open.line, fmt.Sprintf(msgUnclosedFlow, open.line, string(open.char), closing(open.char))
	}
	return diagnose(src, line, problem)
}

// parseStream parses every document in data and returns the first error.
func parseStream(data []byte) error {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var n yaml.Node
		if err := dec.Decode(&n); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
	}
}

// withLeadingLine returns data behind an added empty line (after a byte
// order mark, which must stay first).
func withLeadingLine(data []byte) []byte {
	bom := 0
	if bytes.HasPrefix(data, []byte(utf8BOM)) {
		bom = len(utf8BOM)
	}
	out := make([]byte, 0, len(data)+1)
	out = append(out, data[:bom]...)
	out = append(out, '\n')
	return append(out, data[bom:]...)
}

// firstFailingLine returns the first line n in [lo, hi] such that data cut
// after line n fails with the error text want, assuming that data cut after
// hi does.
func firstFailingLine(data []byte, want string, lo, hi int) int {
	for lo < hi {
		mid := lo + (hi-lo)/2
		if err := parseStream(withLeadingLine(firstLines(data, mid))); err != nil && err.Error() == want {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	return lo
}

// firstLines returns data up to and including its n-th line break.
func firstLines(data []byte, n int) []byte {
	end := 0
	for _, l := range splitLines(data)[:n] {
		end += len(l)
	}
	return data[:end]
}

// splitLines splits data after each line break as yaml.v3 counts them:
// \r\n, \r, \n, U+0085, U+2028 and U+2029.
func splitLines(data []byte) [][]byte {
	var lines [][]byte
	start := 0
	for i := 0; i < len(data); {
		n := lineBreak(data[i:])
		if n == 0 {
			i++
			continue
		}
		i += n
		lines = append(lines, data[start:i])
		start = i
	}
	if start < len(data) {
		lines = append(lines, data[start:])
	}
	return lines
}

// lineBreak returns the length of the line break data starts with, or 0.
func lineBreak(data []byte) int {
	for _, b := range lineBreaks() {
		if bytes.HasPrefix(data, []byte(b)) {
			return len(b)
		}
	}
	return 0
}

// trimBreak returns line without its line break.
func trimBreak(line []byte) []byte {
	for _, b := range lineBreaks() {
		if bytes.HasSuffix(line, []byte(b)) {
			return line[:len(line)-len(b)]
		}
	}
	return line
}

// splitYAMLError splits yaml.v3's "yaml: line 3: problem" into 3 and
// "problem"; line is 0 when the text has none.
func splitYAMLError(err error) (line int, problem string) {
	problem = strings.TrimPrefix(err.Error(), "yaml: ")
	if rest, ok := strings.CutPrefix(problem, "line "); ok {
		if n, after, ok := strings.Cut(rest, ": "); ok {
			if l, convErr := strconv.Atoi(n); convErr == nil {
				return l, after
			}
		}
	}
	return 0, problem
}

func translateProblem(problem string) string {
	if msg, ok := yamlProblem(problem); ok {
		return msg
	}
	if strings.HasPrefix(problem, problemAnchor) {
		return msgUnknownAnchor // without the name: it may be a password
	}
	if strings.HasPrefix(problem, problemMaxDepth) {
		return msgMaxDepth
	}
	return fmt.Sprintf(msgUnknownProblem, problem)
}

// diagnose says what is wrong at line (1-based) of src, given yaml.v3's
// problem there, and may move to an earlier line that caused it.
func diagnose(src []srcLine, line int, problem string) (int, string) {
	if line < 1 {
		return line, translateProblem(problem)
	}
	l := src[line-1]
	switch problem {
	case problemFlowSeq:
		return line, fmt.Sprintf(msgUnclosedFlow, line, "[", "]")
	case problemFlowMap:
		return line, fmt.Sprintf(msgUnclosedFlow, line, "{", "}")
	case problemQuoteEOF, problemQuoteDoc:
		return line, fmt.Sprintf(msgUnclosedQuote, line)
	}
	if quoteProblem(problem) {
		return line, translateProblem(problem)
	}
	if l.tabIndent {
		return line, fmt.Sprintf(msgTabIndent, line)
	}
	if l.quoteFrom > 0 {
		return l.quoteFrom, fmt.Sprintf(msgQuoteRunsOn, l.quoteFrom, line)
	}
	if l.content && structureProblem(problem) {
		levels, deeper := blockLevels(src[:line-1])
		if msg := checkIndent(line, l.indent, levels, deeper); msg != "" {
			return line, msg
		}
	}
	body := strings.TrimLeft(l.text, " \t")
	switch {
	case problem == problemNoKey && (body == "-" || strings.HasPrefix(body, "- ")):
		return line, msgItemNotKey
	case problem == problemNoKey && strings.HasPrefix(body, ":"):
		return line, msgMissingKey
	case problem == problemBadStart:
		if c := reservedStart(l.text); c != 0 {
			return line, fmt.Sprintf(msgReservedChar, string(c))
		}
	}
	return line, translateProblem(problem)
}

// lastContent returns the last line that is not blank or a comment, or 0.
func lastContent(src []srcLine) int {
	for n := len(src); n > 0; n-- {
		if !src[n-1].blank {
			return n
		}
	}
	return 0
}

func closing(open byte) string {
	if open == '[' {
		return "]"
	}
	return "}"
}

// quoteProblem reports a problem inside a quoted scalar.
func quoteProblem(problem string) bool {
	switch problem {
	case problemQuoteEOF, problemQuoteDoc, "found unknown escape character",
		"did not find expected hexdecimal number", "found invalid Unicode character escape code":
		return true
	}
	return false
}

// structureProblem reports a problem that a wrong indentation causes.
func structureProblem(problem string) bool {
	switch problem {
	case problemNoKey, problemNoColon, "did not find expected '-' indicator", "did not find expected node content",
		"mapping values are not allowed in this context", "block sequence entries are not allowed in this context":
		return true
	}
	return false
}

// checkIndent returns what is wrong with indent on line, given the levels
// open before it and whether it may open a deeper one; "" if nothing.
func checkIndent(line, indent int, levels []int, deeper bool) string {
	if len(levels) == 0 || slices.Contains(levels, indent) {
		return ""
	}
	innermost := levels[len(levels)-1]
	if indent > innermost && deeper {
		return ""
	}
	list := make([]string, len(levels))
	for i, l := range levels {
		list[i] = strconv.Itoa(l)
	}
	if indent > innermost {
		return fmt.Sprintf(msgIndentDeeper, line, indent, strings.Join(list, levelSep))
	}
	return fmt.Sprintf(msgIndentMismatch, line, indent, strings.Join(list, levelSep))
}

// blockLevels returns the indentations of the block collections open after
// lines, innermost last, and whether the last line lets the next one start
// a deeper collection (it ends with ':' or '-').
func blockLevels(lines []srcLine) (levels []int, deeper bool) {
	deeper = true
	for _, l := range lines {
		if !l.content {
			continue
		}
		for len(levels) > 0 && levels[len(levels)-1] > l.indent {
			levels = levels[:len(levels)-1]
		}
		if len(levels) == 0 || levels[len(levels)-1] < l.indent {
			if !deeper {
				continue // the continuation of a multi-line plain scalar
			}
			levels = append(levels, l.indent)
		}
		if l.item > l.indent {
			levels = append(levels, l.item)
		}
		deeper = l.opens
	}
	return levels, deeper
}

// reservedStart returns the reserved character (@, ` or %) that starts a
// value on the line, or 0.
func reservedStart(text string) byte {
	prev := byte(0) // previous non-blank character
	for i := 0; i < len(text); i++ {
		c := text[i]
		if c == ' ' || c == '\t' {
			continue
		}
		if strings.IndexByte("@`%", c) >= 0 && (prev == 0 || strings.IndexByte(":-[{,", prev) >= 0) {
			return c
		}
		prev = c
	}
	return 0
}

// srcLine is what the diagnosis needs to know about one line of the text.
// It comes from a light scan that knows YAML's quotes, comments, flow
// collections and block scalars, not a parser: it is only consulted about
// a text yaml.v3 already rejected.
type srcLine struct {
	text      string
	indent    int  // spaces before the first other character
	tabIndent bool // a tab comes before the first character that is neither space nor tab
	blank     bool // nothing but blanks and a comment, outside any scalar
	content   bool // starts a block node: not blank or a comment, not inside a scalar or flow collection
	opens     bool // ends with ':' or '-', so the next line may be indented deeper
	item      int  // on a "- " line, the column of the item's content; else -1
	quoteFrom int  // if the line starts inside a quoted scalar, the line where it opened; else 0
}

// bracket is where a flow collection opened.
type bracket struct {
	line int // 1-based
	char byte
}

// scanSource describes each line of data, and returns the innermost flow
// collection left open at the end (line 0 if none).
func scanSource(data []byte) ([]srcLine, bracket) {
	raw := splitLines(data)
	lines := make([]srcLine, len(raw))
	var (
		quote     byte // the open quote, 0 outside quoted scalars
		quoteLine int
		flow      []bracket // open flow collections, innermost last
		block     = -1      // the indentation of the line that opened a block scalar; -1 outside one
	)
	for n, b := range raw {
		t := string(trimBreak(b))
		if n == 0 {
			t = strings.TrimPrefix(t, utf8BOM)
		}
		l := &lines[n]
		l.text, l.item = t, -1
		for l.indent < len(t) && t[l.indent] == ' ' {
			l.indent++
		}
		j := 0
		for j < len(t) && (t[j] == ' ' || t[j] == '\t') {
			l.tabIndent = l.tabIndent || t[j] == '\t'
			j++
		}
		blank := j == len(t)
		if block >= 0 {
			if blank || l.indent > block {
				continue // inside a block scalar
			}
			block = -1
		}
		if quote != 0 {
			l.quoteFrom = quoteLine
		}
		l.blank = quote == 0 && (blank || t[j] == '#')
		l.content = quote == 0 && len(flow) == 0 && !l.blank
		start := true   // a token may start here
		last := byte(0) // the last character that is not blank, a quote's content or a comment
	scan:
		for ; j < len(t); j++ {
			c := t[j]
			switch {
			case quote == '"':
				if c == '\\' {
					j++
				} else if c == '"' {
					quote, last = 0, c
				}
				continue
			case quote == '\'':
				if c == '\'' && j+1 < len(t) && t[j+1] == '\'' {
					j++
				} else if c == '\'' {
					quote, last = 0, c
				}
				continue
			}
			blankNext := j+1 == len(t) || t[j+1] == ' ' || t[j+1] == '\t'
			switch {
			case c == ' ' || c == '\t':
				continue
			case c == '#' && (j == 0 || t[j-1] == ' ' || t[j-1] == '\t'):
				break scan
			case start && (c == '"' || c == '\''):
				quote, quoteLine, start = c, n+1, false
				continue
			case c == '[' || c == '{':
				if start || len(flow) > 0 {
					flow = append(flow, bracket{n + 1, c})
				}
			case (c == ']' || c == '}') && len(flow) > 0:
				flow = flow[:len(flow)-1]
				start = false
			case c == ',' && len(flow) > 0:
				start = true
			case c == ':' && (blankNext || len(flow) > 0 && strings.IndexByte(",]}", t[j+1]) >= 0):
				start = true
			case (c == '-' || c == '?') && start && blankNext && len(flow) == 0:
				if c == '-' && l.content && l.item < 0 {
					k := j + 1
					for k < len(t) && t[k] == ' ' {
						k++
					}
					if k < len(t) && t[k] != '#' {
						l.item = k
					}
				}
			case start && (c == '&' || c == '!'):
				for j+1 < len(t) && t[j+1] != ' ' && t[j+1] != '\t' {
					j++
				}
			case start && len(flow) == 0 && (c == '|' || c == '>'):
				k := j + 1
				for k < len(t) && strings.IndexByte("+-0123456789", t[k]) >= 0 {
					k++
				}
				if rest := strings.TrimLeft(t[k:], " \t"); rest == "" || rest[0] == '#' {
					block = l.indent
					last = c
					break scan
				}
				start = false
			default:
				start = false
			}
			last = c
		}
		l.opens = quote == 0 && len(flow) == 0 && block < 0 && (last == ':' || last == '-')
	}
	var open bracket
	if quote == 0 && len(flow) > 0 {
		open = flow[len(flow)-1]
	}
	return lines, open
}
