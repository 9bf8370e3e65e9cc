// Package filelock marks a resource as owned by a live process with a
// whole-file flock(2) lock: held for as long as the process owns the
// resource, released by the kernel when the process dies (even by
// SIGKILL), so a later process can tell an owner that still runs from one
// that is gone. k3-storage's containers and native database servers use
// it the same way.
//
// Locks belong to the open file description: two opens of one file
// conflict even within one process, which is what lets two owners in one
// process (and tests) stand for two processes. Callers open the file
// themselves (where and with which mode is theirs to decide) and hand it
// over; closing it releases the lock.
//
// Besides the owner's exclusive lock there are probes: HeldElsewhere takes
// a shared lock for an instant to ask whether an owner exists, without
// disturbing other probes. TryExclusive tells probes from an owner and
// waits them out briefly.
package filelock

import "errors"

// ErrHeld: another open file description holds the lock exclusively: a
// live process (maybe another owner in this one) owns the resource.
var ErrHeld = errors.New(txtErrHeld)

// ErrUnsupported: this platform has no flock(2).
var ErrUnsupported = errors.New(txtErrUnsupported)
