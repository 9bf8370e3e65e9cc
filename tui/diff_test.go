package tui

import (
	"strings"
	"testing"

	"github.com/k3/k3-storage/internal/units"
)

func TestDescribeChange(t *testing.T) {
	big := `{"a":"` + strings.Repeat("x", maxDiffValue) + `"}`
	tests := []struct {
		name, prev, cur, want string
	}{
		{"phase", `{"status":{"phase":"Pending"}}`, `{"status":{"phase":"Running"}}`, ".status.phase: Pending → Running"},
		{"added leaves", `{"kind":"Pod"}`, `{"kind":"Pod","spec":{"nodeName":"node-1","n":2}}`, "+.spec.n: 2, +.spec.nodeName: node-1"},
		{"removed", `{"a":1,"b":2}`, `{"a":1}`, "-.b"},
		{"numbers as written", `{"n":1.0}`, `{"n":1}`, ".n: 1.0 → 1"},
		{"array", `{"l":[1,2]}`, `{"l":[1,3,4]}`, ".l[1]: 2 → 3, +.l[2]: 4"},
		{"type change", `{"a":{"b":1}}`, `{"a":[1]}`, ".a: {…} → […]"},
		{"odd keys", `{"metadata":{"labels":{"app.kubernetes.io/name":"a"}}}`, `{"metadata":{"labels":{"app.kubernetes.io/name":"b"}}}`,
			`.metadata.labels["app.kubernetes.io/name"]: a → b`},
		{"quoted strings", `{"s":"a b"}`, `{"s":""}`, `.s: "a b" → ""`},
		{"more than three", `{"a":1,"b":1,"c":1,"d":1,"e":1}`, `{"a":2,"b":2,"c":2,"d":2,"e":2}`, ".a: 1 → 2, .b: 1 → 2, .c: 1 → 2 等（另 2 处）"},
		{"format only", `{"a":1}`, "{\n  \"a\": 1\n}", txtDiffFormat},
		{"same", `x`, `x`, txtDiffSame},
		{"short text", `Pending`, `Running now`, `Pending → "Running now"`},
		{"long text", strings.Repeat("a", 100), strings.Repeat("b", 120), "100 B → 120 B"},
		{"too large for json", big, big + " ", units.Bytes(int64(len(big))) + " → " + units.Bytes(int64(len(big)+1))},
		{"root", `[1]`, `{"a":1}`, ".: […] → {…}"},
		{"hostile", `{"k":"a"}`, "{\"k\":\"\\u001b]52;c;eA==\\u0007\",\"\\u202e\":1}", `.k: a → "\x1b]52;c;eA==\a", +["\u202e"]: 1`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := describeChange([]byte(tt.prev), []byte(tt.cur)); got != tt.want {
				t.Fatalf("got  %q\nwant %q", got, tt.want)
			}
		})
	}
}

// TestDescribeChangeBounded: a diff of two large values that differ
// everywhere visits a bounded number of nodes and stays one short line.
func TestDescribeChangeBounded(t *testing.T) {
	var a, b strings.Builder
	a.WriteString("[")
	b.WriteString("[")
	for i := 0; i < 50000; i++ {
		if i > 0 {
			a.WriteString(",")
			b.WriteString(",")
		}
		a.WriteString("1")
		b.WriteString("2")
	}
	a.WriteString("]")
	b.WriteString("]")
	got := describeChange([]byte(a.String()), []byte(b.String()))
	if !strings.HasSuffix(got, ", …") || ansiWidth(got) > 100 {
		t.Fatalf("%q", got)
	}
}
