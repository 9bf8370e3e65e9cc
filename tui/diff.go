package tui

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/k3/k3-storage/internal/units"
)

// What an update changed, in one short line for the change feed: the JSON
// paths whose values changed (".status.phase: Pending → Running"), or the
// text before and after, or the sizes. It runs in a tea.Cmd, off the UI
// loop, and its work is bounded: values over maxDiffValue are compared by
// size, a walk visits at most maxDiffNodes nodes and names at most
// maxDiffPaths paths. The result is escaped.

const (
	maxDiffValue = 256 << 10
	maxDiffNodes = 20000
	maxDiffPaths = 3
	// diffValueCells bounds each value shown in a diff.
	diffValueCells = 24
)

// describeChange says what changed from prev to cur.
func describeChange(prev, cur []byte) string {
	if bytes.Equal(prev, cur) {
		return txtDiffSame
	}
	if len(prev) <= maxDiffValue && len(cur) <= maxDiffValue {
		if a, ok := parseJSON(prev); ok {
			if b, ok := parseJSON(cur); ok {
				return jsonDiff(a, b)
			}
		}
		if shortText(prev) && shortText(cur) {
			return showText(string(prev)) + " → " + showText(string(cur))
		}
	}
	return units.Bytes(int64(len(prev))) + " → " + units.Bytes(int64(len(cur)))
}

// parseJSON decodes a JSON object or array, keeping numbers as written.
func parseJSON(v []byte) (any, bool) {
	t := bytes.TrimSpace(v)
	if len(t) == 0 || t[0] != '{' && t[0] != '[' {
		return nil, false
	}
	dec := json.NewDecoder(bytes.NewReader(t))
	dec.UseNumber()
	var out any
	if err := dec.Decode(&out); err != nil || dec.More() {
		return nil, false
	}
	return out, true
}

// shortText reports a value worth showing whole: one line of valid UTF-8.
func shortText(v []byte) bool {
	return len(v) <= 2*diffValueCells && utf8.Valid(v) && bytes.IndexByte(v, '\n') < 0
}

// jsonDiff lists the paths that differ between a and b.
func jsonDiff(a, b any) string {
	d := differ{budget: maxDiffNodes}
	d.walk("", a, b)
	if len(d.paths) == 0 {
		// Equal once parsed: only the formatting changed.
		return txtDiffFormat
	}
	out := strings.Join(d.paths, ", ")
	switch {
	case d.budget <= 0:
		out += ", …"
	case d.more > 0:
		out += fmt.Sprintf(txtDiffMore, d.more)
	}
	return out
}

// differ walks two decoded JSON values side by side.
type differ struct {
	paths  []string
	more   int // differences found beyond maxDiffPaths
	budget int // nodes left to visit
}

func (d *differ) add(s string) {
	if len(d.paths) < maxDiffPaths {
		d.paths = append(d.paths, s)
		return
	}
	d.more++
}

func (d *differ) walk(path string, a, b any) {
	if d.budget--; d.budget <= 0 {
		return
	}
	switch a := a.(type) {
	case map[string]any:
		b, ok := b.(map[string]any)
		if !ok {
			break
		}
		keys := make([]string, 0, len(a)+len(b))
		for k := range a {
			keys = append(keys, k)
		}
		for k := range b {
			if _, ok := a[k]; !ok {
				keys = append(keys, k)
			}
		}
		sort.Strings(keys)
		for _, k := range keys {
			p := path + pathKey(k)
			av, inA := a[k]
			bv, inB := b[k]
			switch {
			case !inA:
				d.added(p, bv)
			case !inB:
				d.add("-" + p)
			default:
				d.walk(p, av, bv)
			}
			if d.budget <= 0 {
				return
			}
		}
		return
	case []any:
		b, ok := b.([]any)
		if !ok {
			break
		}
		for i := 0; i < max(len(a), len(b)); i++ {
			p := path + "[" + strconv.Itoa(i) + "]"
			switch {
			case i >= len(a):
				d.added(p, b[i])
			case i >= len(b):
				d.add("-" + p)
			default:
				d.walk(p, a[i], b[i])
			}
			if d.budget <= 0 {
				return
			}
		}
		return
	default:
		if sameScalar(a, b) {
			return
		}
	}
	if path == "" {
		path = "."
	}
	d.add(path + ": " + showJSON(a) + " → " + showJSON(b))
}

// added lists the leaves of a value added at path: +.spec.nodeName: n1.
func (d *differ) added(path string, v any) {
	if d.budget--; d.budget <= 0 {
		return
	}
	switch v := v.(type) {
	case map[string]any:
		if len(v) > 0 {
			keys := make([]string, 0, len(v))
			for k := range v {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				d.added(path+pathKey(k), v[k])
			}
			return
		}
	case []any:
		if len(v) > 0 {
			for i, e := range v {
				d.added(path+"["+strconv.Itoa(i)+"]", e)
			}
			return
		}
	}
	d.add("+" + path + ": " + showJSON(v))
}

// sameScalar compares two decoded scalars (numbers as written).
func sameScalar(a, b any) bool {
	switch a.(type) {
	case map[string]any, []any:
		return false
	}
	switch b.(type) {
	case map[string]any, []any:
		return false
	}
	return a == b
}

// pathKey is one step of a path: .name, or ["a.b/c"] for a key that is
// not a plain name.
func pathKey(k string) string {
	plain := k != ""
	for i, r := range k {
		if !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || i > 0 && (r == '-' || r >= '0' && r <= '9')) {
			plain = false
			break
		}
	}
	if plain {
		return "." + k
	}
	return "[" + Escape(clipMiddle(strconv.Quote(k), diffValueCells)) + "]"
}

// showJSON is a decoded value as the diff shows it: a short string as it
// is, others as JSON, containers as {…} or […], each at most
// diffValueCells wide, escaped.
func showJSON(v any) string {
	var s string
	switch v := v.(type) {
	case map[string]any:
		if len(v) == 0 {
			return "{}"
		}
		return "{…}"
	case []any:
		if len(v) == 0 {
			return "[]"
		}
		return "[…]"
	case string:
		return showText(v)
	case nil:
		s = "null"
	default:
		s = fmt.Sprint(v)
	}
	return clip(Escape(s), diffValueCells)
}

// quoteText shows a string as it is when that cannot be misread (no
// spaces, quotes or arrows), else quoted.
func quoteText(s string) string {
	odd := func(r rune) bool { return r < 0x20 || r == 0x7f || r >= 0x80 && r < 0xa0 || isInvisible(r) }
	if s == "" || strings.ContainsAny(s, " \"→,:") || strings.ContainsFunc(s, odd) || !utf8.ValidString(s) {
		return strconv.Quote(s)
	}
	return s
}

// showText is a string as the diff shows it: quoted when needed, at most
// diffValueCells wide, escaped.
func showText(s string) string { return clip(Escape(quoteText(s)), diffValueCells) }
