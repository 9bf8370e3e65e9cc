package dump

import (
	"bytes"
	"encoding/base64"
	"errors"
	"io"
	"strconv"
	"unicode/utf8"

	"github.com/k3/k3-storage/backends"
)

// entry is one key of an import file. key and value are the decoder's
// buffers, valid until the next call of decoder.next.
type entry struct {
	key, value []byte
	line       int // line of the entry's "-"
	keyLine    int
	valueLine  int
	metaLine   int      // 0 without meta
	meta       [3]int64 // create_revision, mod_revision, version
}

// decoder reads the file format (see format.go) as a stream, one entry at
// a time, in memory bounded by the longest line and the largest value. It
// accepts a subset of YAML, and for what it accepts gives what yaml.v3
// gives when decoding into string and int64 fields; everything else is a
// *FormatError naming the line. See the package documentation for what a
// hand-edited file may contain.
type decoder struct {
	lr *lineReader

	started   bool // a document start marker or a field was seen
	ended     bool // "..." was seen
	inKeys    bool // inside the keys sequence
	seqCol    int  // column of the keys sequence's "-", -1 before the first
	haveField map[string]int

	format, prefix []byte
	revision       int64
	count          int64
	countLine      int

	entries int64
	e       entry
	field   string // the field being read, for messages
	scratch []byte
}

func newDecoder(r io.Reader, path string) *decoder {
	return &decoder{lr: newLineReader(r, path), seqCol: -1, haveField: make(map[string]int)}
}

func (d *decoder) fail(num int, kind error, format string, args ...any) error {
	return d.lr.fail(num, kind, format, args...)
}

// next returns the next entry, or nil at the end of the file once the
// trailer has been checked.
func (d *decoder) next() (*entry, error) {
	for {
		ok, err := d.lr.next()
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, d.finish()
		}
		line := d.lr.line
		if skip, err := d.ignorable(line); skip || err != nil {
			if err != nil {
				return nil, err
			}
			continue
		}
		if d.ended {
			return nil, d.fail(d.lr.num, ErrUnsupported, msgAfterEnd)
		}
		col := indentOf(line)
		if col < len(line) && line[col] == '\t' {
			return nil, d.fail(d.lr.num, ErrUnsupported, msgTabIndent)
		}
		if d.inKeys {
			switch {
			case isItem(line, col) && (d.seqCol < 0 || col == d.seqCol):
				d.seqCol = col
				return d.readEntry(col)
			case col != 0:
				return nil, d.fail(d.lr.num, ErrSyntax, msgIndent)
			}
			d.inKeys = false // a field at column 0 ends the sequence
		}
		if col != 0 {
			return nil, d.fail(d.lr.num, ErrSyntax, msgIndent)
		}
		if err := d.topLine(line); err != nil {
			return nil, err
		}
	}
}

// ignorable reports whether line is blank or a comment line, which the
// reader skips outside block scalars. A tab before the line's first
// character is an error, as it is for yaml.v3, which takes it for
// indentation.
func (d *decoder) ignorable(line []byte) (bool, error) {
	c := indentOf(line)
	if c < len(line) && line[c] == '\t' {
		return false, d.fail(d.lr.num, ErrUnsupported, msgTabIndent)
	}
	return c == len(line) || line[c] == '#', nil
}

// isItem reports whether line holds a sequence item's "-" at column col.
func isItem(line []byte, col int) bool {
	return col < len(line) && line[col] == '-' && (col+1 == len(line) || line[col+1] == ' ')
}

// topLine reads a line at column 0 outside the keys sequence.
func (d *decoder) topLine(line []byte) error {
	num := d.lr.num
	if marker(line, "---") {
		if d.started {
			return d.fail(num, ErrUnsupported, msgSecondDocument)
		}
		d.started = true
		if !skipIgnored(line[3:]) {
			return d.fail(num, ErrUnsupported, msgAfterMarker)
		}
		return nil
	}
	if marker(line, "...") {
		if !skipIgnored(line[3:]) {
			return d.fail(num, ErrUnsupported, msgAfterMarker)
		}
		d.ended = true
		return nil
	}
	d.started = true
	name, rest, err := d.splitField(line, 0)
	if err != nil {
		return err
	}
	if prev, dup := d.haveField[name]; dup {
		return d.fail(num, ErrSyntax, msgDuplicateField, name, prev)
	}
	d.haveField[name] = num
	d.field = name
	switch name {
	case fieldFormat:
		v, null, err := d.scalar(rest, 0, d.format[:0], backends.MaxKeySize)
		if err != nil {
			return err
		}
		if null || string(v) != FormatVersion {
			return d.fail(num, ErrUnsupported, msgFormatVersion, strconv.Quote(string(v)), FormatVersion)
		}
		d.format = v
	case fieldPrefix:
		v, _, err := d.scalar(rest, 0, d.prefix[:0], backends.MaxKeySize)
		if err != nil {
			return err
		}
		d.prefix = v
	case fieldRevision:
		d.revision, err = d.integer(rest, num, name)
		return err
	case fieldCount:
		d.count, err = d.integer(rest, num, name)
		d.countLine = num
		return err
	case fieldKeys:
		rest = trimComment(rest)
		switch string(rest) {
		case "":
			d.inKeys = true
		case "[]":
		default:
			return d.fail(num, ErrUnsupported, msgKeysShape)
		}
	default:
		return d.fail(num, ErrSyntax, msgUnknownField, strconv.Quote(name))
	}
	return nil
}

// marker reports whether line is the document marker m ("---" or "...")
// followed by nothing or a blank.
func marker(line []byte, m string) bool {
	return bytes.HasPrefix(line, []byte(m)) && (len(line) == 3 || line[3] == ' ' || line[3] == '\t')
}

// finish checks the end of the file: a count line matching the entries.
func (d *decoder) finish() error {
	last := d.lr.num
	if _, ok := d.haveField[fieldKeys]; !ok {
		return d.fail(max(last, 1), ErrMissingField, msgNoKeys)
	}
	if d.countLine == 0 {
		return d.fail(max(last, 1), ErrTruncated, msgNoCount, d.entries)
	}
	if d.count != d.entries {
		return d.fail(d.countLine, ErrTruncated, msgCountMismatch, d.count, d.entries)
	}
	return nil
}

// splitField splits "name: rest" at column col of line. Names are plain
// lowercase words; the colon is followed by a blank or the line's end.
func (d *decoder) splitField(line []byte, col int) (name string, rest []byte, err error) {
	s := line[col:]
	i := 0
	for i < len(s) && (s[i] >= 'a' && s[i] <= 'z' || s[i] == '_') {
		i++
	}
	if i == 0 || i == len(s) || s[i] != ':' || (i+1 < len(s) && s[i+1] != ' ' && s[i+1] != '\t') {
		switch {
		case i == 0 && len(s) > 0 && (s[0] == '"' || s[0] == '\'' || s[0] == '?'):
			return "", nil, d.fail(d.lr.num, ErrUnsupported, msgQuotedName)
		case i < len(s) && (s[i] == ' ' || s[i] == '\t'):
			return "", nil, d.fail(d.lr.num, ErrSyntax, msgSpaceBeforeColon)
		}
		return "", nil, d.fail(d.lr.num, ErrSyntax, msgNotField)
	}
	return fieldName(s[:i]), s[i+1:], nil
}

// fieldName returns name as a string, without allocating for the names of
// the format.
func fieldName(name []byte) string {
	switch string(name) {
	case fieldKey:
		return fieldKey
	case fieldValue:
		return fieldValue
	case fieldMeta:
		return fieldMeta
	case fieldFormat:
		return fieldFormat
	case fieldPrefix:
		return fieldPrefix
	case fieldRevision:
		return fieldRevision
	case fieldKeys:
		return fieldKeys
	case fieldCount:
		return fieldCount
	}
	return string(name)
}

// readEntry reads the entry whose "-" is at column col of the current line.
// Its fields follow the "-" on the same line or start on the next one, all
// at one column.
func (d *decoder) readEntry(col int) (*entry, error) {
	e := &d.e
	*e = entry{key: e.key[:0], value: e.value[:0], line: d.lr.num}
	d.entries++
	fieldCol := -1
	rest := d.lr.line[col+1:]
	skip, err := d.ignorable(rest)
	if err != nil {
		return nil, err
	}
	if !skip {
		fieldCol = col + 1 + indentOf(rest)
		if err := d.entryField(fieldCol); err != nil {
			return nil, err
		}
	}
	for {
		ok, err := d.lr.next()
		if err != nil {
			return nil, err
		}
		if !ok {
			break
		}
		line := d.lr.line
		if skip, err := d.ignorable(line); skip || err != nil {
			if err != nil {
				return nil, err
			}
			continue
		}
		c := indentOf(line)
		if line[c] == '\t' {
			return nil, d.fail(d.lr.num, ErrUnsupported, msgTabIndent)
		}
		if c <= col {
			d.lr.unread() // the next entry, or the next top-level field
			break
		}
		if fieldCol < 0 {
			fieldCol = c
		}
		if c != fieldCol {
			return nil, d.fail(d.lr.num, ErrSyntax, msgIndent)
		}
		if err := d.entryField(fieldCol); err != nil {
			return nil, err
		}
	}
	switch {
	case e.keyLine == 0:
		return nil, d.fail(e.line, ErrMissingField, msgNoKey)
	case e.valueLine == 0:
		return nil, d.fail(e.line, ErrMissingField, msgNoValue, QuoteKey(string(e.key)))
	}
	return e, nil
}

// entryField reads the entry field at column col of the current line.
func (d *decoder) entryField(col int) error {
	e := &d.e
	num := d.lr.num
	name, rest, err := d.splitField(d.lr.line, col)
	if err != nil {
		return err
	}
	d.field = name
	switch name {
	case fieldKey:
		if e.keyLine != 0 {
			return d.fail(num, ErrSyntax, msgDuplicateField, name, e.keyLine)
		}
		e.keyLine = num
		v, null, err := d.scalar(rest, col, e.key[:0], backends.MaxKeySize)
		switch {
		case err != nil:
			return err
		case null:
			return d.fail(num, ErrMissingField, msgNullKey)
		case len(v) == 0:
			return d.fail(num, backends.ErrInvalidKey, msgEmptyKey)
		}
		e.key = v
	case fieldValue:
		if e.valueLine != 0 {
			return d.fail(num, ErrSyntax, msgDuplicateField, name, e.valueLine)
		}
		e.valueLine = num
		v, null, err := d.scalar(rest, col, e.value[:0], backends.MaxValueSize)
		if err != nil {
			return err
		}
		if null {
			return d.fail(num, ErrMissingField, msgNullValue)
		}
		e.value = v
	case fieldMeta:
		if e.metaLine != 0 {
			return d.fail(num, ErrSyntax, msgDuplicateField, name, e.metaLine)
		}
		e.metaLine = num
		return d.meta(rest, num)
	default:
		return d.fail(num, ErrSyntax, msgUnknownField, strconv.Quote(name))
	}
	return nil
}

// integer reads a top-level count or revision: decimal digits without a
// sign or leading zeros (which yaml.v3 would read as octal).
func (d *decoder) integer(rest []byte, num int, name string) (int64, error) {
	s := trimComment(rest)
	n, ok := decimal(s)
	if !ok {
		return 0, d.fail(num, ErrSyntax, msgNotNumber, name, strconv.Quote(string(s)))
	}
	return n, nil
}

// decimal parses a non-negative int64 written in decimal without leading
// zeros.
func decimal(s []byte) (int64, bool) {
	if len(s) == 0 || len(s) > 1 && s[0] == '0' {
		return 0, false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseInt(string(s), 10, 64)
	return n, err == nil
}

// trimComment removes blanks around s and a comment after it.
func trimComment(s []byte) []byte {
	for i, c := range s {
		if c == '#' && (i == 0 || s[i-1] == ' ' || s[i-1] == '\t') {
			s = s[:i]
			break
		}
	}
	return bytes.Trim(s, " \t")
}

// meta reads an entry's "{create_revision: 1, mod_revision: 2, version: 1}".
func (d *decoder) meta(rest []byte, num int) error {
	s := bytes.Trim(rest, " \t")
	if len(s) == 0 || s[0] != '{' {
		return d.fail(num, ErrUnsupported, msgMetaShape)
	}
	end := bytes.IndexByte(s, '}')
	if end < 0 {
		return d.fail(num, ErrUnsupported, msgMetaShape)
	}
	if tail := s[end+1:]; len(tail) > 0 && (tail[0] != ' ' && tail[0] != '\t' || !skipIgnored(tail)) {
		return d.fail(num, ErrSyntax, msgAfterScalar)
	}
	body := bytes.Trim(s[1:end], " \t")
	seen := [3]bool{}
	for len(body) > 0 {
		item, more, _ := bytes.Cut(body, []byte(","))
		name, val, ok := bytes.Cut(bytes.Trim(item, " \t"), []byte(": "))
		if !ok {
			return d.fail(num, ErrSyntax, msgMetaShape)
		}
		i := -1
		switch string(name) {
		case metaCreate:
			i = 0
		case metaMod:
			i = 1
		case metaVersion:
			i = 2
		default:
			return d.fail(num, ErrSyntax, msgUnknownField, strconv.Quote(string(name)))
		}
		if seen[i] {
			return d.fail(num, ErrSyntax, msgDuplicateField, string(name), num)
		}
		seen[i] = true
		n, ok := decimal(bytes.Trim(val, " \t"))
		if !ok {
			return d.fail(num, ErrSyntax, msgNotNumber, string(name), strconv.Quote(string(val)))
		}
		d.e.meta[i] = n
		body = bytes.TrimLeft(more, " \t")
	}
	return nil
}

// scalar reads a string field's value: rest is what follows "name:" on the
// current line, col the field's column (block scalars may continue on the
// following lines), dst the buffer to decode into. null reports an empty
// or null value ("", "~", "null"). limit bounds the decoded length.
func (d *decoder) scalar(rest []byte, col int, dst []byte, limit int) (v []byte, null bool, err error) {
	num := d.lr.num
	s := bytes.TrimLeft(rest, " \t")
	binary := false
	if tag, after, ok := cutTag(s); ok {
		switch tag {
		case binaryTag:
			binary = true
		case strTag:
		default:
			return nil, false, d.fail(num, ErrUnsupported, msgTag, strconv.Quote(tag))
		}
		s = after
	}
	if binary {
		raw, null, err := d.text(s, col, d.scratch[:0], 2*limit)
		d.scratch = raw
		if err != nil || null {
			return nil, null, err
		}
		v, err := base64.StdEncoding.AppendDecode(dst, raw)
		if err != nil {
			var corrupt base64.CorruptInputError
			if errors.As(err, &corrupt) {
				return nil, false, d.fail(num, ErrBadBase64, msgBase64At, int64(corrupt)+1)
			}
			return nil, false, d.fail(num, ErrBadBase64, "%v", err)
		}
		if len(v) > limit {
			return nil, false, d.tooLong(num, len(v))
		}
		return v, false, nil
	}
	v, null, err = d.text(s, col, dst, limit)
	if err == nil && !null && !utf8.Valid(v) {
		// Escapes can only make valid UTF-8, and the lines are checked,
		// so this is a safeguard rather than a case of its own.
		return nil, false, d.fail(num, ErrSyntax, msgInvalidUTF8, 1)
	}
	return v, null, err
}

// cutTag splits a leading "!tag " off s.
func cutTag(s []byte) (tag string, rest []byte, ok bool) {
	if len(s) == 0 || s[0] != '!' {
		return "", s, false
	}
	i := bytes.IndexAny(s, " \t")
	if i < 0 {
		return string(s), nil, true
	}
	return string(s[:i]), bytes.TrimLeft(s[i:], " \t"), true
}

// tooLong reports a scalar longer than its field allows.
func (d *decoder) tooLong(num, n int) error {
	if d.field == fieldValue {
		return d.fail(num, backends.ErrValueTooLarge, msgValueSize, n, backends.MaxValueSize)
	}
	return d.fail(num, backends.ErrInvalidKey, msgKeyLength, n, backends.MaxKeySize)
}

// text reads an untagged scalar's text into dst.
func (d *decoder) text(s []byte, col int, dst []byte, limit int) ([]byte, bool, error) {
	num := d.lr.num
	if len(s) == 0 || s[0] == '#' {
		if err := d.noContinuation(col); err != nil {
			return nil, false, err
		}
		return nil, true, nil
	}
	var v []byte
	var tail []byte
	switch s[0] {
	case '|':
		v, err := d.block(s[1:], col, dst, limit)
		return v, false, err
	case '>':
		return nil, false, d.fail(num, ErrUnsupported, msgFolded)
	case '\'':
		end := -1
		for i := 1; i < len(s); i++ {
			if s[i] == '\'' {
				if i+1 < len(s) && s[i+1] == '\'' {
					i++
					continue
				}
				end = i
				break
			}
		}
		if end < 0 {
			return nil, false, d.fail(num, ErrUnsupported, msgMultiLineQuoted)
		}
		v = dst
		for i := 1; i < end; i++ {
			v = append(v, s[i])
			if s[i] == '\'' {
				i++
			}
		}
		tail = s[end+1:]
	case '"':
		var err error
		v, tail, err = d.double(s, dst)
		if err != nil {
			return nil, false, err
		}
	case '&', '*':
		return nil, false, d.fail(num, ErrUnsupported, msgAnchor)
	case '[', '{':
		return nil, false, d.fail(num, ErrUnsupported, msgFlowCollection)
	case '%', '@', '`', ',', ']', '}':
		return nil, false, d.fail(num, ErrSyntax, msgIndicator, string(s[0]))
	default:
		if (s[0] == '-' || s[0] == '?' || s[0] == ':') && (len(s) == 1 || s[1] == ' ' || s[1] == '\t') {
			return nil, false, d.fail(num, ErrUnsupported, msgIndicator, string(s[0]))
		}
		p := trimComment(s)
		for i, c := range p {
			if c == ':' && (i+1 == len(p) || p[i+1] == ' ' || p[i+1] == '\t') {
				return nil, false, d.fail(num, ErrSyntax, msgColonInPlain)
			}
		}
		switch string(p) {
		case "~", "null", "Null", "NULL":
			return nil, true, d.noContinuation(col)
		}
		v = append(dst, p...)
	}
	if len(tail) > 0 && (tail[0] != ' ' && tail[0] != '\t' || !skipIgnored(tail)) {
		return nil, false, d.fail(num, ErrSyntax, msgAfterScalar)
	}
	if len(v) > limit {
		return nil, false, d.tooLong(num, len(v))
	}
	return v, false, d.noContinuation(col)
}

// noContinuation rejects a line after a one-line scalar that YAML would
// read as its continuation (more indented than the field at col).
func (d *decoder) noContinuation(col int) error {
	for {
		ok, err := d.lr.next()
		if err != nil || !ok {
			return err
		}
		line := d.lr.line
		c := indentOf(line)
		if c < len(line) && line[c] == '\t' {
			return d.fail(d.lr.num, ErrUnsupported, msgTabIndent)
		}
		if c == len(line) {
			continue
		}
		d.lr.unread()
		if c > col && (c >= len(line) || line[c] != '#') {
			return d.fail(d.lr.num, ErrUnsupported, msgContinuation)
		}
		return nil
	}
}

// double decodes a one-line double-quoted scalar at the start of s.
func (d *decoder) double(s, dst []byte) (v, tail []byte, err error) {
	num := d.lr.num
	v = dst
	for i := 1; i < len(s); i++ {
		c := s[i]
		switch c {
		case '"':
			return v, s[i+1:], nil
		case '\\':
		default:
			v = append(v, c)
			continue
		}
		i++
		if i == len(s) {
			break
		}
		width := 0
		switch s[i] {
		case '0':
			v = append(v, 0)
		case 'a':
			v = append(v, '\a')
		case 'b':
			v = append(v, '\b')
		case 't', '\t':
			v = append(v, '\t')
		case 'n':
			v = append(v, '\n')
		case 'v':
			v = append(v, '\v')
		case 'f':
			v = append(v, '\f')
		case 'r':
			v = append(v, '\r')
		case 'e':
			v = append(v, 0x1b)
		case ' ', '"', '\'', '\\':
			v = append(v, s[i])
		case 'N':
			v = utf8.AppendRune(v, 0x85)
		case '_':
			v = utf8.AppendRune(v, 0xa0)
		case 'L':
			v = utf8.AppendRune(v, 0x2028)
		case 'P':
			v = utf8.AppendRune(v, 0x2029)
		case 'x':
			width = 2
		case 'u':
			width = 4
		case 'U':
			width = 8
		default:
			return nil, nil, d.fail(num, ErrSyntax, msgBadEscape, string(s[i-1:i+1]), i)
		}
		if width == 0 {
			continue
		}
		if i+width >= len(s) {
			return nil, nil, d.fail(num, ErrSyntax, msgBadEscape, string(s[i-1:]), i)
		}
		r, perr := strconv.ParseUint(string(s[i+1:i+1+width]), 16, 32)
		if perr != nil || r >= 0xd800 && r <= 0xdfff || r > utf8.MaxRune {
			return nil, nil, d.fail(num, ErrSyntax, msgBadEscape, string(s[i-1:i+1+width]), i)
		}
		v = utf8.AppendRune(v, rune(r))
		i += width
	}
	return nil, nil, d.fail(num, ErrUnsupported, msgMultiLineQuoted)
}

// block reads a literal block scalar: header is what follows "|" on the
// current line; its content lines follow, indented more than col. The rules
// are YAML's (and yaml.v3's): the indentation is given by the header's
// indicator (relative to col) or by the first non-empty line; a tab inside
// the indentation is an error; the chomping indicator decides how many of
// the trailing line breaks are kept.
func (d *decoder) block(header []byte, col int, dst []byte, limit int) ([]byte, error) {
	num := d.lr.num
	indent, chomp := 0, byte(0)
	h := header
	for i := 0; i < 2 && len(h) > 0; i++ {
		switch c := h[0]; {
		case (c == '+' || c == '-') && chomp == 0:
			chomp = c
		case c >= '1' && c <= '9' && indent == 0:
			indent = col + int(c-'0')
		default:
			i = 2
			continue
		}
		h = h[1:]
	}
	if len(h) > 0 && (h[0] != ' ' && h[0] != '\t' || !skipIgnored(h)) {
		return nil, d.fail(num, ErrSyntax, msgBlockHeader)
	}
	v := dst
	var leading bool // the last content line's break, not yet added
	var trailing int // empty lines since the last content line
	var started bool // a content line was added
	maxIndent := 0
	for {
		ok, err := d.lr.next()
		if err != nil {
			return nil, err
		}
		if !ok {
			break
		}
		line := d.lr.line
		c := 0
		for c < len(line) && line[c] == ' ' && (indent == 0 || c < indent) {
			c++
		}
		if indent == 0 && c > maxIndent {
			maxIndent = c
		}
		if (indent == 0 || c < indent) && c < len(line) && line[c] == '\t' {
			return nil, d.fail(d.lr.num, ErrSyntax, msgTabInBlock)
		}
		if c == len(line) { // an empty line
			if d.lr.nl {
				trailing++
			}
			continue
		}
		if indent == 0 {
			indent = max(maxIndent, col+1, 1)
		}
		if c < indent {
			d.lr.unread()
			break
		}
		if started && leading {
			v = append(v, '\n')
		}
		for range trailing {
			v = append(v, '\n')
		}
		trailing = 0
		v = append(v, line[indent:]...)
		started, leading = true, d.lr.nl
		if len(v) > limit {
			return nil, d.tooLong(num, len(v))
		}
	}
	switch chomp {
	case 0: // clip
		if started && leading {
			v = append(v, '\n')
		}
	case '+':
		if started && leading {
			v = append(v, '\n')
		}
		for range trailing {
			v = append(v, '\n')
		}
	}
	if len(v) > limit {
		return nil, d.tooLong(num, len(v))
	}
	return v, nil
}
