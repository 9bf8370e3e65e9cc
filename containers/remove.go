package containers

import (
	"context"
	"fmt"
	"math"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"
)

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
		return fmt.Errorf(errStopRemove, stopErr, err)
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
		return fmt.Errorf(errRemoveContainer, h.Name, ErrNotOwned)
	}
	insp, err := c.api.ContainerInspect(ctx, h.ID)
	switch {
	case cerrdefs.IsNotFound(err):
	case err != nil:
		return fmt.Errorf(errRemoveContainer, h.Name, err)
	case insp.Config == nil || insp.Config.Labels[LabelManagedBy] != ManagedBy:
		return fmt.Errorf(errRemoveUnlabeled, h.Name, ErrNotOwned)
	default:
		if err := c.removeContainer(ctx, h.ID, stopTimeout); err != nil {
			return fmt.Errorf(errRemoveContainer, h.Name, err)
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
		return fmt.Errorf(errPurgeVolume, h.Volume, err)
	case v.Labels[LabelManagedBy] != ManagedBy:
		return fmt.Errorf(errPurgeForeign, h.Volume, ErrNotOwned)
	}
	if err := c.api.VolumeRemove(ctx, h.Volume, false); err != nil && !cerrdefs.IsNotFound(err) {
		return fmt.Errorf(errPurgeVolume, h.Volume, err)
	}
	return nil
}
