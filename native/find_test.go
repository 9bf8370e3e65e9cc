package native

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestFindMySQL(t *testing.T) {
	dir := t.TempDir()
	exe := func(name string, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte("#!/bin/sh\n"), mode); err != nil {
			t.Fatal(err)
		}
		return p
	}
	noexec := exe("mysqld-noexec", 0o644)
	if _, err := findMySQL(noexec, "", nil); err == nil {
		t.Fatal("a file without execute permission was accepted")
	}
	if _, err := findMySQL(filepath.Join(dir, "missing"), "", nil); err == nil {
		t.Fatal("a missing binary was accepted")
	}
	if _, err := findMySQL(dir, "", nil); err == nil {
		t.Fatal("a directory was accepted")
	}

	empty := t.TempDir()
	_, err := findMySQL("", empty, []string{empty})
	var nf *NotFoundError
	if !errors.As(err, &nf) || !errors.Is(err, ErrNotFound) {
		t.Fatalf("nothing to find: %v, want a *NotFoundError", err)
	}
	if !strings.Contains(err.Error(), "mariadbd 或 mysqld") || !strings.Contains(err.Error(), empty) {
		t.Fatalf("the error does not say what was looked for where: %v", err)
	}

	// mariadbd before mysqld; PATH before the sbin directories.
	sbin := t.TempDir()
	exe("mysqld", 0o755)
	if err := os.WriteFile(filepath.Join(sbin, "mariadbd"), nil, 0o755); err != nil {
		t.Fatal(err)
	}
	if got, err := findMySQL("", dir, []string{sbin}); err != nil || got != filepath.Join(sbin, "mariadbd") {
		t.Fatalf("found %q, %v; want mariadbd from the sbin dir", got, err)
	}
	exe("mariadbd", 0o755)
	if got, err := findMySQL("", "relative:"+dir, []string{sbin}); err != nil || got != filepath.Join(dir, "mariadbd") {
		t.Fatalf("found %q, %v; want mariadbd from PATH", got, err)
	}
}

// TestUnreachable: a directory the server's account cannot enter is
// found, so that the server is not run as an account that cannot reach
// its data.
func TestUnreachable(t *testing.T) {
	top := searchableTempDir(t)
	open := filepath.Join(top, "open")
	closed := filepath.Join(top, "closed")
	os.Mkdir(open, 0o755)
	os.Mkdir(closed, 0o700)
	const uid = 54321 // nobody owns anything here
	if got := unreachable(filepath.Join(open, "data"), uid, nil); got != "" {
		t.Fatalf("unreachable = %q through world-searchable directories", got)
	}
	if got := unreachable(filepath.Join(closed, "data"), uid, nil); got != closed {
		t.Fatalf("unreachable = %q, want %q", got, closed)
	}
	if got := unreachable(filepath.Join(closed, "data"), os.Getuid(), nil); got != "" {
		t.Fatalf("the owner cannot reach its own directory: %q", got)
	}
}

// searchableTempDir is a t.TempDir that every user may enter (mode 0755,
// as is its parent), as a data home under /var/lib or a user's 0755 home
// would be.
func searchableTempDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, d := range []string{dir, filepath.Dir(dir)} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}
