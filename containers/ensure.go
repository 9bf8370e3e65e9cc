package containers

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"os"
	"strconv"
	"syscall"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/api/types/mount"
	"github.com/docker/docker/api/types/volume"
	"github.com/docker/go-connections/nat"
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

// labelCreateID marks the container of one create call, so that a create
// whose answer was lost (cancelled context) can still be cleaned up without
// mistaking another call's container for it.
const labelCreateID = "k3-storage.create-id"

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
// gives *PullError (wrapping ErrPullStalled when the daemon went quiet for
// the stall timeout, see WithPullStallTimeout); an invalid spec an error
// wrapping ErrInvalidSpec. A failed Ensure removes what it created (container, and
// the volume if it created it), even when ctx was cancelled.
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
				e.emit(StepReuse, fmt.Sprintf("running container %s (image %s) was not created by k3-storage; reusing it and leaving it running", shortID(st.ID), st.Image))
				return e.handle(st.ID, Reused, st.Image), nil
			}
			return Handle{}, &ForeignContainerError{Name: name, ID: st.ID, Image: st.Image, Want: e.spec.Image, Status: st.Status, Running: st.Running}

		case LiveOwner, RemoteOwner:
			mine := st.Owner == e.c.owner || e.c.holdsLock(st.ID)
			if st.Running {
				msg := fmt.Sprintf("running container %s belongs to k3-storage process %d on host %s; reusing it, it stays theirs", shortID(st.ID), st.Owner.PID, st.Owner.Host)
				if st.Adopted {
					msg = fmt.Sprintf("running container %s was left by k3-storage process %d and adopted by another live k3-storage process; reusing it, it stays theirs", shortID(st.ID), st.Owner.PID)
				}
				if mine {
					msg = fmt.Sprintf("running container %s is already this process's; reusing it", shortID(st.ID))
				}
				if st.SpecHash != e.hash {
					msg += "; it was created from another spec (image, env, ports or volume differ)"
				}
				e.emit(StepReuse, msg)
				return e.handle(st.ID, Reused, st.Image), nil
			}
			if mine && !transient(st.Status) {
				// This very process made or adopted it and it stopped (the
				// database died): it is ours to replace.
				e.emit(StepRemoveStale, fmt.Sprintf("container %s of this process is %s; removing it", shortID(st.ID), st.Status))
				if err := e.c.removeContainer(ctx, st.ID, staleStopTimeout); err != nil && !cerrdefs.IsConflict(err) {
					return Handle{}, fmt.Errorf("remove stale container %q: %w", name, err)
				}
				e.c.releaseLock(st.ID, true)
				continue
			}
			if !transient(st.Status) {
				return Handle{}, &OwnedElsewhereError{Name: name, ID: st.ID, Owner: st.Owner, Status: st.Status, Adopted: st.Adopted}
			}
			e.emit(StepWait, fmt.Sprintf("container %s is %s by k3-storage process %d; waiting for it to run", shortID(st.ID), st.Status, st.Owner.PID))
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
	return Handle{}, fmt.Errorf("container %q kept changing while k3-storage tried to provision it (%d attempts); another process is racing for it", name, maxEnsureRounds)
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
			e.emit(StepReuse, fmt.Sprintf("container %s was left running by k3-storage process %d, which is gone, but it cannot be locked (%v); reusing it without taking it over, it will be left running", shortID(st.ID), st.Owner.PID, lockErr))
			return e.handle(st.ID, Reused, st.Image), true, nil
		}
		if st.Running {
			// Another process may have adopted it for its own spec.
			return Handle{}, true, fmt.Errorf("container %q, left running by k3-storage process %d, was built from another spec and cannot be locked to be replaced safely: %w", st.Name, st.Owner.PID, lockErr)
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
		e.emit(StepAdopt, fmt.Sprintf("container %s was left running by k3-storage process %d, which is gone; adopting it", shortID(st.ID), st.Owner.PID))
		return e.handle(st.ID, Adopted, st.Image), true, nil
	}
	why := "stopped (" + st.Status + ")"
	if st.SpecHash != e.hash {
		why = "built from another spec"
	}
	e.emit(StepRemoveStale, fmt.Sprintf("container %s left by k3-storage process %d is %s; removing it", shortID(st.ID), st.Owner.PID, why))
	err = e.c.removeContainer(ctx, st.ID, staleStopTimeout)
	if lock != nil {
		if err == nil {
			_ = os.Remove(lock.Name())
		}
		lock.Close()
	}
	if err != nil && !cerrdefs.IsConflict(err) { // conflict: another process is removing it
		return Handle{}, true, fmt.Errorf("remove stale container %q: %w", st.Name, err)
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
				return fmt.Errorf("wait for container %q: %w", st.Name, parent.Err())
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
			return fmt.Errorf("wait for container %q: %w", e.spec.Name, parent.Err())
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

// create provisions the container. retry is true when another process got
// the name first, so the caller should inspect again.
func (e *ensurer) create(ctx context.Context) (h Handle, retry bool, err error) {
	name := e.spec.Name
	if err := e.checkPortsSettled(ctx); err != nil {
		if e.nameTaken(ctx) {
			return Handle{}, true, nil // the winner of a race holds the port
		}
		return Handle{}, false, err
	}
	if err := e.ensureImage(ctx); err != nil {
		return Handle{}, false, err
	}
	createdVolume, err := e.ensureVolume(ctx)
	if err != nil {
		return Handle{}, false, err
	}

	createID := randomID()
	cfg, hostCfg := e.containerConfig(createID)
	e.emit(StepCreate, "")
	resp, err := e.c.api.ContainerCreate(ctx, cfg, hostCfg, nil, nil, name)
	if cerrdefs.IsConflict(err) {
		// Another process created it first; its container mounts the volume.
		return Handle{}, true, nil
	}
	if err != nil {
		e.cleanup(ctx, "", createID, createdVolume)
		return Handle{}, false, fmt.Errorf("create container %q: %w", name, err)
	}
	// The labels name this live process, which is what keeps others off
	// while it runs; the lock keeps them off once it has been adopted. A
	// lock that cannot be taken (no lock directory) changes nothing yet.
	if lock, err := lockExclusive(e.c.lockDir, resp.ID); err == nil {
		e.c.keepLock(resp.ID, lock)
	}

	e.emit(StepStart, "")
	if err := e.start(ctx, resp.ID); err != nil {
		e.cleanup(ctx, resp.ID, createID, createdVolume)
		if perr := e.checkPorts(); perr != nil {
			var pe *PortInUseError
			if errors.As(perr, &pe) {
				pe.Err = fmt.Errorf("%w (daemon: %w)", pe.Err, err)
			}
			return Handle{}, false, perr
		}
		return Handle{}, false, fmt.Errorf("start container %q: %w", name, err)
	}
	e.emit(StepRunning, "")
	h = e.handle(resp.ID, Created, e.spec.Image)
	h.NewVolume = createdVolume
	return h, false, nil
}

// startAttempts bounds the retries of a start that failed while the host
// ports are free again: another process's port probe (see checkPorts) can
// hold a port for an instant just as the daemon binds it.
const startAttempts = 3

func (e *ensurer) start(ctx context.Context, id string) error {
	for attempt := 1; ; attempt++ {
		err := e.c.api.ContainerStart(ctx, id, container.StartOptions{})
		if err == nil || attempt == startAttempts || e.checkPorts() != nil {
			return err
		}
		t := time.NewTimer(time.Duration(attempt) * 50 * time.Millisecond)
		select {
		case <-ctx.Done():
			t.Stop()
			return err
		case <-t.C:
		}
	}
}

func (e *ensurer) nameTaken(ctx context.Context) bool {
	st, err := e.c.Inspect(ctx, e.spec.Name)
	return err == nil && st.Exists()
}

// checkPorts fails with *PortInUseError if a host port is already bound on
// this host. The database is reached through these ports from this host, so
// whoever holds one would answer in its place.
func (e *ensurer) checkPorts() error {
	for _, p := range e.spec.Ports {
		if err := probePort(p.HostIP, p.HostPort); err != nil {
			return &PortInUseError{Name: e.spec.Name, HostIP: p.HostIP, Port: p.HostPort, Err: err}
		}
	}
	return nil
}

// portSettle bounds how long a busy host port is re-checked before it is
// reported as taken: a racing k3-storage's own probe holds it for an
// instant, a program that really uses it holds it for good.
const portSettle = time.Second

// checkPortsSettled is checkPorts, re-checked every 50ms for up to
// portSettle while the port is busy and no container has our name yet.
func (e *ensurer) checkPortsSettled(ctx context.Context) error {
	deadline := time.Now().Add(portSettle)
	for {
		err := e.checkPorts()
		if err == nil || e.nameTaken(ctx) || time.Now().After(deadline) {
			return err
		}
		t := time.NewTimer(50 * time.Millisecond)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return err
		}
	}
}

// probePort returns the listen error if ip:port is in use. Other listen
// failures (no IPv6, no permission) are left for the daemon to judge.
func probePort(ip string, port int) error {
	l, err := net.Listen("tcp", net.JoinHostPort(ip, strconv.Itoa(port)))
	if err != nil {
		if errors.Is(err, syscall.EADDRINUSE) {
			return err
		}
		return nil
	}
	return l.Close()
}

func (e *ensurer) ensureImage(ctx context.Context) error {
	ref := e.spec.Image
	e.emit(StepImageCheck, "")
	_, err := e.c.api.ImageInspect(ctx, ref)
	if err == nil {
		e.emit(StepImagePresent, "")
		return nil
	}
	if !cerrdefs.IsNotFound(err) {
		return fmt.Errorf("inspect image %q: %w", ref, err)
	}
	totals, err := e.pull(ctx)
	if err != nil {
		return &PullError{Image: ref, Err: err}
	}
	// Engines differ in how a pull ends (Docker: "Pull complete" per layer;
	// Podman: "Download complete" per layer and for the image): the stream
	// ended without an error, and the image must now be there.
	if _, err := e.c.api.ImageInspect(ctx, ref); err != nil {
		return &PullError{Image: ref, Err: fmt.Errorf("the pull ended without an error, but the image is not there: %w", err)}
	}
	done := Progress{Step: StepPullComplete, Container: e.spec.Name, Image: ref, Aggregate: totals}
	e.report(done)
	return nil
}

// pull runs the daemon's pull of the spec's image to the end of its message
// stream, reporting every layer message, and cancels it when no message
// arrives for the client's stall timeout.
func (e *ensurer) pull(ctx context.Context) (PullTotals, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	stall := e.c.pullStall
	var timer *time.Timer
	if stall > 0 {
		// The daemon answers the request only with its first message, so
		// the clock runs from before the request.
		timer = time.AfterFunc(stall, func() { cancel(ErrPullStalled) })
		defer timer.Stop()
	}
	explain := func(err error) error {
		if errors.Is(context.Cause(ctx), ErrPullStalled) {
			return fmt.Errorf("%w: no message from the daemon for %v (is the registry reachable?)", ErrPullStalled, stall)
		}
		if ctx.Err() != nil {
			return fmt.Errorf("%w: %w", context.Cause(ctx), err)
		}
		return err
	}
	rc, err := e.c.api.ImagePull(ctx, e.spec.Image, image.PullOptions{})
	if err != nil {
		return PullTotals{}, explain(err)
	}
	defer rc.Close()
	var body io.Reader = rc
	if timer != nil {
		body = &activityReader{r: rc, active: func() { timer.Reset(stall) }}
	}
	totals, err := decodePull(body, e.report, Progress{Container: e.spec.Name, Image: e.spec.Image})
	if err != nil {
		return totals, explain(err)
	}
	if ctx.Err() != nil { // stalled just as the stream ended
		return totals, explain(ctx.Err())
	}
	return totals, nil
}

// activityReader calls active whenever data arrives.
type activityReader struct {
	r      io.Reader
	active func()
}

func (a *activityReader) Read(p []byte) (int, error) {
	n, err := a.r.Read(p)
	if n > 0 {
		a.active()
	}
	return n, err
}

// ensureVolume creates the named volume if it does not exist and reports
// whether it did. An existing volume is mounted as it is, whoever made it.
func (e *ensurer) ensureVolume(ctx context.Context) (created bool, err error) {
	if e.spec.Volume == "" {
		return false, nil
	}
	_, err = e.c.api.VolumeInspect(ctx, e.spec.Volume)
	if err == nil {
		return false, nil
	}
	if !cerrdefs.IsNotFound(err) {
		return false, fmt.Errorf("inspect volume %q: %w", e.spec.Volume, err)
	}
	e.emit(StepVolume, "creating volume "+e.spec.Volume)
	_, err = e.c.api.VolumeCreate(ctx, volume.CreateOptions{
		Name:   e.spec.Volume,
		Labels: map[string]string{LabelManagedBy: ManagedBy, LabelBackend: e.spec.Backend},
	})
	if err != nil {
		return false, fmt.Errorf("create volume %q: %w", e.spec.Volume, err)
	}
	return true, nil
}

func (e *ensurer) containerConfig(createID string) (*container.Config, *container.HostConfig) {
	labels := e.c.owner.labels()
	labels[LabelManagedBy] = ManagedBy
	labels[LabelSpecHash] = e.hash
	labels[LabelBackend] = e.spec.Backend
	labels[labelCreateID] = createID

	exposed := nat.PortSet{}
	bindings := nat.PortMap{}
	for _, p := range e.spec.Ports {
		port := nat.Port(strconv.Itoa(p.ContainerPort) + "/tcp")
		exposed[port] = struct{}{}
		bindings[port] = append(bindings[port], nat.PortBinding{HostIP: p.HostIP, HostPort: strconv.Itoa(p.HostPort)})
	}
	cfg := &container.Config{
		Image:        e.spec.Image,
		Env:          e.spec.Env,
		Cmd:          e.spec.Cmd,
		ExposedPorts: exposed,
		Labels:       labels,
	}
	hostCfg := &container.HostConfig{
		PortBindings:  bindings,
		RestartPolicy: container.RestartPolicy{Name: container.RestartPolicyDisabled},
	}
	if e.spec.Volume != "" {
		hostCfg.Mounts = []mount.Mount{{Type: mount.TypeVolume, Source: e.spec.Volume, Target: e.spec.MountPath}}
	}
	return cfg, hostCfg
}

// cleanup removes what a failed create made: the container (by ID, or when
// the create's answer was lost, the container under the name that carries
// this call's create ID) and the volume if this call created it and nothing
// else uses it. It runs on a context detached from ctx's cancellation.
func (e *ensurer) cleanup(ctx context.Context, id, createID string, createdVolume bool) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), e.c.cleanupTimeout)
	defer cancel()
	e.emit(StepCleanup, "removing what this attempt created")
	if id == "" {
		insp, err := e.c.api.ContainerInspect(ctx, e.spec.Name)
		if err == nil && insp.Config != nil && insp.Config.Labels[labelCreateID] == createID {
			id = insp.ID
		}
	}
	if id != "" {
		// Best effort: the caller reports the original error.
		err := e.c.removeContainer(ctx, id, 0)
		e.c.releaseLock(id, err == nil)
	}
	if createdVolume {
		// In use by another container (a racing process): the daemon refuses.
		_ = e.c.api.VolumeRemove(ctx, e.spec.Volume, false)
	}
}

// removeContainer stops the container (SIGTERM, then SIGKILL after
// stopTimeout) and removes it with its anonymous volumes. A container that
// is already gone is not an error.
func (c *Client) removeContainer(ctx context.Context, id string, stopTimeout time.Duration) error {
	secs := max(0, int(math.Ceil(stopTimeout.Seconds())))
	stopErr := c.api.ContainerStop(ctx, id, container.StopOptions{Timeout: &secs})
	if cerrdefs.IsNotFound(stopErr) {
		return nil
	}
	err := c.api.ContainerRemove(ctx, id, container.RemoveOptions{Force: true, RemoveVolumes: true})
	if err == nil || cerrdefs.IsNotFound(err) {
		return nil
	}
	if stopErr != nil {
		return fmt.Errorf("stop: %w; remove: %w", stopErr, err)
	}
	return err
}

// Remove stops and removes the container of h, waiting up to stopTimeout
// (rounded up to whole seconds; 0 or less kills at once) for the database to
// shut down cleanly before it is killed, and removes its volume too when
// purgeVolume is set. It is bounded by ctx: give it a deadline longer than
// stopTimeout, or the stop is cut short.
// It refuses, with an error wrapping ErrNotOwned and touching nothing, when
// h is not Owned or the container or volume carries no k3-storage labels.
// A container or volume that is already gone is not an error. Once the
// container is gone, the lock that marked it as this process's is released.
func (c *Client) Remove(ctx context.Context, h Handle, stopTimeout time.Duration, purgeVolume bool) error {
	if !h.Owned {
		return fmt.Errorf("remove container %q: %w", h.Name, ErrNotOwned)
	}
	insp, err := c.api.ContainerInspect(ctx, h.ID)
	switch {
	case cerrdefs.IsNotFound(err):
	case err != nil:
		return fmt.Errorf("remove container %q: %w", h.Name, err)
	case insp.Config == nil || insp.Config.Labels[LabelManagedBy] != ManagedBy:
		return fmt.Errorf("remove container %q: it carries no k3-storage labels: %w", h.Name, ErrNotOwned)
	default:
		if err := c.removeContainer(ctx, h.ID, stopTimeout); err != nil {
			return fmt.Errorf("remove container %q: %w", h.Name, err)
		}
	}
	c.releaseLock(h.ID, true)
	if !purgeVolume || h.Volume == "" {
		return nil
	}
	v, err := c.api.VolumeInspect(ctx, h.Volume)
	switch {
	case cerrdefs.IsNotFound(err):
		return nil
	case err != nil:
		return fmt.Errorf("purge volume %q: %w", h.Volume, err)
	case v.Labels[LabelManagedBy] != ManagedBy:
		return fmt.Errorf("purge volume %q: it was not created by k3-storage: %w", h.Volume, ErrNotOwned)
	}
	if err := c.api.VolumeRemove(ctx, h.Volume, false); err != nil && !cerrdefs.IsNotFound(err) {
		return fmt.Errorf("purge volume %q: %w", h.Volume, err)
	}
	return nil
}

func shortID(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}

func randomID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	return hex.EncodeToString(b[:])
}
