//go:build unix

package containers

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/k3/k3-storage/internal/filelock"
)

const lockID = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

// flock locks belong to the open file description: two opens of one lock
// file in one process conflict, which is what lets two Clients of one
// process (and the tests) stand for two processes.
func TestLockPerOpenFile(t *testing.T) {
	dir := t.TempDir()
	a, err := lockExclusive(dir, lockID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := lockExclusive(dir, lockID); !errors.Is(err, errLockHeld) {
		t.Fatalf("second exclusive lock in the same process: %v, want errLockHeld", err)
	}
	if held, err := lockHeldElsewhere(dir, lockID); err != nil || !held {
		t.Fatalf("probe while held: %v, %v; want held", held, err)
	}
	if held, err := lockHeldElsewhere(dir, "ffff"); err != nil || held {
		t.Fatalf("probe of another container: %v, %v; want free", held, err)
	}
	a.Close()
	if held, err := lockHeldElsewhere(dir, lockID); err != nil || held {
		t.Fatalf("probe after release: %v, %v; want free", held, err)
	}
	b, err := lockExclusive(dir, lockID)
	if err != nil {
		t.Fatalf("lock after release: %v", err)
	}
	b.Close()
}

// Probes (shared, for an instant) do not make an owner out of each other,
// and an owner-to-be is not turned away by a probe.
func TestLockProbesAreNotOwners(t *testing.T) {
	dir := t.TempDir()
	probe, err := openLockFile(dir, lockID)
	if err != nil {
		t.Fatal(err)
	}
	defer probe.Close()
	// A probe that stays (as if the prober were descheduled in between).
	if err := filelock.TryShared(probe); err != nil {
		t.Fatal(err)
	}
	if held, err := lockHeldElsewhere(dir, lockID); err != nil || held {
		t.Fatalf("probe during another probe: %v, %v; want free", held, err)
	}
	// lockExclusive waits a probe out briefly, then gives up as "held"
	// rather than pretend it owns the container.
	if _, err := lockExclusive(dir, lockID); !errors.Is(err, errLockHeld) {
		t.Fatalf("exclusive lock under a probe that never ends: %v, want errLockHeld", err)
	}
	if err := filelock.Unlock(probe); err != nil {
		t.Fatal(err)
	}
	f, err := lockExclusive(dir, lockID)
	if err != nil {
		t.Fatalf("exclusive lock once the probe ended: %v", err)
	}
	f.Close()
}

// The lock directory is shared by every user's k3-storage: world-writable
// and sticky whatever the umask, lock files readable by all (flock works on
// a read-only descriptor); a symlink or a file in its place is refused.
func TestLockDirPermissions(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "locks")
	old := syscall.Umask(0o077)
	f, err := lockExclusive(dir, lockID)
	syscall.Umask(old)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, err := os.Stat(dir)
	if err != nil || st.Mode()&(fs.ModePerm|fs.ModeSticky) != 0o777|fs.ModeSticky {
		t.Errorf("lock dir mode %v (%v), want drwxrwxrwt", st.Mode(), err)
	}
	fst, err := os.Stat(lockFile(dir, lockID))
	if err != nil || fst.Mode().Perm() != 0o444 {
		t.Errorf("lock file mode %v (%v), want -r--r--r--", fst.Mode(), err)
	}
	if got := lockFile(dir, "../../etc/passwd"); filepath.Dir(got) != dir {
		t.Errorf("lock file of a strange id escapes the dir: %s", got)
	}

	link := filepath.Join(t.TempDir(), "link")
	if err := os.Symlink(t.TempDir(), link); err != nil {
		t.Fatal(err)
	}
	if _, err := lockExclusive(link, lockID); err == nil {
		t.Errorf("a symlink was accepted as the lock directory")
	}
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := lockExclusive(file, lockID); err == nil {
		t.Errorf("a file was accepted as the lock directory")
	}
}
