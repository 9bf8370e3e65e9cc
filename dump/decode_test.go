package dump

import (
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/k3/k3-storage/backends"
	"github.com/k3/k3-storage/backends/memory"
)

type handCase struct {
	name string
	file string
	want map[string]string // key -> value
}

// handEdited are files a person could write or edit, which Import accepts.
func handEdited() []handCase {
	return []handCase{
		{"minimal", "keys:\n- key: /a\n  value: b\ncount: 1\n", map[string]string{"/a": "b"}},
		{"empty list", "keys: []\ncount: 0\n", map[string]string{}},
		{"keys null", "keys:\ncount: 0\n", map[string]string{}},
		{"count first", "count: 1\nkeys:\n- key: /a\n  value: b\n", map[string]string{"/a": "b"}},
		{"markers and comments", "# hello\n---\n# x\nformat: k3-storage-export/1 # v1\nprefix: ''\nkeys:\n  # indented comment\n- key: /a # the key\n  # between fields\n  value: 'b' # quoted\n\n# before count\ncount: 1\n...\n# after\n",
			map[string]string{"/a": "b"}},
		{"indented sequence", "keys:\n  - key: /a\n    value: b\n  - value: d\n    key: /c\ncount: 2\n",
			map[string]string{"/a": "b", "/c": "d"}},
		{"wide dash", "keys:\n-   key: /a\n    value: b\ncount: 1\n", map[string]string{"/a": "b"}},
		{"dash alone", "keys:\n-\n  key: /a\n  value: b\ncount: 1\n", map[string]string{"/a": "b"}},
		{"crlf", "keys:\r\n- key: /a\r\n  value: |\r\n    x\r\n    y\r\ncount: 1\r\n", map[string]string{"/a": "x\ny\n"}},
		{"bom", "\ufeffkeys:\n- key: /a\n  value: b\ncount: 1\n", map[string]string{"/a": "b"}},
		{"plain kinds", "keys:\n- key: true\n  value: 012\n- key: 1e3\n  value: 2001-12-14\n- key: a b  \n  value: x:y\ncount: 3\n",
			map[string]string{"true": "012", "1e3": "2001-12-14", "a b": "x:y"}},
		{"double escapes", `keys:
- key: "\x41\u00e9\U0001F600\t\0\e\N\_\L\P\'\ \""
  value: "line\nnext"
count: 1
`, map[string]string{"Aé😀\t\x00\x1b\u0085\u00a0\u2028\u2029' \"": "line\nnext"}},
		{"single quotes", "keys:\n- key: 'it''s'\n  value: '  # not a comment  '\ncount: 1\n", map[string]string{"it's": "  # not a comment  "}},
		{"str tag", "keys:\n- key: !!str /a\n  value: !!str 123\ncount: 1\n", map[string]string{"/a": "123"}},
		{"binary forms", "keys:\n- key: !!binary /w==\n  value: !!binary |\n    AAEC\n    Aw==\n- key: !!binary 'Zm9v'\n  value: !!binary \"YmFy\"\ncount: 2\n",
			map[string]string{"\xff": "\x00\x01\x02\x03", "foo": "bar"}},
		{"block strip", "keys:\n- key: /a\n  value: |-\n    x\n\n    y\n\n\ncount: 1\n", map[string]string{"/a": "x\n\ny"}},
		{"block keep", "keys:\n- key: /a\n  value: |+\n    x\n\n\n- key: /b\n  value: |+\n    y\ncount: 2\n",
			map[string]string{"/a": "x\n\n\n", "/b": "y\n"}},
		{"block indicator", "keys:\n- key: /a\n  value: |2\n      x\n     y\ncount: 1\n", map[string]string{"/a": "  x\n y\n"}},
		{"block indicator and chomp", "keys:\n- key: /a\n  value: |-1 # c\n    x\n   y\ncount: 1\n", map[string]string{"/a": " x\ny"}},
		{"block spaces lines", "keys:\n- key: /a\n  value: |\n    x\n      \n    y\n  \ncount: 1\n", map[string]string{"/a": "x\n  \ny\n"}},
		{"block deeper", "keys:\n- key: /a\n  value: |\n        x\n         y\ncount: 1\n", map[string]string{"/a": "x\n y\n"}},
		{"block with tab content", "keys:\n- key: /a\n  value: |\n    x\n    \ty\ncount: 1\n", map[string]string{"/a": "x\n\ty\n"}},
		{"block at end of file", "count: 1\nkeys:\n- key: /a\n  value: |\n    x", map[string]string{"/a": "x"}},
		{"block key", "keys:\n- key: |-\n    /a\n  value: b\ncount: 1\n", map[string]string{"/a": "b"}},
		{"meta forms", "keys:\n- key: /a\n  meta: {}\n  value: b\n- key: /b\n  value: c\n  meta: {version: 2, create_revision: 1,}\ncount: 2\n",
			map[string]string{"/a": "b", "/b": "c"}},
		{"unsorted", "keys:\n- key: /b\n  value: 1\n- key: /a\n  value: 2\ncount: 2\n", map[string]string{"/a": "2", "/b": "1"}},
		{"no trailing newline", "keys:\n- key: /a\n  value: b\ncount: 1", map[string]string{"/a": "b"}},
	}
}

func TestDecodeHandEdited(t *testing.T) {
	for _, tt := range handEdited() {
		t.Run(tt.name, func(t *testing.T) {
			own, err := ownDecode([]byte(tt.file))
			if err != nil {
				t.Fatalf("rejected: %v", err)
			}
			got := make(map[string]string)
			for _, e := range own.Keys {
				got[e.Key] = e.Value
			}
			if len(got) != len(tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
			for k, v := range tt.want {
				if got[k] != v {
					t.Errorf("key %q = %q, want %q", k, got[k], v)
				}
			}
			ref, err := yamlDecode([]byte(tt.file))
			if err != nil {
				t.Fatalf("yaml.v3 rejects it: %v", err)
			}
			if d := diffFiles(ref, own); d != "" {
				t.Errorf("differs from yaml.v3: %s", d)
			}
		})
	}
}

type badCase struct {
	name string
	file string
	kind error
	line int
}

// malformed are files Import rejects, with the kind and line of the error.
func malformed() []badCase {
	long := strings.Repeat("k", backends.MaxKeySize+1)
	return []badCase{
		{"empty file", "", ErrMissingField, 1},
		{"no keys", "count: 0\n", ErrMissingField, 1},
		{"no count", "keys:\n- key: /a\n  value: b\n", ErrTruncated, 3},
		{"cut in the middle", "keys:\n- key: /a\n  value: b\n- key: /c\n", ErrMissingField, 4},
		{"count mismatch", "keys:\n- key: /a\n  value: b\ncount: 2\n", ErrTruncated, 4},
		{"count not a number", "keys: []\ncount: two\n", ErrSyntax, 2},
		{"count octal", "keys: []\ncount: 00\n", ErrSyntax, 2},
		{"bad yaml", "keys:\n- key: /a\n  value b\ncount: 1\n", ErrSyntax, 3},
		{"bad indentation", "keys:\n- key: /a\n value: b\ncount: 1\n", ErrSyntax, 3},
		{"continuation", "keys:\n- key: /a\n   value: b\ncount: 1\n", ErrUnsupported, 3},
		{"missing key", "keys:\n- value: b\ncount: 1\n", ErrMissingField, 2},
		{"missing value", "keys:\n- key: /a\ncount: 1\n", ErrMissingField, 2},
		{"null key", "keys:\n- key: ~\n  value: b\ncount: 1\n", ErrMissingField, 2},
		{"null value", "keys:\n- key: /a\n  value:\ncount: 1\n", ErrMissingField, 3},
		{"empty key", "keys:\n- key: ''\n  value: b\ncount: 1\n", backends.ErrInvalidKey, 2},
		{"duplicate key", "keys:\n- key: /a\n  value: b\n- key: /a\n  value: c\ncount: 2\n", ErrDuplicateKey, 4},
		{"duplicate key unsorted", "keys:\n- key: /b\n  value: b\n- key: /a\n  value: c\n- key: !!binary L2I=\n  value: d\ncount: 3\n", ErrDuplicateKey, 6},
		{"duplicate field", "keys:\n- key: /a\n  key: /b\n  value: c\ncount: 1\n", ErrSyntax, 3},
		{"unknown field", "keys:\n- key: /a\n  value: b\n  ttl: 5\ncount: 1\n", ErrSyntax, 4},
		{"unknown top field", "keys: []\ncount: 0\nextra: 1\n", ErrSyntax, 3},
		{"invalid base64", "keys:\n- key: /a\n  value: !!binary AB$=\ncount: 1\n", ErrBadBase64, 3},
		{"invalid base64 block", "keys:\n- key: /a\n  value: !!binary |\n    AAAA\n    A\ncount: 1\n", ErrBadBase64, 3},
		{"key too long", "keys:\n- key: /" + long + "\n  value: b\ncount: 1\n", backends.ErrInvalidKey, 2},
		{"value too large", "keys:\n- key: /a\n  value: " + strings.Repeat("v", backends.MaxValueSize+1) + "\ncount: 1\n", backends.ErrValueTooLarge, 3},
		{"value too large block", "keys:\n- key: /a\n  value: |\n" + strings.Repeat("    "+strings.Repeat("v", 1023)+"\n", backends.MaxValueSize/1024+1) + "count: 1\n", backends.ErrValueTooLarge, 3},
		{"control character", "keys:\n- key: /a\n  value: a\x01b\ncount: 1\n", ErrSyntax, 3},
		{"invalid utf-8", "keys:\n- key: /a\n  value: a\xffb\ncount: 1\n", ErrSyntax, 3},
		{"line separator", "keys:\n- key: /a\n  value: a\u2028b\ncount: 1\n", ErrUnsupported, 3},
		{"lone cr", "keys:\n- key: /a\n  value: a\rb\ncount: 1\n", ErrSyntax, 3},
		{"tab indentation", "keys:\n- key: /a\n\tvalue: b\ncount: 1\n", ErrUnsupported, 3},
		{"anchor", "keys:\n- key: &k /a\n  value: b\ncount: 1\n", ErrUnsupported, 2},
		{"alias", "keys:\n- key: /a\n  value: *v\ncount: 1\n", ErrUnsupported, 3},
		{"folded", "keys:\n- key: /a\n  value: >\n    b\ncount: 1\n", ErrUnsupported, 3},
		{"flow value", "keys:\n- key: /a\n  value: [b]\ncount: 1\n", ErrUnsupported, 3},
		{"multi-line plain", "keys:\n- key: /a\n  value: b\n    c\ncount: 1\n", ErrUnsupported, 4},
		{"multi-line quoted", "keys:\n- key: /a\n  value: \"b\n    c\"\ncount: 1\n", ErrUnsupported, 3},
		{"colon in plain", "keys:\n- key: /a: b\n  value: c\ncount: 1\n", ErrSyntax, 2},
		{"junk after quote", "keys:\n- key: '/a' x\n  value: c\ncount: 1\n", ErrSyntax, 2},
		{"bad escape", "keys:\n- key: \"\\q\"\n  value: c\ncount: 1\n", ErrSyntax, 2},
		{"surrogate escape", "keys:\n- key: \"\\ud800\"\n  value: c\ncount: 1\n", ErrSyntax, 2},
		{"other tag", "keys:\n- key: !!int 5\n  value: c\ncount: 1\n", ErrUnsupported, 2},
		{"wrong format", "format: k3-storage-export/2\nkeys: []\ncount: 0\n", ErrUnsupported, 1},
		{"second document", "keys: []\ncount: 0\n---\nkeys: []\n", ErrUnsupported, 3},
		{"after end", "keys: []\ncount: 0\n...\nkeys: []\n", ErrUnsupported, 4},
		{"tab in block indentation", "keys:\n- key: /a\n  value: |\n  \tb\ncount: 1\n", ErrSyntax, 4},
		{"meta junk", "keys:\n- key: /a\n  meta: {version: x}\n  value: b\ncount: 1\n", ErrSyntax, 3},
		{"meta unknown", "keys:\n- key: /a\n  meta: {lease: 1}\n  value: b\ncount: 1\n", ErrSyntax, 3},
		{"quoted field name", "keys:\n- \"key\": /a\n  value: b\ncount: 1\n", ErrUnsupported, 2},
		{"nested sequence", "keys:\n- - /a\ncount: 1\n", ErrSyntax, 2},
		{"scalar item", "keys:\n- /a\ncount: 1\n", ErrSyntax, 2},
	}
}

// TestImportMalformed checks each malformed file is rejected with the
// right kind and line, and before anything is written.
func TestImportMalformed(t *testing.T) {
	for _, tt := range malformed() {
		t.Run(tt.name, func(t *testing.T) {
			store := memory.New(memory.Options{})
			defer store.Close()
			_, err := Import(t.Context(), store, strings.NewReader(tt.file), ImportOptions{Path: "in.yaml"})
			var fe *FormatError
			if !errors.As(err, &fe) {
				t.Fatalf("got %v, want a *FormatError", err)
			}
			if !errors.Is(err, ErrMalformed) || !errors.Is(err, tt.kind) {
				t.Errorf("got %v (kind %v), want kind %v", err, fe.Kind, tt.kind)
			}
			if fe.Line != tt.line {
				t.Errorf("got line %d (%v), want %d", fe.Line, err, tt.line)
			}
			if !strings.HasPrefix(err.Error(), "in.yaml:"+strconv.Itoa(tt.line)+": ") {
				t.Errorf("message %q does not start with the file and line", err)
			}
			if ExitCode(err) != 2 {
				t.Errorf("ExitCode = %d, want 2", ExitCode(err))
			}
			if cur, _, _ := store.Revision(t.Context()); cur != 0 {
				t.Errorf("store revision %d after a rejected import: something was written", cur)
			}
		})
	}
}
