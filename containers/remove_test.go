package containers_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/volume"

	"github.com/k3/k3-storage/containers"
	"github.com/k3/k3-storage/containers/containertest"
)

func remove(t *testing.T, c *containers.Client, h containers.Handle, purge bool) {
	t.Helper()
	if err := c.Remove(ensureCtx(t), h, 10*time.Second, purge); err != nil {
		t.Fatalf("Remove %s: %v", h.Name, err)
	}
	containertest.ContainerGone(t, h.ID)
	if got := containertest.VolumeExists(t, h.Volume); got == purge {
		t.Errorf("after Remove(purge=%v) volume %s exists = %v", purge, h.Volume, got)
	}
}

func TestPurgeOnlyOurVolume(t *testing.T) {
	ref := containertest.EtcdImage(t)
	c := containertest.Client(t)
	cli := containertest.Docker(t)
	name := containertest.UniqueName(t, "uservol")
	spec := containers.EtcdSpec(containers.EtcdParams{Name: name, Image: ref, ClientPort: containertest.FreePort(t), MaxRequestBytes: etcdMaxRequestBytes})
	if _, err := cli.VolumeCreate(t.Context(), volume.CreateOptions{Name: spec.Volume}); err != nil {
		t.Fatal(err)
	}
	h, r := ensure(t, c, spec)
	if r.has(containers.StepVolume) || h.Outcome != containers.Created {
		t.Errorf("steps %v, handle %+v: want the user's volume mounted as it is", r.steps(), h)
	}
	checkContainer(t, h, spec)
	err := c.Remove(ensureCtx(t), h, 5*time.Second, true)
	if !errors.Is(err, containers.ErrNotOwned) || !strings.Contains(err.Error(), spec.Volume) {
		t.Errorf("purging the user's volume: %v, want ErrNotOwned naming it", err)
	}
	containertest.ContainerGone(t, h.ID) // our container goes all the same
	if !containertest.VolumeExists(t, spec.Volume) {
		t.Errorf("the user's volume %s was removed", spec.Volume)
	}
}
