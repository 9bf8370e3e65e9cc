package containers

import (
	"context"
	"fmt"
	"sort"
	"strconv"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"
)

// Ownership classifies the container found under a name.
type Ownership int

const (
	NoContainer Ownership = iota // nothing has that name
	Foreign                      // no k3-storage labels: a user's or another tool's container
	// LiveOwner: ours, and its owner process runs on this host (maybe this
	// very process), or the owner is gone but a live k3-storage process has
	// adopted the container (State.Adopted).
	LiveOwner
	// RemoteOwner: ours, owned by a process this one cannot check (another
	// host, or another PID namespace of this host): presumed alive.
	RemoteOwner
	// Orphan: ours, its owner process is gone (killed, crashed, or the host
	// rebooted) and no live process has adopted it.
	Orphan
)

func (o Ownership) String() string {
	switch o {
	case NoContainer:
		return "none"
	case Foreign:
		return "foreign"
	case LiveOwner:
		return "live-owner"
	case RemoteOwner:
		return "remote-owner"
	case Orphan:
		return "orphan"
	}
	return fmt.Sprintf("ownership(%d)", int(o))
}

// State is what exists under a container name.
type State struct {
	Name      string
	Ownership Ownership // NoContainer: the other fields are zero
	ID        string
	Image     string // image reference the container was created with
	ImageID   string // image the container runs (sha256:...)
	Status    string // daemon's state: created, running, paused, restarting, removing, exited, dead
	Running   bool   // running and not paused
	Owner     Owner  // from the labels (LiveOwner, RemoteOwner, Orphan): the creator
	// Adopted: the creator named in Owner is gone, and another live
	// process (or this one) adopted the container and holds its lock.
	Adopted  bool
	SpecHash string // from the labels
	Backend  string // from the labels
	Ports    []Port // published ports as configured, sorted by container port
	Volumes  []string
}

// Exists reports whether a container has the name.
func (s State) Exists() bool { return s.Ownership != NoContainer }

// Inspect reports what exists under name. A missing container is not an
// error (Ownership NoContainer). A container whose creator is gone is an
// Orphan unless some process holds its lock (see DefaultLockDir): then it
// is LiveOwner with Adopted set.
func (c *Client) Inspect(ctx context.Context, name string) (State, error) {
	return c.inspect(ctx, name, true)
}

// inspect is Inspect; probe false skips the lock check, for a caller that
// holds or is about to take the lock itself.
func (c *Client) inspect(ctx context.Context, name string, probe bool) (State, error) {
	insp, err := c.api.ContainerInspect(ctx, name)
	if cerrdefs.IsNotFound(err) {
		return State{Name: name}, nil
	}
	if err != nil {
		return State{}, fmt.Errorf(errInspectContainer, name, err)
	}
	return c.stateOf(name, insp, probe), nil
}

func (c *Client) stateOf(name string, insp container.InspectResponse, probe bool) State {
	st := State{Name: name, ID: insp.ID, ImageID: insp.Image, Ownership: Foreign}
	var labels map[string]string
	if insp.Config != nil {
		st.Image = insp.Config.Image
		labels = insp.Config.Labels
	}
	if insp.State != nil {
		st.Status = insp.State.Status
		st.Running = insp.State.Running && !insp.State.Paused
	}
	if insp.HostConfig != nil {
		for cport, bindings := range insp.HostConfig.PortBindings {
			for _, b := range bindings {
				hp, _ := strconv.Atoi(b.HostPort)
				st.Ports = append(st.Ports, Port{HostIP: b.HostIP, HostPort: hp, ContainerPort: cport.Int()})
			}
		}
		sort.Slice(st.Ports, func(i, j int) bool { return st.Ports[i].ContainerPort < st.Ports[j].ContainerPort })
	}
	for _, m := range insp.Mounts {
		if m.Name != "" {
			st.Volumes = append(st.Volumes, m.Name)
		}
	}
	if labels[LabelManagedBy] != ManagedBy {
		return st
	}
	st.Owner = ownerFromLabels(labels)
	st.SpecHash = labels[LabelSpecHash]
	st.Backend = labels[LabelBackend]
	switch c.owner.check(st.Owner) {
	case ownerAlive:
		st.Ownership = LiveOwner
	case ownerUnknown:
		st.Ownership = RemoteOwner
	default:
		st.Ownership = Orphan
		if c.holdsLock(st.ID) {
			st.Ownership, st.Adopted = LiveOwner, true
		} else if probe {
			// An error (no lock directory) says nothing: Ensure finds out
			// again when it tries to take the lock.
			if held, _ := lockHeldElsewhere(c.lockDir, st.ID); held {
				st.Ownership, st.Adopted = LiveOwner, true
			}
		}
	}
	return st
}
