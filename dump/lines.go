package dump

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"unicode/utf8"

	"github.com/k3/k3-storage/backends"
)

// maxLine bounds one line of an import file: a value of MaxValueSize
// written with an escape for every byte, and some room for the field name.
const maxLine = 4*backends.MaxValueSize + 4096

// lineReader reads an import file line by line in constant memory (one
// buffer that grows to the longest line), checking that every line is
// text YAML accepts and that this package's reader can take.
type lineReader struct {
	r    *bufio.Reader
	path string
	long []byte // holds a line longer than r's buffer

	line   []byte // the current line, without its line break
	nl     bool   // the current line ended with a line break
	num    int    // the current line's number, 1-based
	bytes  int64  // bytes read so far, including the current line
	held   bool   // unread was called: next returns the same line
	eof    bool
	readEr error // a read error other than io.EOF
}

func newLineReader(r io.Reader, path string) *lineReader {
	return &lineReader{r: bufio.NewReaderSize(r, 256<<10), path: path}
}

// next moves to the next line. It returns false at the end of the input
// (check err) or on a line that is not acceptable text (err is a
// *FormatError).
func (lr *lineReader) next() (bool, error) {
	if lr.held {
		lr.held = false
		return true, nil
	}
	if lr.eof {
		return false, lr.readEr
	}
	line, err := lr.r.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		lr.long = append(lr.long[:0], line...)
		for errors.Is(err, bufio.ErrBufferFull) {
			if len(lr.long) > maxLine {
				return false, lr.fail(lr.num+1, ErrUnsupported, msgLineTooLong, maxLine)
			}
			line, err = lr.r.ReadSlice('\n')
			lr.long = append(lr.long, line...)
		}
		line = lr.long
	}
	if err != nil {
		lr.eof = true
		if !errors.Is(err, io.EOF) {
			lr.readEr = err
			return false, err
		}
		if len(line) == 0 {
			return false, nil
		}
	}
	lr.num++
	lr.bytes += int64(len(line))
	if len(line) > maxLine {
		return false, lr.fail(lr.num, ErrUnsupported, msgLineTooLong, maxLine)
	}
	lr.nl = len(line) > 0 && line[len(line)-1] == '\n'
	if lr.nl {
		line = line[:len(line)-1]
		if len(line) > 0 && line[len(line)-1] == '\r' {
			line = line[:len(line)-1] // a CRLF line break
		}
	}
	if lr.num == 1 {
		line = bytes.TrimPrefix(line, []byte("\uFEFF"))
	}
	lr.line = line
	return true, lr.check(line)
}

// unread makes the next call of next return the current line again.
func (lr *lineReader) unread() { lr.held = true }

// check rejects characters YAML does not allow in a stream (controls other
// than tab), that it reads as line breaks (a lone CR, NEL, LS, PS), a byte
// order mark inside the file, and invalid UTF-8.
func (lr *lineReader) check(line []byte) error {
	for i := 0; i < len(line); {
		c := line[i]
		if c < utf8.RuneSelf {
			if (c < 0x20 && c != '\t') || c == 0x7f {
				return lr.fail(lr.num, ErrSyntax, msgControlChar, c, i+1)
			}
			i++
			continue
		}
		r, n := utf8.DecodeRune(line[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			return lr.fail(lr.num, ErrSyntax, msgInvalidUTF8, i+1)
		case r < 0xa0 && r != 0x85, r >= 0xd800 && r <= 0xdfff, r == 0xfffe, r == 0xffff:
			return lr.fail(lr.num, ErrSyntax, msgControlRune, r, i+1)
		case r == 0x85, r == 0x2028, r == 0x2029, r == 0xfeff:
			return lr.fail(lr.num, ErrUnsupported, msgBreakRune, r, i+1)
		}
		i += n
	}
	return nil
}

// fail returns a *FormatError at line num.
func (lr *lineReader) fail(num int, kind error, format string, args ...any) error {
	return &FormatError{Path: lr.path, Line: num, Kind: kind, Detail: fmt.Sprintf(format, args...)}
}

// indentOf returns the number of leading spaces of line.
func indentOf(line []byte) int {
	n := 0
	for n < len(line) && line[n] == ' ' {
		n++
	}
	return n
}

// skipIgnored reports whether s is blank or a comment (its first non-blank
// character is '#'): what may follow a scalar or a marker on its line.
func skipIgnored(line []byte) bool {
	for _, c := range line {
		switch c {
		case ' ', '\t':
			continue
		case '#':
			return true
		}
		return false
	}
	return true
}
