// Package dump exports the keys of any backends.Store to a YAML file and
// imports such a file into any Store, through the Store contract only.
//
// # Format
//
// An export is one YAML document (FormatVersion "k3-storage-export/1"):
//
//	# comment lines
//	format: k3-storage-export/1
//	prefix: /registry/
//	revision: 1234
//	keys:
//	- key: /registry/configmaps/default/app
//	  meta: {create_revision: 17, mod_revision: 1201, version: 4}
//	  value: |
//	    line one
//	    line two
//	- key: !!binary AAEC/w==
//	  meta: {create_revision: 18, mod_revision: 18, version: 1}
//	  value: 'plain text, quoted: it does not start with /'
//	count: 2
//
// Entries are in bytewise key order; the file holds no timestamps, so two
// exports of the same data are byte-identical, and a diff between two
// exports shows one hunk per key added, removed or changed.
// ExportOptions.OmitRevisions drops the revision and the meta lines, so
// that exports of equal keys and values from different stores compare
// equal. Keys and values are text when they are valid UTF-8, written
// plain, single-quoted, double-quoted with escapes or as a literal block
// (|, |-, |+) as needed for the bytes to survive exactly: control
// characters, escape sequences, invisible formatting characters, trailing
// blanks and line breaks are escaped in double quotes; a value that reads
// as a YAML number, bool or null is quoted. Other bytes (and text that
// would be mostly escapes) are written as !!binary base64, cut into lines
// of 76 characters for long values. yaml.v3 decodes the file, into string
// fields, to exactly the keys and values exported; the tests and a fuzz
// target check that.
//
// The final "count: N" line must match the number of entries: an export
// cut short lacks it, and Import rejects such a file.
//
// # What Import accepts
//
// Import reads the file as a stream with its own reader, a subset of YAML
// that covers everything Export writes and what careful hand-editing
// produces; where it accepts a file, yaml.v3 decoding into string and
// int64 fields gives the same data. Accepted:
//
//   - top-level fields format (optional; FormatVersion only), prefix and
//     revision (informational), keys (required: a block sequence at any
//     indentation, or []) and count (required), in any order, each once;
//     an optional "---" before them and "..." after them; blank lines and
//     comment lines anywhere outside block scalars; CRLF line ends; a
//     leading byte order mark;
//   - entries "- key: ...", with fields key and value (required) and meta
//     (optional, one line {create_revision: N, mod_revision: N, version: N},
//     not used by Import), in any order, each once, all at one column;
//   - scalars on one line: plain (no ": " and no " #" inside; trailing
//     comments allowed; ~ and null are null, which key and value reject),
//     'single-quoted', "double-quoted" with YAML's escapes; literal block
//     scalars (| with optional indentation and chomping indicators); the
//     tags !!binary (base64, on one line or as a block) and !!str.
//
// Rejected, with a FormatError naming the line: anchors and aliases,
// flow collections other than meta and "keys: []", folded scalars (>),
// multi-line plain or quoted scalars, other tags, several documents, tabs
// in indentation, control characters, a key that is empty or longer than
// backends.MaxKeySize, a value larger than backends.MaxValueSize, duplicate
// keys, invalid base64, unknown or repeated fields, a missing or wrong count.
//
// # Consistency and memory
//
// See Export for what revision the file stands for, and Import for how the
// input is validated before any write (two reads, or a copy to a temporary
// file for a stream that cannot seek). Neither holds all keys in memory.
//
// # Exit codes
//
// ExitCode maps errors to the CLI's exit codes: 0 success, 1 keys skipped
// or failed or a store error (ErrNotAllImported, anything else), 2 a
// rejected file or invalid arguments (ErrMalformed, ErrUsage).
package dump
