//go:build unix

package containers

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"syscall"
	"time"
)

const oNoFollow = syscall.O_NOFOLLOW

// flock applies how to f, retrying on EINTR. A lock that is held elsewhere
// gives errLockHeld. flock locks belong to the open file description, so
// two opens of one file conflict even within one process.
func flock(f *os.File, how int) error {
	for {
		err := syscall.Flock(int(f.Fd()), how)
		switch {
		case err == nil:
			return nil
		case errors.Is(err, syscall.EINTR):
			continue
		case errors.Is(err, syscall.EWOULDBLOCK):
			return errLockHeld
		}
		return fmt.Errorf("flock %s: %w", f.Name(), err)
	}
}

// probeAttempts bounds lockExclusive's retries while only probes (shared
// locks, held for microseconds) stand in its way.
const probeAttempts = 50

// lockExclusive takes the exclusive lock of container id without waiting
// for an owner: it returns the open lock file, holding the lock, or
// errLockHeld when a live process holds it exclusively. Probes of
// lockHeldElsewhere hold a shared lock for an instant; they are told apart
// from an owner by taking a shared lock ourselves, which succeeds only when
// nobody holds the lock exclusively, and are waited out briefly.
func lockExclusive(dir, id string) (*os.File, error) {
	f, err := openLockFile(dir, id)
	if err != nil {
		return nil, err
	}
	for attempt := 0; ; attempt++ {
		err := flock(f, syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return f, nil
		}
		if !errors.Is(err, errLockHeld) {
			f.Close()
			return nil, err
		}
		if err := flock(f, syscall.LOCK_SH|syscall.LOCK_NB); err != nil {
			f.Close()
			return nil, err // errLockHeld: an owner holds it
		}
		// Only probes hold it: let go and try again shortly.
		_ = flock(f, syscall.LOCK_UN)
		if attempt == probeAttempts {
			f.Close()
			return nil, errLockHeld
		}
		time.Sleep(time.Duration(100+rand.IntN(900)) * time.Microsecond)
	}
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
	err = flock(f, syscall.LOCK_SH|syscall.LOCK_NB)
	if errors.Is(err, errLockHeld) {
		return true, nil
	}
	if err != nil {
		return false, err
	}
	return false, nil // closing f releases the shared lock
}
