package containers

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/k3/k3-storage/internal/filelock"
)

// DefaultLockDir is where k3-storage processes keep their container locks.
//
// A container's labels name the process that created it. A process that
// adopts an orphan cannot relabel it (labels are immutable), so "this
// container is taken" is recorded as an exclusive flock(2) on
// <dir>/<container ID>.lock, held by the creating or adopting process for as
// long as it owns the container: released by Client.Remove and Client.Close,
// and by the kernel when the process dies, so a SIGKILL still leaves an
// orphan that the next process can adopt.
//
// Every k3-storage process of the host must agree on the directory, whoever
// runs it, so it is a fixed path and not $TMPDIR or $XDG_RUNTIME_DIR (both
// per user): /tmp, created world-writable and sticky (mode 1777) like /tmp
// itself. Lock files are opened read-only (flock needs no write access) and
// made readable by all, so processes of other users can take them too. They
// are never removed while their container exists: unlinking a lock file
// while another process has it open would let two processes lock two
// different files of the same name.
//
// A process with a private /tmp (systemd's PrivateTmp=) sees other lock
// files than the rest of the host; such a service should be given a shared
// directory with WithLockDir, and every k3-storage of the host must then be
// given the same one.
const DefaultLockDir = "/tmp/k3-storage-locks"

// errLockHeld: another open file description holds the lock exclusively:
// a live process (maybe another Client of this one) owns the container.
var errLockHeld = errors.New(txtErrLockHeld)

// lockFile is the lock file of container id in dir. Container IDs are hex;
// anything else is hashed so that it cannot escape dir.
func lockFile(dir, id string) string {
	name := id
	for _, r := range id {
		if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			sum := sha256.Sum256([]byte(id))
			name = "x" + hex.EncodeToString(sum[:])
			break
		}
	}
	if name == "" {
		name = "empty"
	}
	return filepath.Join(dir, name+".lock")
}

// prepareLockDir makes dir if it is missing, world-writable and sticky, and
// checks that it is a directory and not a symlink someone planted.
func prepareLockDir(dir string) error {
	err := os.Mkdir(dir, 0o755)
	if err == nil {
		// Mkdir's mode is cut by the umask; the sticky bit needs chmod anyway.
		if err := os.Chmod(dir, 0o777|os.ModeSticky); err != nil {
			return fmt.Errorf(errLockDir, dir, err)
		}
		return nil
	}
	if !errors.Is(err, os.ErrExist) {
		return fmt.Errorf(errLockDir, dir, err)
	}
	st, err := os.Lstat(dir)
	if err != nil {
		return fmt.Errorf(errLockDir, dir, err)
	}
	if !st.IsDir() {
		return fmt.Errorf(errLockDirNotDir, dir, st.Mode().Type())
	}
	return nil
}

// openLockFile opens (creating it if needed) the lock file of container id
// in dir, read-only and readable by every user.
func openLockFile(dir, id string) (*os.File, error) {
	if err := prepareLockDir(dir); err != nil {
		return nil, err
	}
	path := lockFile(dir, id)
	f, err := os.OpenFile(path, os.O_RDONLY|os.O_CREATE|filelock.NoFollow, 0o444)
	if err != nil {
		return nil, fmt.Errorf(errOpenLock, err)
	}
	if st, err := f.Stat(); err == nil && st.Mode().Perm()&0o444 != 0o444 {
		_ = f.Chmod(0o444) // the umask cut it; fails harmlessly if not ours
	}
	return f, nil
}

// lockExclusive takes the exclusive lock of container id without waiting
// for an owner: it returns the open lock file, holding the lock, or
// errLockHeld when a live process holds it exclusively (probes of
// lockHeldElsewhere are waited out briefly; see filelock.TryExclusive).
func lockExclusive(dir, id string) (*os.File, error) {
	f, err := openLockFile(dir, id)
	if err != nil {
		return nil, err
	}
	if err := filelock.TryExclusive(f); err != nil {
		f.Close()
		if errors.Is(err, filelock.ErrHeld) {
			return nil, errLockHeld
		}
		return nil, err
	}
	return f, nil
}

// lockHeldElsewhere reports whether a process (or another open file of this
// one) holds the lock of container id exclusively. It takes a shared lock
// for an instant, which does not disturb other probes.
func lockHeldElsewhere(dir, id string) (bool, error) {
	f, err := openLockFile(dir, id)
	if err != nil {
		return false, err
	}
	defer f.Close()
	return filelock.HeldElsewhere(f)
}
