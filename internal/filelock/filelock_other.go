//go:build !unix

package filelock

import "os"

// NoFollow is 0 where the platform has no O_NOFOLLOW.
const NoFollow = 0

// TryExclusive fails with ErrUnsupported on this platform.
func TryExclusive(f *os.File) error { return ErrUnsupported }

// HeldElsewhere fails with ErrUnsupported on this platform.
func HeldElsewhere(f *os.File) (bool, error) { return false, ErrUnsupported }

// TryShared fails with ErrUnsupported on this platform.
func TryShared(f *os.File) error { return ErrUnsupported }

// Unlock fails with ErrUnsupported on this platform.
func Unlock(f *os.File) error { return ErrUnsupported }
