package dump

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/k3/k3-storage/backends"
)

// refFile is the format as yaml.v3 sees it: the reference the encoder and
// the decoder are checked against.
type refFile struct {
	Format   string     `yaml:"format"`
	Prefix   string     `yaml:"prefix"`
	Revision int64      `yaml:"revision"`
	Keys     []refEntry `yaml:"keys"`
	Count    int64      `yaml:"count"`
}

type refEntry struct {
	Key   string  `yaml:"key"`
	Meta  refMeta `yaml:"meta"`
	Value string  `yaml:"value"`
}

type refMeta struct {
	Create  int64 `yaml:"create_revision"`
	Mod     int64 `yaml:"mod_revision"`
	Version int64 `yaml:"version"`
}

// yamlDecode decodes data with yaml.v3, strictly (unknown fields fail).
func yamlDecode(data []byte) (refFile, error) {
	var f refFile
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	err := dec.Decode(&f)
	return f, err
}

// ownDecode decodes data with the package's decoder into the same shape.
func ownDecode(data []byte) (refFile, error) {
	d := newDecoder(bytes.NewReader(data), "")
	var f refFile
	for {
		e, err := d.next()
		if err != nil {
			return f, err
		}
		if e == nil {
			break
		}
		f.Keys = append(f.Keys, refEntry{
			Key: string(e.key), Value: string(e.value),
			Meta: refMeta{e.meta[0], e.meta[1], e.meta[2]},
		})
	}
	f.Format, f.Prefix, f.Revision, f.Count = string(d.format), string(d.prefix), d.revision, d.count
	return f, nil
}

// encode writes kvs as an export of prefix at revision rev would.
func encode(prefix string, rev int64, kvs []backends.KeyValue) []byte {
	opts := ExportOptions{Prefix: prefix}
	b := appendHeader(nil, opts, rev)
	if len(kvs) == 0 {
		b = append(b, "keys: []\n"...)
	} else {
		b = append(b, "keys:\n"...)
	}
	var scratch []byte
	for i := range kvs {
		b, scratch = appendEntry(b, scratch, &kvs[i], false)
	}
	return appendInt(b, fieldCount, int64(len(kvs)))
}

// hostile are strings that a careless YAML writer gets wrong.
func hostile() []string {
	s := []string{
		"\x00", "a\x00b", "\xff", "\xfe\xff", "\xc3\x28", "\xed\xa0\x80", "\xf4\x90\x80\x80",
		"\x1b[31mred\x1b[0m", "\x1b]0;title\a", "\r", "\r\n", "a\rb", "\x7f", "\u0080", "\u0085",
		"\u2028", "\u2029", "\ufeff", "\ufeffa", "\u202eevil", "\u2066x\u2069", "\u200e", "\ufffe",
		"---", "...", "--- a", "#", "# c", "a #b", "a#b", "a: b", "a:", ":a", "- a", "-", "?", "? a",
		" ", "  ", " a", "a ", " a ", "\t", "a\t", "\ta", "a\tb", "\n", "\n\n", "a\n", "a\n\n", "a\n\n\n",
		"\na", "\n\na", " a\nb", "a \nb", "a\n b", "a\n\tb", "a\n \n", "a\n  \nb", "a\n\nb", "a\nb\n",
		"a\n#b", "a\n---\nb", "a\n...\n", "a\n- b", "true", "false", "True", "FALSE", "null", "Null",
		"~", "yes", "no", "on", "off", "y", "n", "Y", "N", "1", "-1", "+1", "0", "00", "012", "0x1F",
		"0o17", "0b101", "1_000", "1e3", "1.5", ".5", ".inf", "-.inf", ".nan", ".NaN", "2001-12-14",
		"2001-12-14t21:59:43.10-05:00", "12:30:00", "=", "<<", "'", "''", "\"", "\\", "\\n", "|", "|-",
		">", "&a", "*a", "!a", "!!binary", "!!str x", "%YAML", "@a", "`a", "[a]", "{a: b}", ",", "a,b",
		"/", "//", "/a", "/a/", "/a:", "/a:b", "/a: b", "/a b", "/a#b", "/a #b", "/~", "/a=b+c@d",
		"/registry/pods/default/nginx-7d9", "/registry/clusterroles/system:aggregate-to-admin",
		"/默认/配置", "中文", "emoji 😀", "/😀", "\U0010ffff", "\uffef",
		"{\n  \"kind\": \"Pod\",\n  \"spec\": {}\n}\n", "line one\nline two", "x\n\ty",
		strings.Repeat("a", 200), strings.Repeat("\x00", 100), strings.Repeat("\x00x", 50),
		"text with a few escapes \x01\x02 in it, long enough to stay text and not binary",
	}
	return s
}

func checkRoundTrip(t *testing.T, kvs []backends.KeyValue) {
	t.Helper()
	data := encode("/p\x00re", 42, kvs)
	want := refFile{Format: FormatVersion, Prefix: "/p\x00re", Revision: 42, Count: int64(len(kvs))}
	for _, kv := range kvs {
		want.Keys = append(want.Keys, refEntry{Key: kv.Key, Value: string(kv.Value),
			Meta: refMeta{kv.CreateRevision, kv.ModRevision, kv.Version}})
	}
	ref, err := yamlDecode(data)
	if err != nil {
		t.Fatalf("yaml.v3 rejects the export: %v\n%s", err, data)
	}
	if d := diffFiles(want, ref); d != "" {
		t.Fatalf("yaml.v3 decodes the export differently: %s\n%s", d, data)
	}
	own, err := ownDecode(data)
	if err != nil {
		t.Fatalf("own decoder rejects the export: %v\n%s", err, data)
	}
	if d := diffFiles(want, own); d != "" {
		t.Fatalf("own decoder decodes the export differently: %s\n%s", d, data)
	}
}

// diffFiles describes the first difference between two decoded files.
func diffFiles(a, b refFile) string {
	if a.Format != b.Format || a.Prefix != b.Prefix || a.Revision != b.Revision || a.Count != b.Count {
		return fmt.Sprintf("header %q %q %d %d, want %q %q %d %d",
			b.Format, b.Prefix, b.Revision, b.Count, a.Format, a.Prefix, a.Revision, a.Count)
	}
	if len(a.Keys) != len(b.Keys) {
		return fmt.Sprintf("%d entries, want %d", len(b.Keys), len(a.Keys))
	}
	for i := range a.Keys {
		if a.Keys[i] != b.Keys[i] {
			return fmt.Sprintf("entry %d: %q=%q %v, want %q=%q %v", i,
				b.Keys[i].Key, b.Keys[i].Value, b.Keys[i].Meta, a.Keys[i].Key, a.Keys[i].Value, a.Keys[i].Meta)
		}
	}
	return ""
}

// TestRoundTripHostile is the seed corpus of the fuzz targets, run as a
// test: every hostile string as a key and as a value survives both yaml.v3
// and the package's decoder.
func TestRoundTripHostile(t *testing.T) {
	for _, s := range hostile() {
		t.Run(fmt.Sprintf("%q", s), func(t *testing.T) {
			kvs := []backends.KeyValue{{Key: "/k", Value: []byte(s), CreateRevision: 1, ModRevision: 2, Version: 3}}
			if s != "" && s != "/k" {
				kvs = append(kvs, backends.KeyValue{Key: s, Value: []byte(s), CreateRevision: 4, ModRevision: 5, Version: 1})
			}
			checkRoundTrip(t, kvs)
		})
	}
}

func TestRoundTripLarge(t *testing.T) {
	text := bytes.Repeat([]byte("0123456789 abcdefghij\n"), backends.MaxValueSize/22+1)[:backends.MaxValueSize]
	binary := make([]byte, backends.MaxValueSize)
	for i := range binary {
		binary[i] = byte(i * 7)
	}
	oneLine := bytes.Repeat([]byte(`{"a":"b"}`), backends.MaxValueSize/9)
	checkRoundTrip(t, []backends.KeyValue{
		{Key: "/binary", Value: binary},
		{Key: "/empty", Value: []byte{}},
		{Key: "/one-line", Value: oneLine},
		{Key: "/text", Value: text},
		{Key: strings.Repeat("\xff", backends.MaxKeySize), Value: []byte("long binary key")},
		{Key: "/" + strings.Repeat("k", backends.MaxKeySize-1), Value: []byte("long key")},
	})
}

func TestRoundTripEmpty(t *testing.T) {
	checkRoundTrip(t, nil)
}

// TestStyles pins the styles that make an export readable.
func TestStyles(t *testing.T) {
	tests := []struct {
		s     string
		block bool
		want  style
	}{
		{"/registry/pods/default/nginx", false, stylePlain},
		{"/registry/clusterroles/system:admin", false, stylePlain},
		{"/默认", false, stylePlain},
		{"/a:", false, styleSingle},
		{"/a b", false, styleSingle},
		{"true", false, styleSingle},
		{`{"kind":"Pod"}`, true, styleSingle},
		{"", true, styleSingle},
		{"a\tb", false, styleDouble},
		{"a\nb", false, styleDouble},
		{"a\nb", true, styleBlock},
		{"{\n  \"a\": 1\n}\n", true, styleBlock},
		{"a \nb", true, styleDouble},
		{" a\nb", true, styleDouble},
		{"\x1b[31mred\x1b[0m", true, styleDouble},
		{"\u202eevil", true, styleDouble},
		{"\x00", true, styleBinary},
		{"\xff", true, styleBinary},
		{"k8s\x00\x0a\x09\x0a\x02v1\x12\x03Pod\x1a\xb5\x01", true, styleBinary},
		{"\x00\x01a", true, styleBinary},
		{"\x00\x01abcd", true, styleDouble},
	}
	for _, tt := range tests {
		if got := scalarStyle([]byte(tt.s), tt.block); got != tt.want {
			t.Errorf("scalarStyle(%q, %v) = %d, want %d", tt.s, tt.block, got, tt.want)
		}
	}
}

// TestExample pins the exact output for a small store, the example in the
// package documentation.
func TestExample(t *testing.T) {
	got := string(encode("/registry/", 1234, []backends.KeyValue{
		{Key: "/registry/configmaps/default/app", Value: []byte("line one\nline two\n"), CreateRevision: 17, ModRevision: 1201, Version: 4},
		{Key: "\x00\x01\x02\xff", Value: []byte("plain text, quoted: it does not start with /"), CreateRevision: 18, ModRevision: 18, Version: 1},
	}))
	want := `format: k3-storage-export/1
prefix: /registry/
revision: 1234
keys:
- key: /registry/configmaps/default/app
  meta: {create_revision: 17, mod_revision: 1201, version: 4}
  value: |
    line one
    line two
- key: !!binary AAEC/w==
  meta: {create_revision: 18, mod_revision: 18, version: 1}
  value: 'plain text, quoted: it does not start with /'
count: 2
`
	// The header comment is text for people; the rest is pinned.
	var body []string
	for _, line := range strings.SplitAfter(got, "\n") {
		if !strings.HasPrefix(line, "# ") {
			body = append(body, line)
		}
	}
	if b := strings.Join(body, ""); b != want {
		t.Errorf("export:\n%s\nwant:\n%s", b, want)
	}
}

// FuzzRoundTrip checks that any key and value survive yaml.v3 and the
// package's decoder byte for byte. Run it with
// go test -fuzz FuzzRoundTrip ./dump/
func FuzzRoundTrip(f *testing.F) {
	for _, s := range hostile() {
		f.Add(s, []byte(s))
	}
	f.Fuzz(func(t *testing.T, key string, value []byte) {
		if backends.CheckWrite(key, value) != nil || len(value) > 64<<10 {
			return // large values are TestRoundTripLarge's
		}
		checkRoundTrip(t, []backends.KeyValue{{Key: key, Value: value, CreateRevision: 1, ModRevision: 2, Version: 1}})
	})
}

// FuzzDecode checks that whatever the package's decoder accepts, yaml.v3
// accepts too and decodes to the same data; the seeds are exports and
// hand-edited files. Run it with go test -fuzz FuzzDecode ./dump/
func FuzzDecode(f *testing.F) {
	for _, seed := range decodeSeeds() {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		own, err := ownDecode(data)
		if err != nil {
			var fe *FormatError
			if !errors.As(err, &fe) || fe.Line < 1 {
				t.Fatalf("error %v is not a *FormatError with a line", err)
			}
			return
		}
		ref, err := yamlDecode(data)
		if err != nil {
			t.Fatalf("own decoder accepts what yaml.v3 rejects (%v):\n%q", err, data)
		}
		if d := diffFiles(ref, own); d != "" {
			t.Fatalf("own decoder differs from yaml.v3: %s\n%q", d, data)
		}
	})
}

// decodeSeeds are files for FuzzDecode: an export of the hostile strings
// and the accepted hand-edited files.
func decodeSeeds() []string {
	var kvs []backends.KeyValue
	for i, s := range hostile() {
		kvs = append(kvs, backends.KeyValue{Key: fmt.Sprintf("/%03d", i), Value: []byte(s), CreateRevision: 1, ModRevision: 1, Version: 1})
	}
	seeds := []string{string(encode("", 7, kvs)), string(encode("/x", 0, nil))}
	for _, tt := range handEdited() {
		seeds = append(seeds, tt.file)
	}
	for _, tt := range malformed() {
		if len(tt.file) < 64<<10 { // large files make fuzzing crawl
			seeds = append(seeds, tt.file)
		}
	}
	return seeds
}
