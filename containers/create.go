package containers

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/mount"
	"github.com/docker/docker/api/types/volume"
	"github.com/docker/go-connections/nat"
)

// labelCreateID marks the container of one create call, so that a create
// whose answer was lost (cancelled context) can still be cleaned up without
// mistaking another call's container for it.
const labelCreateID = "k3-storage.create-id"

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
		return Handle{}, false, fmt.Errorf(errCreateContainer, name, err)
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
				pe.Err = fmt.Errorf(errDaemonSaid, pe.Err, err)
			}
			return Handle{}, false, perr
		}
		return Handle{}, false, fmt.Errorf(errStartContainer, name, err)
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
		return false, fmt.Errorf(errInspectVolume, e.spec.Volume, err)
	}
	e.emit(StepVolume, fmt.Sprintf(msgCreateVolume, e.spec.Volume))
	_, err = e.c.api.VolumeCreate(ctx, volume.CreateOptions{
		Name:   e.spec.Volume,
		Labels: map[string]string{LabelManagedBy: ManagedBy, LabelBackend: e.spec.Backend},
	})
	if err != nil {
		return false, fmt.Errorf(errCreateVolume, e.spec.Volume, err)
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
	e.emit(StepCleanup, msgCleanup)
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

func randomID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	return hex.EncodeToString(b[:])
}
