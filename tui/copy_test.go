package tui

import (
	"bytes"
	"encoding/base64"
	"regexp"
	"strings"
	"testing"
)

// TestOSC52: the sequence is ESC ] 52 ; c ; base64 BEL, and nothing in the
// data shows through it.
func TestOSC52(t *testing.T) {
	for _, data := range []string{"", "/registry/pods/a", "\x1b]52;c;ZXZpbA==\x07\x1b[2J\u202e\xff\x00", strings.Repeat("中", 1000)} {
		seq := osc52([]byte(data))
		m := regexp.MustCompile(`^\x1b\]52;c;([A-Za-z0-9+/=]*)\a$`).FindStringSubmatch(seq)
		if m == nil {
			t.Fatalf("osc52(%q) = %q", data, seq)
		}
		if got, err := base64.StdEncoding.DecodeString(m[1]); err != nil || string(got) != data {
			t.Fatalf("payload %q decodes to %q, %v", m[1], got, err)
		}
	}
}

// TestCopy: c sends the selected key, C its value, to the terminal's
// clipboard, byte for byte however hostile; the status line says what was
// sent, escaped. A value too large for terminals is not sent, and the
// status line says why.
func TestCopy(t *testing.T) {
	key := "/evil/\x1b]52;c;aGk=\x07key"
	value := "v\x1b[2J\xff"
	big := strings.Repeat("x", base64.StdEncoding.DecodedLen(maxOSC52)+1)
	store := newStore(t, key, value, "/evil/z-big", big)
	d := newDriver(t, &countingStore{Store: store}, 100, 24)
	var out bytes.Buffer
	d.b().cfg.term = &terminal{w: &out}
	d.press("enter") // into /evil/
	if d.selected() != key {
		t.Fatalf("selected %q", d.selected())
	}
	d.press("c")
	if out.String() != osc52([]byte(key)) {
		t.Fatalf("wrote %q", out.String())
	}
	if st := d.b().status; st.kind != statusOK || !strings.Contains(st.text, Escape(key)) {
		t.Fatalf("status %+v", st)
	}
	out.Reset()
	d.press("enter", "C") // in the value pane too
	if out.String() != osc52([]byte(value)) {
		t.Fatalf("wrote %q", out.String())
	}
	checkInert(t, []byte(d.m.View()))
	out.Reset()
	d.press("esc", "down", "C")
	if out.Len() != 0 || d.b().status.kind != statusErr || !strings.Contains(d.b().status.text, "OSC 52") {
		t.Fatalf("a %d-byte value: wrote %d bytes, status %+v", len(big), out.Len(), d.b().status)
	}
	// Without a terminal to write to, the copy says it failed.
	d.b().cfg.term = nil
	d.press("c")
	if st := d.b().status; st.kind != statusErr || !strings.HasPrefix(st.text, txtCopyFailed) {
		t.Fatalf("status %+v", st)
	}
}
