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

	"github.com/k3/k3-storage/internal/suggest"
)

// Error is one problem with a config file. Its text is
// "FILE:LINE: FIELD: MESSAGE", without LINE when unknown and FIELD for the
// whole file; scripts may match that prefix. MESSAGE is Chinese and never
// shows a secret, e.g.
//
//	bad.yaml:2: storage.type: 未知的类型 "mysq"（可选: memory、mysql、etcd）
type Error struct {
	File  string // as given, or the flag or variable that named no file
	Line  int    // 1-based; 0 when unknown
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

// Load reads the file at path and parses it as Parse does.
func Load(path string) (Config, []string, error) {
	f, err := os.Open(path)
	if err != nil {
		return Config{}, nil, fileError(path, err)
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.IsDir() {
		return Config{}, nil, &Error{File: path, Msg: msgIsDirectory}
	}
	data, err := io.ReadAll(io.LimitReader(f, maxFileSize+1))
	if err != nil {
		return Config{}, nil, fileError(path, err)
	}
	if len(data) > maxFileSize {
		return Config{}, nil, &Error{File: path, Msg: fmt.Sprintf(msgTooLarge, maxFileSize)}
	}
	return Parse(path, data)
}

func fileError(path string, err error) *Error {
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return &Error{File: path, Msg: msgNoSuchFile, Err: err}
	case errors.Is(err, fs.ErrPermission):
		return &Error{File: path, Msg: msgPermission, Err: err}
	}
	return &Error{File: path, Msg: msgCannotRead, Err: err}
}

// Parse decodes data, named name in messages, strictly over Default() and
// validates the result. Fields the file leaves out keep their defaults;
// derived ones (a container's volume) follow the fields the file sets.
//
// The warnings, each a sentence naming the file, are about a file that
// loads but probably does not say what its author meant (one that sets
// nothing). On failure the Config is the zero value and the error is an
// *Error, or Errors listing every problem in file order, each at the line
// the user must fix.
func Parse(name string, data []byte) (Config, []string, error) {
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return Config{}, nil, &Error{File: name, Msg: msgEmptyFile}
		}
		return Config{}, nil, syntaxError(name, data, err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return Config{}, nil, &Error{File: name, Line: extra.Line, Msg: msgTwoDocuments}
	} else if !errors.Is(err, io.EOF) {
		return Config{}, nil, syntaxError(name, data, err)
	}
	root := &doc
	if root.Kind == yaml.DocumentNode {
		if len(root.Content) == 0 {
			return Config{}, nil, &Error{File: name, Msg: msgEmptyFile}
		}
		root = root.Content[0]
	}
	if isNull(root) {
		return Config{}, nil, &Error{File: name, Line: root.Line, Msg: msgNullDocument}
	}
	cfg := written()
	d := decoder{file: name, lines: map[string]int{}}
	d.decode("", root, reflect.ValueOf(&cfg).Elem())
	if len(d.errs) > 0 {
		return Config{}, nil, d.errs
	}
	for _, fe := range cfg.validate() {
		d.errs = append(d.errs, &Error{File: name, Line: d.line(fe.field), Field: fe.field, Msg: fe.msg})
	}
	if len(d.errs) > 0 {
		return Config{}, nil, d.errs
	}
	cfg.derive()
	return cfg, emptyWarnings(name, root), nil
}

// emptyWarnings warns about a valid file that sets nothing: "{}", or a
// storage section that is empty or null.
func emptyWarnings(name string, root *yaml.Node) []string {
	if root.Kind != yaml.MappingNode {
		return nil
	}
	switch {
	case len(root.Content) == 0:
		return []string{fmt.Sprintf(warnEmptyFile, name)}
	case len(root.Content) == 2 && root.Content[0].Value == "storage" &&
		(isNull(root.Content[1]) || root.Content[1].Kind == yaml.MappingNode && len(root.Content[1].Content) == 0):
		return []string{fmt.Sprintf(warnEmptyStorage, name)}
	}
	return nil
}

func isNull(n *yaml.Node) bool { return n.Kind == yaml.ScalarNode && n.Tag == "!!null" }

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
		d.fail(n, path, msgAlias)
		return
	}
	if isNull(n) {
		return // keep the default
	}
	switch {
	case v.Type() == durationType:
		d.decodeDuration(path, n, v)
	case v.Kind() == reflect.Struct:
		d.decodeStruct(path, n, v)
	case v.Kind() == reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			d.fail(n, path, msgWantList, got(n, false))
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
		d.fail(n, path, msgWantMapping, got(n, false))
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
			d.fail(k, path, msgKeyNotName)
			continue
		}
		if prev, dup := seen[k.Value]; dup {
			d.fail(k, field, msgSetTwice, prev)
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
			if guess := suggest.Closest(k.Value, names); guess != "" {
				d.fail(k, field, msgDidYouMean, guess, strings.Join(names, fieldSep))
			} else {
				d.fail(k, field, msgUnknownField, strings.Join(names, fieldSep))
			}
			continue
		}
		fv := v.Field(idx)
		if t.Field(idx).Tag.Get("secret") == "true" {
			if isNull(val) {
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
		d.fail(n, path, msgWantScalar, got(n, secret))
		return
	}
	switch v.Kind() {
	case reflect.String:
		// A bare number where text is expected (a numeric password, say)
		// is kept exactly as written.
		v.SetString(n.Value)
	case reflect.Int:
		if n.Tag != "!!int" {
			d.fail(n, path, msgNotInteger, describe(n, secret))
			return
		}
		i, err := strconv.ParseInt(strings.ReplaceAll(n.Value, "_", ""), 0, 64)
		if err != nil || i > math.MaxInt32 || i < math.MinInt32 {
			d.fail(n, path, msgIntRange, describe(n, secret))
			return
		}
		v.SetInt(i)
	case reflect.Bool:
		b, ok := map[string]bool{"true": true, "false": false}[n.Value]
		if n.Tag != "!!bool" || !ok {
			d.fail(n, path, msgNotBool, describe(n, secret))
			return
		}
		v.SetBool(b)
	default:
		d.fail(n, path, msgUnsupported, v.Type())
	}
}

func (d *decoder) decodeDuration(path string, n *yaml.Node, v reflect.Value) {
	if n.Kind != yaml.ScalarNode {
		d.fail(n, path, msgWantDuration, got(n, false))
		return
	}
	dur, err := time.ParseDuration(n.Value)
	if err != nil {
		if n.Tag == "!!int" && n.Value != "0" {
			d.fail(n, path, msgDurationUnit, n.Value, n.Value, n.Value)
			return
		}
		d.fail(n, path, msgBadDuration, n.Value)
		return
	}
	if dur < 0 {
		d.fail(n, path, msgNegDuration, n.Value)
		return
	}
	v.SetInt(int64(dur))
}

// describe names a node's value for an error message, hiding secrets.
func describe(n *yaml.Node, secret bool) string {
	switch {
	case n.Kind == yaml.MappingNode:
		return descMapping
	case n.Kind == yaml.SequenceNode:
		return descList
	case secret:
		return descSecret
	}
	return strconv.Quote(n.Value)
}

// got is describe to follow a Chinese word: a quoted value is set apart by
// a space.
func got(n *yaml.Node, secret bool) string {
	if n.Kind == yaml.ScalarNode && !secret {
		return " " + describe(n, secret)
	}
	return describe(n, secret)
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
