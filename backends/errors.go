package backends

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinel errors of the Store contract. Adapters wrap them (with %w) and
// callers test them with errors.Is; nothing matches on error text.
var (
	ErrNotFound      = errors.New("key not found")
	ErrKeyExists     = errors.New("key already exists")
	ErrConflict      = errors.New("revision conflict")
	ErrCompacted     = errors.New("revision compacted")
	ErrInvalidKey    = errors.New("invalid key")
	ErrValueTooLarge = errors.New("value too large")
	ErrClosed        = errors.New("store closed")
	// ErrInvalidRevision is a revision argument no store revision can
	// match: a negative Watch fromRev or HistoryOptions.Before.
	ErrInvalidRevision = errors.New("invalid revision")
)

// ErrPermanent marks a connect failure that retrying cannot fix: rejected
// credentials, a database that does not exist and cannot be created, a TLS
// or protocol mismatch. Adapters join it to the driver's error; the engine
// stops retrying at once when errors.Is(err, ErrPermanent).
var ErrPermanent = errors.New("permanent failure")

// ErrAccessDenied marks a connect failure where the server refused to log
// the configured user in: a wrong user name or password. It always comes
// with ErrPermanent. Refusals for other reasons (a host the user may not
// connect from, a database it may not use) are permanent but not
// ErrAccessDenied, so that a caller can say "user name or password wrong"
// exactly when that is what the server meant.
var ErrAccessDenied = errors.New("access denied")

// Permanent marks err as one retrying cannot fix (see ErrPermanent).
func Permanent(err error) error { return mark(err, ErrPermanent) }

// AccessDenied marks err as the server refusing the user's credentials
// (ErrAccessDenied), hence permanent too. Its text stays err's.
func AccessDenied(err error) error { return mark(err, ErrPermanent, ErrAccessDenied) }

// mark returns err with the sentinels it does not match yet added to its
// chain, its text unchanged; nil for nil.
func mark(err error, sentinels ...error) error {
	if err == nil {
		return nil
	}
	var add []error
	for _, s := range sentinels {
		if !errors.Is(err, s) {
			add = append(add, s)
		}
	}
	if len(add) == 0 {
		return err
	}
	return &markedError{err: err, marks: add}
}

// markedError is an error with sentinels added to its chain.
type markedError struct {
	err   error
	marks []error
}

func (e *markedError) Error() string { return e.err.Error() }
func (e *markedError) Unwrap() []error {
	return append([]error{e.err}, e.marks...)
}

// Size limits enforced alike by every backend. MaxValueSize is etcd's default
// request limit (1.5 MiB), so data written to one backend fits all of them.
const (
	MaxKeySize   = 1024
	MaxValueSize = 1536 * 1024
)

// CheckKey returns an error wrapping ErrInvalidKey if key is empty or longer
// than MaxKeySize.
func CheckKey(key string) error {
	switch {
	case key == "":
		return fmt.Errorf("%w: empty key", ErrInvalidKey)
	case len(key) > MaxKeySize:
		return fmt.Errorf("%w: key is %d bytes (at most %d)", ErrInvalidKey, len(key), MaxKeySize)
	}
	return nil
}

// CheckPrefix returns an error wrapping ErrInvalidKey if prefix is longer
// than MaxKeySize. The empty prefix (all keys) is valid.
func CheckPrefix(prefix string) error {
	if len(prefix) > MaxKeySize {
		return fmt.Errorf("%w: prefix is %d bytes (at most %d)", ErrInvalidKey, len(prefix), MaxKeySize)
	}
	return nil
}

// CheckRevision returns an error wrapping ErrInvalidRevision if rev, a
// revision argument where 0 means "none" or "now", is negative.
func CheckRevision(rev int64) error {
	if rev < 0 {
		return fmt.Errorf("%w: revision %d is negative", ErrInvalidRevision, rev)
	}
	return nil
}

// CheckWrite validates a key and value before a write.
func CheckWrite(key string, value []byte) error {
	if err := CheckKey(key); err != nil {
		return err
	}
	if len(value) > MaxValueSize {
		return fmt.Errorf("%w: value is %d bytes (at most %d)", ErrValueTooLarge, len(value), MaxValueSize)
	}
	return nil
}

// PrefixEnd returns the smallest key greater than every key with the given
// prefix, for half-open range scans [prefix, PrefixEnd(prefix)). It returns
// "" when no such key exists (the prefix is empty or all 0xFF bytes), meaning
// the range is unbounded above.
func PrefixEnd(prefix string) string {
	b := []byte(prefix)
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] < 0xff {
			b[i]++
			return string(b[:i+1])
		}
	}
	return ""
}

// RedactError returns err with every occurrence of each non-empty secret
// in its text replaced by "****" (see Redact), keeping err's chain for
// errors.Is and errors.As; err itself when its text holds no secret.
// Adapters and the engine pass every error that may leave the process
// through it.
func RedactError(err error, secrets ...string) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	if clean := Redact(msg, secrets...); clean != msg {
		return &redactedError{msg: clean, err: err}
	}
	return err
}

// redactedError shows a text with secrets removed while keeping the
// original chain.
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

// Redact replaces every occurrence of each non-empty secret in s with "****".
// Adapters and the engine pass error texts through it before they leave the
// process, so that a password never appears in output.
func Redact(s string, secrets ...string) string {
	for _, sec := range secrets {
		if sec != "" {
			s = strings.ReplaceAll(s, sec, "****")
		}
	}
	return s
}
