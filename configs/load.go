package configs

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"reflect"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Error is one problem with a config file. Its text names the file, the
// line where known, the field and what is allowed, e.g.
//
//	bad.yaml:2: storage.type: unknown type "mysq" (want memory, mysql or etcd)
type Error struct {
	File  string
	Line  int    // 0 when unknown
	Field string // dotted path such as storage.mysql.port; "" for the whole file
	Msg   string
	Err   error // underlying cause (I/O or YAML syntax), if any
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	b.WriteString(": ")
	if e.Field != "" {
		b.WriteString(e.Field)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// Errors is every problem found in one file, in file order.
type Errors []*Error

func (es Errors) Error() string {
	msgs := make([]string, len(es))
	for i, e := range es {
		msgs[i] = e.Error()
	}
	return strings.Join(msgs, "\n")
}

// Unwrap lets errors.As find each *Error.
func (es Errors) Unwrap() []error {
	errs := make([]error, len(es))
	for i, e := range es {
		errs[i] = e
	}
	return errs
}

// maxFileSize bounds what Load reads; a config file is a few hundred bytes.
const maxFileSize = 1 << 20

// Load reads the file at path, decodes it strictly over Default() and
// validates the result. Every error it returns is an *Error or Errors.
func Load(path string) (Config, error) {
	f, err := os.Open(path)
	if err != nil {
		return Config{}, fileError(path, err)
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.IsDir() {
		return Config{}, &Error{File: path, Msg: "is a directory, not a config file"}
	}
	data, err := io.ReadAll(io.LimitReader(f, maxFileSize+1))
	if err != nil {
		return Config{}, fileError(path, err)
	}
	if len(data) > maxFileSize {
		return Config{}, &Error{File: path, Msg: fmt.Sprintf("file is larger than %d bytes; is it really a config file?", maxFileSize)}
	}
	return Parse(path, data)
}

func fileError(path string, err error) error {
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return &Error{File: path, Msg: "no such file", Err: err}
	case errors.Is(err, fs.ErrPermission):
		return &Error{File: path, Msg: "cannot read the file: permission denied", Err: err}
	}
	return &Error{File: path, Msg: "cannot read the file", Err: err}
}

// Parse decodes data (named name in errors) like Load.
func Parse(name string, data []byte) (Config, error) {
	cfg := Default()
	d := decoder{file: name, lines: map[string]int{}}
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return cfg, &Error{File: name, Msg: "file is empty (want at least a storage: section, see configs/config-example.yaml)"}
		}
		return cfg, syntaxError(name, err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return cfg, &Error{File: name, Line: extra.Line, Msg: "more than one YAML document (remove the extra ---)"}
	} else if !errors.Is(err, io.EOF) {
		return cfg, syntaxError(name, err)
	}
	root := &doc
	if root.Kind == yaml.DocumentNode {
		if len(root.Content) == 0 {
			return cfg, &Error{File: name, Msg: "file is empty (want at least a storage: section)"}
		}
		root = root.Content[0]
	}
	if root.Kind == yaml.ScalarNode && root.Tag == "!!null" {
		return cfg, &Error{File: name, Line: root.Line, Msg: "file has no settings (want at least a storage: section)"}
	}
	d.decode("", root, reflect.ValueOf(&cfg).Elem())
	if len(d.errs) > 0 {
		return cfg, d.errs
	}
	for _, fe := range cfg.validate() {
		d.errs = append(d.errs, &Error{File: name, Line: d.line(fe.field), Field: fe.field, Msg: fe.msg})
	}
	if len(d.errs) > 0 {
		return cfg, d.errs
	}
	return cfg, nil
}

// syntaxError turns a YAML parser error ("yaml: line 3: ...") into an *Error
// with the line number split out.
func syntaxError(name string, err error) error {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	line := 0
	if rest, ok := strings.CutPrefix(msg, "line "); ok {
		if n, after, ok := strings.Cut(rest, ": "); ok {
			if l, convErr := strconv.Atoi(n); convErr == nil {
				line, msg = l, after
			}
		}
	}
	return &Error{File: name, Line: line, Msg: "YAML syntax error: " + msg, Err: err}
}

// decoder walks the YAML node tree into a struct by its yaml tags, so that
// every error can name the field path and line.
type decoder struct {
	file  string
	errs  Errors
	lines map[string]int // field path -> line where it was set
}

func (d *decoder) fail(n *yaml.Node, field, format string, args ...any) {
	d.errs = append(d.errs, &Error{File: d.file, Line: n.Line, Field: field, Msg: fmt.Sprintf(format, args...)})
}

// line returns the line where field, or its nearest parent, was set.
func (d *decoder) line(field string) int {
	for f := field; f != ""; {
		if l, ok := d.lines[f]; ok {
			return l
		}
		i := strings.LastIndexAny(f, ".[")
		if i < 0 {
			break
		}
		f = f[:i]
	}
	return 0
}

var durationType = reflect.TypeOf(Duration(0))

func (d *decoder) decode(path string, n *yaml.Node, v reflect.Value) {
	if _, ok := d.lines[path]; !ok && path != "" {
		d.lines[path] = n.Line
	}
	if n.Kind == yaml.AliasNode {
		d.fail(n, path, "YAML aliases are not supported in config files")
		return
	}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return // keep the default
	}
	switch {
	case v.Type() == durationType:
		d.decodeDuration(path, n, v)
	case v.Kind() == reflect.Struct:
		d.decodeStruct(path, n, v)
	case v.Kind() == reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			d.fail(n, path, "want a list, got %s", describe(n, false))
			return
		}
		s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
		for i, item := range n.Content {
			d.decode(fmt.Sprintf("%s[%d]", path, i), item, s.Index(i))
		}
		v.Set(s)
	default:
		d.decodeScalar(path, n, v, false)
	}
}

func (d *decoder) decodeStruct(path string, n *yaml.Node, v reflect.Value) {
	if n.Kind != yaml.MappingNode {
		d.fail(n, path, "want a mapping of settings, got %s", describe(n, false))
		return
	}
	t := v.Type()
	var names []string
	for i := range t.NumField() {
		names = append(names, yamlName(t.Field(i)))
	}
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		field := join(path, k.Value)
		if k.Kind != yaml.ScalarNode {
			d.fail(k, path, "keys must be plain names")
			continue
		}
		if prev, dup := seen[k.Value]; dup {
			d.fail(k, field, "set twice (first on line %d)", prev)
			continue
		}
		seen[k.Value] = k.Line
		d.lines[field] = k.Line
		idx := -1
		for j, name := range names {
			if name == k.Value {
				idx = j
			}
		}
		if idx < 0 {
			msg := fmt.Sprintf("unknown field (want %s)", strings.Join(names, ", "))
			if guess := closest(k.Value, names); guess != "" {
				msg = fmt.Sprintf("unknown field; did you mean %s? (want %s)", guess, strings.Join(names, ", "))
			}
			d.fail(k, field, "%s", msg)
			continue
		}
		fv := v.Field(idx)
		if t.Field(idx).Tag.Get("secret") == "true" {
			if val.Kind == yaml.ScalarNode && val.Tag == "!!null" {
				continue
			}
			d.decodeScalar(field, val, fv, true)
			continue
		}
		d.decode(field, val, fv)
	}
}

func (d *decoder) decodeScalar(path string, n *yaml.Node, v reflect.Value, secret bool) {
	if n.Kind != yaml.ScalarNode {
		d.fail(n, path, "want a single value, got %s", describe(n, secret))
		return
	}
	switch v.Kind() {
	case reflect.String:
		// A bare number where text is expected (a numeric password, say)
		// is kept exactly as written.
		v.SetString(n.Value)
	case reflect.Int:
		if n.Tag != "!!int" {
			d.fail(n, path, "%s is not a whole number", describe(n, secret))
			return
		}
		i, err := strconv.ParseInt(strings.ReplaceAll(n.Value, "_", ""), 0, 64)
		if err != nil || i > math.MaxInt32 || i < math.MinInt32 {
			d.fail(n, path, "%s is out of range", describe(n, secret))
			return
		}
		v.SetInt(i)
	case reflect.Bool:
		b, ok := map[string]bool{"true": true, "false": false}[n.Value]
		if n.Tag != "!!bool" || !ok {
			d.fail(n, path, "%s is not true or false", describe(n, secret))
			return
		}
		v.SetBool(b)
	default:
		d.fail(n, path, "unsupported setting type %s", v.Type())
	}
}

func (d *decoder) decodeDuration(path string, n *yaml.Node, v reflect.Value) {
	if n.Kind != yaml.ScalarNode {
		d.fail(n, path, "want a duration such as 5s or 500ms, got %s", describe(n, false))
		return
	}
	dur, err := time.ParseDuration(n.Value)
	if err != nil {
		if n.Tag == "!!int" && n.Value != "0" {
			d.fail(n, path, "invalid duration %q: a unit is required (want e.g. %ss or %sms)", n.Value, n.Value, n.Value)
			return
		}
		d.fail(n, path, "invalid duration %q (want a number with a unit: ms, s, m, h; e.g. 5s or 500ms)", n.Value)
		return
	}
	if dur < 0 {
		d.fail(n, path, "invalid duration %q: must not be negative", n.Value)
		return
	}
	v.SetInt(int64(dur))
}

// describe names a node's value for an error message, hiding secrets.
func describe(n *yaml.Node, secret bool) string {
	switch {
	case n.Kind == yaml.MappingNode:
		return "a mapping"
	case n.Kind == yaml.SequenceNode:
		return "a list"
	case secret:
		return "the value given"
	}
	return strconv.Quote(n.Value)
}

func yamlName(f reflect.StructField) string {
	name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
	return name
}

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

// closest returns the candidate within edit distance 2 of s, if any.
func closest(s string, candidates []string) string {
	best, bestDist := "", 3
	for _, c := range candidates {
		if dist := editDistance(strings.ToLower(s), c); dist < bestDist {
			best, bestDist = c, dist
		}
	}
	return best
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
