package mysql

import (
	"strings"
	"testing"

	"github.com/k3/k3-storage/backends"
)

// TestStatementsKeepByteSlicesWhole guards against a GORM rule: a
// placeholder right after "(" whose argument is a slice is expanded into a
// list, so a []byte key or value would become one argument per byte.
func TestStatementsKeepByteSlicesWhole(t *testing.T) {
	statements := []string{
		sqlGet, sqlNextRev, sqlInsertKV, sqlUpdateKV, sqlDeleteKV, sqlModRev,
		sqlLogCreated, sqlLogUpdated, sqlLogUpdatedIf, sqlLogDeleted, sqlLogDeletedIf, sqlMeta,
	}
	for _, opts := range []backends.ListOptions{{}, {After: "/b", Limit: 3}, {After: "/", Limit: 1}} {
		for _, prefix := range []string{"", "/a", "\xff"} {
			q, _ := listQuery(prefix, opts)
			statements = append(statements, q)
		}
	}
	for _, prefix := range []string{"", "/a", "\xff"} {
		q, _ := logQuery(1, prefix, 10)
		statements = append(statements, q)
	}
	for _, q := range statements {
		if strings.Contains(q, "(?") {
			t.Errorf("statement has a placeholder right after '(': %s", q)
		}
	}
}

func TestIsGreeting(t *testing.T) {
	for _, tt := range []struct {
		head []byte
		want bool
	}{
		{[]byte{0x4a, 0, 0, 0, 10}, true},   // handshake v10
		{[]byte{0x17, 0, 0, 0, 0xff}, true}, // error packet (e.g. too many connections)
		{[]byte("SSH-2"), false},
		{[]byte("HTTP/"), false},
		{[]byte{0, 0, 0, 0, 10}, false},
		{[]byte{0x4a, 0, 0, 1, 10}, false},
	} {
		if got := isGreeting(tt.head); got != tt.want {
			t.Errorf("isGreeting(%q) = %v, want %v", tt.head, got, tt.want)
		}
	}
}

func TestValidDatabaseName(t *testing.T) {
	for name, want := range map[string]bool{
		"k3": true, "K3_test$1": true, strings.Repeat("a", 64): true,
		"": false, strings.Repeat("a", 65): false, "a-b": false, "a`b": false, "a b": false, "é": false,
	} {
		if got := validDatabaseName(name); got != want {
			t.Errorf("validDatabaseName(%q) = %v, want %v", name, got, want)
		}
	}
}
