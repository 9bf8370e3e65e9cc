package dump

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/k3/k3-storage/backends"
)

// ErrMalformed is satisfied (errors.Is) by every error that rejects an
// import file before anything was written: a *FormatError, or a file that
// changed between Import's two reads (ErrChanged). The CLI exits 2.
var ErrMalformed = errors.New(msgErrMalformed)

// The kinds of *FormatError, for errors.Is. A key that is empty or too long
// is backends.ErrInvalidKey, a value over backends.MaxValueSize
// backends.ErrValueTooLarge.
var (
	// ErrSyntax: not YAML, or YAML that is not this format (a missing
	// colon, wrong indentation, an unknown or repeated field, a number
	// where text belongs).
	ErrSyntax = errors.New(msgErrSyntax)
	// ErrUnsupported: valid YAML that this reader does not accept (see
	// the package documentation), or another format version.
	ErrUnsupported = errors.New(msgErrUnsupported)
	// ErrMissingField: an entry without key or value.
	ErrMissingField = errors.New(msgErrMissingField)
	// ErrDuplicateKey: two entries with the same key.
	ErrDuplicateKey = errors.New(msgErrDuplicateKey)
	// ErrBadBase64: a !!binary scalar that is not base64.
	ErrBadBase64 = errors.New(msgErrBadBase64)
	// ErrTruncated: the final count line is missing or does not match the
	// entries, as when an export was cut short.
	ErrTruncated = errors.New(msgErrTruncated)
)

// ErrChanged reports that the file read a second time (to write its keys)
// differed from what was validated; keys before the difference were
// written. It satisfies ErrMalformed.
var ErrChanged = fmt.Errorf("%w: %s", ErrMalformed, msgErrChanged)

// ErrNotAllImported is returned by Import, with complete ImportStats, when
// some keys were skipped (they existed and Overwrite was off) or failed (a
// conflict that persisted). The CLI exits 1.
var ErrNotAllImported = errors.New(msgErrNotAllImported)

// FormatError rejects an import file. It names the line; Kind says what is
// wrong (one of the Err* kinds above, backends.ErrInvalidKey or
// backends.ErrValueTooLarge) and Detail says more, for people.
// errors.Is(err, ErrMalformed) and errors.Is(err, Kind) hold.
type FormatError struct {
	Path   string // the file's name; "" for a stream
	Line   int    // 1-based
	Kind   error
	Detail string
}

func (e *FormatError) Error() string {
	where := fmt.Sprintf(msgAtLine, e.Line)
	if e.Path != "" {
		where = e.Path + ":" + strconv.Itoa(e.Line)
	}
	if e.Detail == "" {
		return where + ": " + kindText(e.Kind)
	}
	return where + ": " + kindText(e.Kind) + ": " + e.Detail
}

func (e *FormatError) Unwrap() []error { return []error{ErrMalformed, e.Kind} }

// kindText is the description of a FormatError's kind.
func kindText(kind error) string {
	switch kind {
	case backends.ErrInvalidKey:
		return msgErrInvalidKey
	case backends.ErrValueTooLarge:
		return msgErrValueTooLarge
	case nil:
		return msgErrSyntax
	}
	return kind.Error()
}

// ExitCode maps an error of Export or Import to the CLI's exit status: 0
// for nil, 2 for a rejected file or invalid arguments (ErrMalformed:
// nothing was written, or in the case of ErrChanged nothing after the
// change; ErrUsage), 1 for everything else (keys skipped or failed, a store
// or I/O error, a cancelled context).
func ExitCode(err error) int {
	switch {
	case err == nil:
		return 0
	case errors.Is(err, ErrMalformed), errors.Is(err, ErrUsage):
		return 2
	}
	return 1
}

// QuoteKey renders a key for a message on a terminal: Go-quoted, so
// control characters, escape sequences, invalid UTF-8 and invisible
// formatting characters appear as escapes, and cut to about 200 bytes.
func QuoteKey(key string) string {
	const most = 200
	if len(key) > most {
		return strconv.Quote(key[:most]) + fmt.Sprintf(msgKeyCut, len(key))
	}
	return strconv.Quote(key)
}
