package mysqltest_test

import (
	"strings"
	"testing"

	"github.com/k3/k3-storage/backends/mysql/mysqltest"
)

func TestRequired(t *testing.T) {
	for value, want := range map[string]bool{
		"": false, "all": true, "etcd": false, "etcd,mysql": true, " mysql ": true, "mysqlx": false,
	} {
		t.Setenv(mysqltest.EnvRequire, value)
		if got := mysqltest.Required(); got != want {
			t.Errorf("Required() with %s=%q = %v, want %v", mysqltest.EnvRequire, value, got, want)
		}
	}
}

func TestUniqueName(t *testing.T) {
	a, b := mysqltest.UniqueName(t), mysqltest.UniqueName(t)
	if a == b || len(a) > 64 || !strings.HasPrefix(a, "k3t_TestUniqueName_") {
		t.Fatalf("UniqueName gave %q and %q", a, b)
	}
	for _, c := range a {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			t.Fatalf("UniqueName %q has %q", a, c)
		}
	}
}
