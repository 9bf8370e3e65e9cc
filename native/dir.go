package native

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"github.com/k3/k3-storage/internal/filelock"
)

// Files k3-storage keeps in a data directory.
const (
	lockName   = "k3-storage.lock"
	recordName = "k3-storage.json"
	readyName  = "k3-storage.ready"
)

// DataHome returns the directory under which native servers keep their
// data by default: $XDG_DATA_HOME/k3-storage when XDG_DATA_HOME is an
// absolute path (the XDG base directory rules ignore a relative one), else
// $HOME/.local/share/k3-storage. It fails when neither is set.
func DataHome(getenv func(string) string) (string, error) {
	if x := getenv("XDG_DATA_HOME"); filepath.IsAbs(x) {
		return filepath.Join(x, "k3-storage"), nil
	}
	if h := getenv("HOME"); filepath.IsAbs(h) {
		return filepath.Join(h, ".local", "share", "k3-storage"), nil
	}
	return "", errors.New(txtNoDataHome)
}

// DataDir is the default data directory of a backend ("mysql" or "etcd")
// listening on port, under home (see DataHome).
func DataDir(home, backend string, port int) string {
	return filepath.Join(home, backend+"-"+strconv.Itoa(port))
}

// Claim is the outcome of claiming a data directory (see the package
// documentation, Ownership).
type Claim int

const (
	// Claimed: this process holds the directory and nothing of ours runs
	// there: start a server.
	Claimed Claim = iota + 1
	// Busy: another live k3-storage process holds the directory: it runs
	// the server or is starting it. Use that server; never stop it.
	Busy
	// Adopted: this process holds the directory and took over the server
	// that a k3-storage process which has died left running. Stop it on
	// exit.
	Adopted
)

func (c Claim) String() string {
	switch c {
	case Claimed:
		return "claimed"
	case Busy:
		return "busy"
	case Adopted:
		return "adopted"
	}
	return fmt.Sprintf("Claim(%d)", int(c))
}

// State is what Inspect found in a data directory without taking anything.
type State struct {
	// Exists: the directory exists (an earlier run used it).
	Exists bool
	// Busy: a live k3-storage process holds it (see Claim Busy).
	Busy bool
	// Orphan: a server that a k3-storage process which has died started
	// there still runs (MySQL only); PID is its process id.
	Orphan bool
	PID    int
}

// dataDir is a data directory and this process's hold on it.
type dataDir struct {
	path    string
	created bool // this process created the directory

	mu   sync.Mutex
	lock *os.File // held while this process owns the directory
}

func (d *dataDir) file(name string) string { return filepath.Join(d.path, name) }

// exists reports whether the directory exists.
func (d *dataDir) exists() (bool, error) {
	st, err := os.Stat(d.path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return false, nil
	case err != nil:
		return false, fmt.Errorf(errDataDir, d.path, err)
	case !st.IsDir():
		return false, fmt.Errorf(errDataDirNotDir, d.path)
	}
	return true, nil
}

// busy reports whether another process holds the directory's lock; a
// directory that does not exist is not busy.
func (d *dataDir) busy() (bool, error) {
	f, err := os.OpenFile(d.file(lockName), os.O_RDONLY|filelock.NoFollow, 0)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf(errLock, d.file(lockName), err)
	}
	defer f.Close()
	held, err := filelock.HeldElsewhere(f)
	if err != nil {
		return false, fmt.Errorf(errLock, d.file(lockName), err)
	}
	return held, nil
}

// claim creates the directory if needed (mode 0700: it holds a database;
// missing parents 0755) and takes its lock. It returns false, without error, when another
// process holds the lock.
func (d *dataDir) claim() (bool, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.lock != nil {
		return true, nil
	}
	ok, err := d.exists()
	if err != nil {
		return false, err
	}
	if !ok {
		// Parents such as $XDG_DATA_HOME/k3-storage may be entered by
		// anyone (a root k3-storage runs mariadbd as mysql, which must
		// reach its directory); the directory itself is private.
		if err := os.MkdirAll(filepath.Dir(d.path), 0o755); err != nil {
			return false, fmt.Errorf(errDataDir, d.path, err)
		}
		if err := os.Mkdir(d.path, 0o700); err != nil && !errors.Is(err, os.ErrExist) {
			return false, fmt.Errorf(errDataDir, d.path, err)
		}
		d.created = true
	}
	f, err := os.OpenFile(d.file(lockName), os.O_RDONLY|os.O_CREATE|filelock.NoFollow, 0o600)
	if err != nil {
		return false, fmt.Errorf(errLock, d.file(lockName), err)
	}
	if err := filelock.TryExclusive(f); err != nil {
		f.Close()
		if errors.Is(err, filelock.ErrHeld) {
			return false, nil
		}
		return false, fmt.Errorf(errLock, d.file(lockName), err)
	}
	d.lock = f
	return true, nil
}

// release lets go of the lock.
func (d *dataDir) release() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.lock != nil {
		d.lock.Close()
		d.lock = nil
	}
}

// purge removes the directory if this process created it; it reports
// whether it did. The lock is released first.
func (d *dataDir) purge() (bool, error) {
	d.release()
	if !d.created {
		return false, nil
	}
	if err := os.RemoveAll(d.path); err != nil {
		return false, fmt.Errorf(errPurge, d.path, err)
	}
	d.created = false
	return true, nil
}

// tail returns the last n non-empty lines of the file at path from offset
// on (at most its last 64 KiB), each on a new indented line; "" when
// there are none.
func tail(path string, offset int64, n int) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	const max = 64 << 10
	if st, err := f.Stat(); err == nil && st.Size()-offset > max {
		offset = st.Size() - max
	}
	if _, err := f.Seek(offset, io.SeekStart); err != nil {
		return ""
	}
	data, err := io.ReadAll(io.LimitReader(f, max))
	if err != nil {
		return ""
	}
	return lastLines(string(data), n)
}

// lastLines returns the last n non-empty lines of s, each on a new
// indented line; "" when there are none.
func lastLines(s string, n int) string {
	var keep []string
	for _, l := range strings.Split(s, "\n") {
		if strings.TrimSpace(l) != "" {
			keep = append(keep, strings.TrimRight(l, "\r"))
		}
	}
	if len(keep) > n {
		keep = keep[len(keep)-n:]
	}
	if len(keep) == 0 {
		return ""
	}
	return "\n  " + strings.Join(keep, "\n  ")
}
