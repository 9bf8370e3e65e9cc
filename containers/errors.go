package containers

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
)

// Sentinel errors. Callers test them with errors.Is.
var (
	// ErrNoRuntime: no candidate answered the Docker Engine API. Discover
	// returns a *NoRuntimeError, which matches it.
	ErrNoRuntime = errors.New(txtErrNoRuntime)

	// ErrInvalidSpec: the Spec cannot be provisioned as given (empty name or
	// image, a port not bound to a loopback address, a volume without a
	// mount path, an empty MySQL root password, no etcd request limit, ...).
	// Nothing was touched.
	ErrInvalidSpec = errors.New(txtErrInvalidSpec)

	// ErrNotOwned: Remove was asked to remove a container or volume that this
	// process does not own (Handle.Owned is false, or the object carries no
	// k3-storage labels). Nothing was touched.
	ErrNotOwned = errors.New(txtErrNotOwned)

	// ErrPullStalled: a pull was cancelled because the daemon sent no
	// message for the stall timeout (see WithPullStallTimeout). Ensure
	// returns it inside a *PullError.
	ErrPullStalled = errors.New(txtErrPullStalled)
)

// NoRuntimeError is returned by Discover when no candidate is usable. Tried
// lists every candidate in the order tried, with its status and error.
type NoRuntimeError struct {
	Tried []Candidate
}

func (e *NoRuntimeError) Error() string {
	var b strings.Builder
	b.WriteString(errNoRuntimeTried)
	for i, c := range e.Tried {
		if i > 0 {
			b.WriteString(errNoRuntimeSep)
		}
		b.WriteString(c.String())
	}
	if len(e.Tried) == 0 {
		b.WriteString(errNoRuntimeNothing)
	}
	return b.String()
}

// Is reports that a NoRuntimeError matches ErrNoRuntime.
func (e *NoRuntimeError) Is(target error) bool { return target == ErrNoRuntime }

// ForeignContainerError: a container with the wanted name exists but was not
// created by k3-storage, and it cannot be reused (it is not running, or it
// runs another image). It was left untouched.
type ForeignContainerError struct {
	Name    string // container name
	ID      string // container ID
	Image   string // image the container was created from
	Want    string // image the spec asked for
	Status  string // daemon's state of the container: running, exited, created, ...
	Running bool
}

func (e *ForeignContainerError) Error() string {
	if e.Running {
		return fmt.Sprintf(errForeignRunning, e.Name, e.Image, e.Want)
	}
	return fmt.Sprintf(errForeignStopped, e.Name, e.Image, e.Status)
}

// OwnedElsewhereError: a container with the wanted name carries k3-storage
// labels, its owner process still runs (or runs on another host, where this
// process cannot check it), and the container is not running. It belongs to
// that process and was left untouched.
type OwnedElsewhereError struct {
	Name   string
	ID     string
	Owner  Owner  // the creator, from the labels
	Status string // daemon's state: exited, paused, dead, ...
	// Adopted: the creator is gone, but another live k3-storage process
	// adopted the container (or may have: its lock could not be checked).
	Adopted bool
}

func (e *OwnedElsewhereError) Error() string {
	if e.Adopted {
		return fmt.Sprintf(errOwnedAdopted, e.Name, e.Owner.PID, e.Status)
	}
	return fmt.Sprintf(errOwnedElsewhere, e.Name, e.Owner.Host, e.Owner.PID, e.Status)
}

// PortInUseError: a host port the container should publish is taken by
// something else. Nothing of this attempt was left behind.
type PortInUseError struct {
	Name   string // container name
	HostIP string
	Port   int
	Err    error // what the probe or the daemon said
}

func (e *PortInUseError) Error() string {
	return fmt.Sprintf(errPortInUse, e.Name, net.JoinHostPort(e.HostIP, strconv.Itoa(e.Port)), e.Err)
}

func (e *PortInUseError) Unwrap() error { return e.Err }

// PullError: the image could not be pulled (registry unreachable, image or
// tag unknown, an errorDetail in the daemon's progress stream, no message
// for the stall timeout: ErrPullStalled, ...). Nothing was created. Reason
// says which, for a caller that decides what to do next (such as running
// the database without a container) without reading Err's text.
type PullError struct {
	Image  string
	Reason PullFailure
	Err    error
}

func (e *PullError) Error() string {
	return fmt.Sprintf(errPull, e.Image, e.Reason.Description(), e.Err)
}

func (e *PullError) Unwrap() error { return e.Err }

// PullFailure classifies a failed pull (PullError.Reason). The zero value is
// PullOther.
type PullFailure int

const (
	// PullOther: none of the below, or not recognised: a broken image, a
	// full disk, a cancelled context, the daemon itself failing, ...
	PullOther PullFailure = iota
	// PullRegistryUnreachable: the daemon could not talk to the registry:
	// DNS failure, connection refused or reset, no route, a failed TLS
	// handshake, a registry that speaks another protocol.
	PullRegistryUnreachable
	// PullNotFound: the registry does not have the repository or the tag
	// (manifest unknown).
	PullNotFound
	// PullUnauthorized: the registry wants credentials, or refuses the
	// ones given.
	PullUnauthorized
	// PullStalled: no progress for the stall timeout (the error wraps
	// ErrPullStalled), a timeout the daemon reported, or the caller's
	// deadline passing during the pull.
	PullStalled
)

var pullFailureNames = [...]string{
	PullOther:               "other",
	PullRegistryUnreachable: "registry-unreachable",
	PullNotFound:            "not-found",
	PullUnauthorized:        "unauthorized",
	PullStalled:             "stalled",
}

// String is a stable lower-case identifier, fit for JSON output.
func (f PullFailure) String() string {
	if f >= 0 && int(f) < len(pullFailureNames) {
		return pullFailureNames[f]
	}
	return fmt.Sprintf("pull-failure(%d)", int(f))
}

// Description is a short Chinese phrase for the user, such as
// "registry 不可达".
func (f PullFailure) Description() string {
	if f >= 0 && int(f) < len(pullFailureTexts) {
		return pullFailureTexts[f]
	}
	return pullFailureTexts[PullOther]
}
