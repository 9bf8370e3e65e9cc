package native

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestDataHome(t *testing.T) {
	env := func(kv map[string]string) func(string) string { return func(k string) string { return kv[k] } }
	tests := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"xdg", map[string]string{"XDG_DATA_HOME": "/x/data", "HOME": "/home/u"}, "/x/data/k3-storage"},
		{"relative xdg is ignored", map[string]string{"XDG_DATA_HOME": "data", "HOME": "/home/u"}, "/home/u/.local/share/k3-storage"},
		{"home", map[string]string{"HOME": "/home/u"}, "/home/u/.local/share/k3-storage"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got, err := DataHome(env(tt.env)); err != nil || got != tt.want {
				t.Fatalf("DataHome = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
	if _, err := DataHome(env(nil)); err == nil {
		t.Fatal("DataHome without HOME or XDG_DATA_HOME succeeded")
	}
	if got := DataDir("/x/k3-storage", "mysql", 3306); got != "/x/k3-storage/mysql-3306" {
		t.Fatalf("DataDir = %q", got)
	}
}

// TestClaimAndRelease: one owner per directory; a claim that created the
// directory and gives it up unused leaves nothing behind.
func TestClaimAndRelease(t *testing.T) {
	path := filepath.Join(t.TempDir(), "etcd-1")
	a, b := &dataDir{path: path}, &dataDir{path: path}
	if busy, err := a.busy(); err != nil || busy {
		t.Fatalf("busy before anything: %v, %v", busy, err)
	}
	if ok, err := a.claim(); err != nil || !ok || !a.created {
		t.Fatalf("first claim: %v, %v (created %v)", ok, err, a.created)
	}
	if st, err := os.Stat(path); err != nil || st.Mode().Perm() != 0o700 {
		t.Fatalf("data dir %v, %v; want mode 0700", st, err)
	}
	if busy, err := b.busy(); err != nil || !busy {
		t.Fatalf("busy while claimed: %v, %v", busy, err)
	}
	if ok, err := b.claim(); err != nil || ok {
		t.Fatalf("second claim: %v, %v; want refused", ok, err)
	}
	if purged, err := a.purge(); err != nil || !purged {
		t.Fatalf("purge: %v, %v", purged, err)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the created dir is still there: %v", err)
	}
	// A directory that existed is never purged.
	if err := os.MkdirAll(path, 0o700); err != nil {
		t.Fatal(err)
	}
	c := &dataDir{path: path}
	if ok, err := c.claim(); err != nil || !ok || c.created {
		t.Fatalf("claim of an existing dir: %v, %v (created %v)", ok, err, c.created)
	}
	if purged, err := c.purge(); err != nil || purged {
		t.Fatalf("purge of a dir that existed: %v, %v", purged, err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("a dir that existed was removed: %v", err)
	}
	if ok, err := b.claim(); err != nil || !ok {
		t.Fatalf("claim after release: %v, %v", ok, err)
	}
	b.release()
}

func TestTail(t *testing.T) {
	path := filepath.Join(t.TempDir(), "log")
	os.WriteFile(path, []byte("old 1\nold 2\n"), 0o600)
	f, _ := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	st, _ := f.Stat()
	f.WriteString("new 1\n\nnew 2\nnew 3\n")
	f.Close()
	if got := tail(path, st.Size(), 2); got != "\n  new 2\n  new 3" {
		t.Fatalf("tail = %q", got)
	}
	if got := tail(path, st.Size(), 10); got != "\n  new 1\n  new 2\n  new 3" {
		t.Fatalf("tail = %q", got)
	}
	if got := tail(filepath.Join(t.TempDir(), "none"), 0, 3); got != "" {
		t.Fatalf("tail of a missing file = %q", got)
	}
}
