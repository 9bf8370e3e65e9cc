package containers

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	cerrdefs "github.com/containerd/errdefs"
)

// Handle is the container Ensure obtained. Pass it to Remove on exit; Remove
// acts only when Owned is true.
type Handle struct {
	ID     string
	Name   string
	Image  string
	Volume string // named data volume mounted by the container ("" when Reused)
	// Owned: this process created the container or adopted it as an orphan,
	// so it must remove it on exit. False when the container belongs to
	// someone else (another live k3-storage process, or a user).
	Owned   bool
	Outcome Outcome
	// NewVolume: this Ensure created the volume, so it holds nothing but
	// what this container wrote. A caller whose start failed may purge it.
	NewVolume bool
}

// maxEnsureRounds bounds the inspect/act loop: each round either settles or
// reacts to another process changing the container under the same name.
const maxEnsureRounds = 5

// staleStopTimeout is how long an orphan of another spec gets to stop
// cleanly before it is removed.
const staleStopTimeout = 10 * time.Second

// Ensure makes a container for spec run, reusing what exists where that is
// safe:
//
//   - no container with spec.Name: check the host ports are free, pull the
//     image if missing (reporting every layer message), create the volume if
//     missing, create and start the container: Created, Owned.
//   - a container labelled by a live k3-storage process (another one, or this
//     one), running: Reused, not Owned. Just created but not yet started:
//     wait for it (see WithOwnerWait). Stopped: *OwnedElsewhereError, or,
//     when this very process created it, removed and created anew.
//   - an orphan (labelled, owner process gone, not adopted by anyone) that
//     runs and matches spec.Hash: Adopted, Owned. Stopped or built from
//     another spec: removed and created anew. The client holds the lock of
//     a container it created or adopted until Remove or Close, so that no
//     other process adopts it meanwhile (see DefaultLockDir); one that
//     another live process adopted counts as that process's, as above.
//   - a container without our labels that runs the spec's image: Reused, not
//     Owned, never touched. Otherwise: *ForeignContainerError, untouched.
//
// Two processes racing for the same name end with one Created and the other
// Reused; racing for one orphan, with one Adopted and the others Reused. A
// host port taken by another program gives *PortInUseError; a failed pull
// gives *PullError, whose Reason says why (wrapping ErrPullStalled when the
// daemon went quiet for the stall timeout, see WithPullStallTimeout); an
// invalid spec an error wrapping ErrInvalidSpec. A failed Ensure removes
// what it created (container, and the volume if it created it), even when
// ctx was cancelled.
//
// report, if not nil, is called synchronously from Ensure's goroutine for
// every step and pull message; it must not block for long. Ensure does not
// wait for the database inside to answer: that is the caller's connect loop.
func (c *Client) Ensure(ctx context.Context, spec Spec, report func(Progress)) (Handle, error) {
	if err := spec.Validate(); err != nil {
		return Handle{}, err
	}
	if report == nil {
		report = func(Progress) {}
	}
	e := &ensurer{c: c, spec: spec, hash: spec.Hash(), report: report}
	return e.run(ctx)
}

type ensurer struct {
	c      *Client
	spec   Spec
	hash   string
	report func(Progress)
}

func (e *ensurer) emit(step Step, msg string) {
	e.report(Progress{Step: step, Container: e.spec.Name, Image: e.spec.Image, Message: msg})
}

func (e *ensurer) handle(id string, outcome Outcome, image string) Handle {
	h := Handle{ID: id, Name: e.spec.Name, Image: image, Outcome: outcome}
	if outcome != Reused {
		h.Owned = true
		h.Volume = e.spec.Volume
	}
	return h
}

func (e *ensurer) run(ctx context.Context) (Handle, error) {
	name := e.spec.Name
	for round := 0; round < maxEnsureRounds; round++ {
		e.emit(StepInspect, "")
		st, err := e.c.Inspect(ctx, name)
		if err != nil {
			return Handle{}, err
		}
		switch st.Ownership {
		case NoContainer:
			h, retry, err := e.create(ctx)
			if retry {
				// Another process holds the name; the daemon may answer
				// "not found" for it until that create completes.
				if err := e.waitAppear(ctx); err != nil {
					return Handle{}, err
				}
				continue
			}
			return h, err

		case Foreign:
			if st.Running && e.sameImage(ctx, st) {
				e.emit(StepReuse, fmt.Sprintf(msgReuseForeign, shortID(st.ID), st.Image))
				return e.handle(st.ID, Reused, st.Image), nil
			}
			return Handle{}, &ForeignContainerError{Name: name, ID: st.ID, Image: st.Image, Want: e.spec.Image, Status: st.Status, Running: st.Running}

		case LiveOwner, RemoteOwner:
			mine := st.Owner == e.c.owner || e.c.holdsLock(st.ID)
			if st.Running {
				msg := fmt.Sprintf(msgReuseLive, shortID(st.ID), st.Owner.Host, st.Owner.PID)
				if st.Adopted {
					msg = fmt.Sprintf(msgReuseAdopted, shortID(st.ID), st.Owner.PID)
				}
				if mine {
					msg = fmt.Sprintf(msgReuseMine, shortID(st.ID))
				}
				if st.SpecHash != e.hash {
					msg += msgOtherSpec
				}
				e.emit(StepReuse, msg)
				return e.handle(st.ID, Reused, st.Image), nil
			}
			if mine && !transient(st.Status) {
				// This very process made or adopted it and it stopped (the
				// database died): it is ours to replace.
				e.emit(StepRemoveStale, fmt.Sprintf(msgRemoveOwn, shortID(st.ID), st.Status))
				if err := e.c.removeContainer(ctx, st.ID, staleStopTimeout); err != nil && !cerrdefs.IsConflict(err) {
					return Handle{}, fmt.Errorf(errRemoveStale, name, err)
				}
				e.c.releaseLock(st.ID, true)
				continue
			}
			if !transient(st.Status) {
				return Handle{}, &OwnedElsewhereError{Name: name, ID: st.ID, Owner: st.Owner, Status: st.Status, Adopted: st.Adopted}
			}
			e.emit(StepWait, fmt.Sprintf(msgWaitOwner, shortID(st.ID), st.Status, st.Owner.PID))
			if err := e.waitChange(ctx, st); err != nil {
				return Handle{}, err
			}

		case Orphan:
			h, done, err := e.orphan(ctx, st)
			if done || err != nil {
				return h, err
			}
		}
	}
	return Handle{}, fmt.Errorf(errKeptChanging, name, maxEnsureRounds)
}

// orphan deals with a container whose creator is gone: adopt it when it
// runs the spec, else remove it so that the next round creates it anew.
// done is false when the caller should inspect again.
//
// Adopting takes the container's lock first (see DefaultLockDir) and keeps
// it until Remove or Close, so that no other process adopts it as well;
// when another process holds it, it adopted the container just now and the
// next round reuses it. Removing a stale orphan holds the lock as well, so
// that it cannot remove what another process has just adopted.
func (e *ensurer) orphan(ctx context.Context, st State) (h Handle, done bool, err error) {
	lock, lockErr := lockExclusive(e.c.lockDir, st.ID)
	switch {
	case errors.Is(lockErr, errLockHeld):
		return Handle{}, false, nil
	case lockErr != nil:
		if st.Running && st.SpecHash == e.hash {
			// Without the lock another process could adopt it too and
			// remove it under us: use it, but leave it to its fate.
			e.emit(StepReuse, fmt.Sprintf(msgReuseUnlockable, shortID(st.ID), st.Owner.PID, lockErr))
			return e.handle(st.ID, Reused, st.Image), true, nil
		}
		if st.Running {
			// Another process may have adopted it for its own spec.
			return Handle{}, true, fmt.Errorf(errOrphanLocked, st.Name, st.Owner.PID, lockErr)
		}
	default:
		// Under the lock: is it still the orphan seen before? Another
		// process may have adopted and removed it in between.
		now, err := e.c.inspect(ctx, st.Name, false)
		if err != nil {
			lock.Close()
			return Handle{}, true, err
		}
		if now.ID != st.ID || now.Ownership != Orphan {
			lock.Close()
			return Handle{}, false, nil
		}
		st = now
	}
	if st.Running && st.SpecHash == e.hash {
		e.c.keepLock(st.ID, lock)
		e.emit(StepAdopt, fmt.Sprintf(msgAdopt, shortID(st.ID), st.Owner.PID))
		return e.handle(st.ID, Adopted, st.Image), true, nil
	}
	why := fmt.Sprintf(txtOrphanStopped, st.Status)
	if st.SpecHash != e.hash {
		why = txtOrphanOtherSpec
	}
	e.emit(StepRemoveStale, fmt.Sprintf(msgRemoveOrphan, st.Owner.PID, shortID(st.ID), why))
	err = e.c.removeContainer(ctx, st.ID, staleStopTimeout)
	if lock != nil {
		if err == nil {
			_ = os.Remove(lock.Name())
		}
		lock.Close()
	}
	if err != nil && !cerrdefs.IsConflict(err) { // conflict: another process is removing it
		return Handle{}, true, fmt.Errorf(errRemoveStale, st.Name, err)
	}
	return Handle{}, false, nil
}

// transient states pass on their own while the owner works on the container.
func transient(status string) bool {
	return status == "created" || status == "restarting" || status == "removing"
}

// waitChange polls until the container seen in st runs, changes state or
// disappears, bounded by the client's owner wait and ctx.
func (e *ensurer) waitChange(parent context.Context, st State) error {
	ctx, cancel := context.WithTimeout(parent, e.c.ownerWait)
	defer cancel()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			if parent.Err() != nil {
				return fmt.Errorf(errWaitContainer, st.Name, parent.Err())
			}
			return &OwnedElsewhereError{Name: st.Name, ID: st.ID, Owner: st.Owner, Status: st.Status}
		case <-tick.C:
		}
		now, err := e.c.Inspect(ctx, st.Name)
		if err != nil {
			if ctx.Err() != nil {
				continue // reported by the select above
			}
			return err
		}
		if now.ID != st.ID || now.Status != st.Status || now.Running {
			return nil
		}
	}
}

// waitAppear polls until a container with the spec's name can be inspected,
// bounded by the client's owner wait and ctx. It returns nil on timeout too:
// the racing creator may have failed and removed its container.
func (e *ensurer) waitAppear(parent context.Context) error {
	ctx, cancel := context.WithTimeout(parent, e.c.ownerWait)
	defer cancel()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		st, err := e.c.Inspect(ctx, e.spec.Name)
		switch {
		case parent.Err() != nil:
			return fmt.Errorf(errWaitContainer, e.spec.Name, parent.Err())
		case ctx.Err() != nil:
			return nil
		case err != nil:
			return err
		case st.Exists():
			return nil
		}
		select {
		case <-ctx.Done():
		case <-tick.C:
		}
	}
}

// sameImage: the container runs the spec's image, by reference or by ID.
func (e *ensurer) sameImage(ctx context.Context, st State) bool {
	if st.Image == e.spec.Image {
		return true
	}
	img, err := e.c.api.ImageInspect(ctx, e.spec.Image)
	return err == nil && img.ID == st.ImageID
}
func shortID(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}
