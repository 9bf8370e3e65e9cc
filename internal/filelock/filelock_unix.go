//go:build unix

package filelock

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"syscall"
	"time"
)

// NoFollow is the open flag that refuses a symlink in the last path
// element (O_NOFOLLOW), for lock files in shared directories.
const NoFollow = syscall.O_NOFOLLOW

// flock applies how to f, retrying on EINTR. A lock that is held elsewhere
// gives ErrHeld.
func flock(f *os.File, how int) error {
	for {
		err := syscall.Flock(int(f.Fd()), how)
		switch {
		case err == nil:
			return nil
		case errors.Is(err, syscall.EINTR):
			continue
		case errors.Is(err, syscall.EWOULDBLOCK):
			return ErrHeld
		}
		return fmt.Errorf(errFlock, f.Name(), err)
	}
}

// probeAttempts bounds TryExclusive's retries while only probes (shared
// locks, held for microseconds) stand in its way.
const probeAttempts = 50

// TryExclusive takes the exclusive lock of f without waiting for an owner:
// it returns nil holding the lock, or ErrHeld when a live process holds it
// exclusively. Probes (HeldElsewhere) hold a shared lock for an instant;
// they are told apart from an owner by taking a shared lock ourselves,
// which succeeds only when nobody holds the lock exclusively, and are
// waited out briefly. The lock lasts until f is closed or Unlock.
func TryExclusive(f *os.File) error {
	for attempt := 0; ; attempt++ {
		err := flock(f, syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return nil
		}
		if !errors.Is(err, ErrHeld) {
			return err
		}
		if err := flock(f, syscall.LOCK_SH|syscall.LOCK_NB); err != nil {
			return err // ErrHeld: an owner holds it
		}
		// Only probes hold it: let go and try again shortly.
		_ = flock(f, syscall.LOCK_UN)
		if attempt == probeAttempts {
			return ErrHeld
		}
		time.Sleep(time.Duration(100+rand.IntN(900)) * time.Microsecond)
	}
}

// HeldElsewhere reports whether a process (or another open file of this
// one) holds the lock of f's file exclusively. It takes a shared lock on
// f for an instant, which does not disturb other probes; f should be an
// open of its own, closed by the caller afterwards.
func HeldElsewhere(f *os.File) (bool, error) {
	err := flock(f, syscall.LOCK_SH|syscall.LOCK_NB)
	if errors.Is(err, ErrHeld) {
		return true, nil
	}
	if err != nil {
		return false, err
	}
	return false, flock(f, syscall.LOCK_UN)
}

// TryShared takes a shared lock on f without waiting (ErrHeld when an
// owner holds it exclusively): a probe that stays, for tests.
func TryShared(f *os.File) error { return flock(f, syscall.LOCK_SH|syscall.LOCK_NB) }

// Unlock releases whatever lock f holds.
func Unlock(f *os.File) error { return flock(f, syscall.LOCK_UN) }
