package containers_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"

	"github.com/k3/k3-storage/containers"
	"github.com/k3/k3-storage/containers/containertest"
)

// etcdMaxRequestBytes is the --max-request-bytes the tests give etcd: what
// k3 runs it with (backends/etcd.ServerMaxRequestBytes, which this package
// does not import), room for the Store contract's 1.5 MiB values.
const etcdMaxRequestBytes = 2 << 20

// recorder collects Progress reports; safe for concurrent Ensure calls.
type recorder struct {
	mu sync.Mutex
	ps []containers.Progress
}

func (r *recorder) report(p containers.Progress) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ps = append(r.ps, p)
}

func (r *recorder) all() []containers.Progress {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.ps)
}

// steps lists the steps reported, consecutive repeats folded.
func (r *recorder) steps() []containers.Step {
	var out []containers.Step
	for _, p := range r.all() {
		if len(out) == 0 || out[len(out)-1] != p.Step {
			out = append(out, p.Step)
		}
	}
	return out
}

func (r *recorder) has(s containers.Step) bool { return slices.Contains(r.steps(), s) }

func wantSteps(t *testing.T, r *recorder, want ...containers.Step) {
	t.Helper()
	if got := r.steps(); !slices.Equal(got, want) {
		t.Errorf("steps = %v, want %v", got, want)
	}
}

func ensureCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func ensure(t *testing.T, c *containers.Client, spec containers.Spec) (containers.Handle, *recorder) {
	t.Helper()
	r := &recorder{}
	h, err := c.Ensure(ensureCtx(t), spec, r.report)
	if err != nil {
		t.Fatalf("Ensure %s: %v\nprogress: %v\nlogs: %s", spec.Name, err, r.steps(), containertest.Logs(t, spec.Name))
	}
	return h, r
}

var freshCreate = []containers.Step{
	containers.StepInspect, containers.StepImageCheck, containers.StepPull, containers.StepPullComplete,
	containers.StepVolume, containers.StepCreate, containers.StepStart, containers.StepRunning,
}

var presentCreate = []containers.Step{
	containers.StepInspect, containers.StepImageCheck, containers.StepImagePresent,
	containers.StepCreate, containers.StepStart, containers.StepRunning,
}

func shortID(id string) string { return id[:min(12, len(id))] }

func TestReuseRunningContainerNotOurs(t *testing.T) {
	ref := containertest.EtcdImage(t)
	c := containertest.Client(t)
	name := containertest.UniqueName(t, "user")
	port := containertest.FreePort(t)
	spec := containers.EtcdSpec(containers.EtcdParams{Name: name, Image: ref, ClientPort: port, MaxRequestBytes: etcdMaxRequestBytes})
	id := containertest.RunUnmanaged(t, spec)
	cli := containertest.Docker(t)
	before, err := cli.ContainerInspect(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}

	h, r := ensure(t, c, spec)
	if h.Outcome != containers.Reused || h.Owned || h.ID != id || h.Volume != "" {
		t.Fatalf("handle %+v: want Reused, not Owned, the user's container %s", h, id)
	}
	wantSteps(t, r, containers.StepInspect, containers.StepReuse)

	err = c.Remove(ensureCtx(t), h, time.Second, true)
	if !errors.Is(err, containers.ErrNotOwned) {
		t.Errorf("Remove of a reused container: %v, want ErrNotOwned", err)
	}
	// Even a handle claiming ownership cannot remove a container without
	// our labels.
	forged := h
	forged.Owned, forged.Volume = true, spec.Volume
	if err := c.Remove(ensureCtx(t), forged, time.Second, true); !errors.Is(err, containers.ErrNotOwned) {
		t.Errorf("Remove of an unlabelled container with a forged handle: %v, want ErrNotOwned", err)
	}
	after, err := cli.ContainerInspect(t.Context(), id)
	if err != nil || !after.State.Running || after.State.StartedAt != before.State.StartedAt {
		t.Errorf("user's container after Ensure and Remove: %v, %+v; want it running untouched", err, after.State)
	}
	if !containertest.VolumeExists(t, spec.Volume) {
		t.Errorf("the user's volume %s is gone", spec.Volume)
	}
}

func TestForeignContainerUntouched(t *testing.T) {
	reg := containertest.StartRegistry(t)
	ref, other := reg.EtcdImage(t), reg.EtcdImage(t)
	c := containertest.Client(t)
	cli := containertest.Docker(t)

	check := func(t *testing.T, spec containers.Spec, id string, wantRunning bool, wantImage string) {
		t.Helper()
		before, err := cli.ContainerInspect(t.Context(), id)
		if err != nil {
			t.Fatal(err)
		}
		r := &recorder{}
		h, err := c.Ensure(ensureCtx(t), spec, r.report)
		var fe *containers.ForeignContainerError
		if !errors.As(err, &fe) {
			t.Fatalf("Ensure = %+v, %v; want *ForeignContainerError", h, err)
		}
		if fe.Name != spec.Name || fe.ID != id || fe.Image != wantImage || fe.Want != spec.Image || fe.Running != wantRunning {
			t.Errorf("error fields %+v", fe)
		}
		for _, s := range []string{spec.Name, wantImage, "重命名", "换一个容器名"} {
			if !strings.Contains(err.Error(), s) {
				t.Errorf("error %q does not mention %q", err, s)
			}
		}
		wantSteps(t, r, containers.StepInspect)
		after, err := cli.ContainerInspect(t.Context(), id)
		if err != nil || after.State.Status != before.State.Status || after.State.StartedAt != before.State.StartedAt {
			t.Errorf("foreign container changed: %v, %+v -> %+v", err, before.State, after.State)
		}
		if containertest.VolumeExists(t, spec.Volume) {
			t.Errorf("volume %s was created for a spec that was refused", spec.Volume)
		}
	}

	t.Run("running another image", func(t *testing.T) {
		name := containertest.UniqueName(t, "foreign")
		spec := containers.EtcdSpec(containers.EtcdParams{Name: name, Image: ref, ClientPort: containertest.FreePort(t), MaxRequestBytes: etcdMaxRequestBytes})
		theirs := spec
		theirs.Image, theirs.Volume, theirs.MountPath = other, "", ""
		theirs.Ports[0].HostPort = containertest.FreePort(t)
		id := containertest.RunUnmanaged(t, theirs)
		check(t, spec, id, true, other)
		if _, err := cli.ImageInspect(t.Context(), ref); !cerrdefs.IsNotFound(err) {
			t.Errorf("image %s was pulled for a refused spec: %v", ref, err)
		}
	})
	t.Run("same image, not running", func(t *testing.T) {
		name := containertest.UniqueName(t, "foreign")
		spec := containers.EtcdSpec(containers.EtcdParams{Name: name, Image: ref, ClientPort: containertest.FreePort(t), MaxRequestBytes: etcdMaxRequestBytes})
		containertest.Pull(t, ref)
		resp, err := cli.ContainerCreate(t.Context(), &container.Config{Image: ref}, nil, nil, nil, name)
		if err != nil {
			t.Fatal(err)
		}
		check(t, spec, resp.ID, false, ref)
	})
}

// standIn runs a stand-in for another k3-storage process: a process whose
// identity labels the containers, and a Client acting for it. kill ends it
// as SIGKILL would: the process dies and the Client's locks go with it
// (Close releases them as the kernel would), its containers stay.
func standIn(t *testing.T, opts ...containers.Option) (c *containers.Client, owner containers.Owner, kill func()) {
	t.Helper()
	cmd := exec.Command("sleep", "600")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	owner, err := containers.ProcessOwner(cmd.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	c = containertest.Client(t, append([]containers.Option{containers.WithOwner(owner)}, opts...)...)
	var once sync.Once
	kill = func() {
		once.Do(func() {
			cmd.Process.Kill()
			cmd.Wait()
			c.Close()
		})
	}
	t.Cleanup(kill)
	return c, owner, kill
}

func TestOwnership(t *testing.T) {
	reg := containertest.StartRegistry(t)
	ref := reg.EtcdImage(t)
	containertest.Pull(t, ref)
	c := containertest.Client(t)

	t.Run("live owner reused, then orphan adopted", func(t *testing.T) {
		other, owner, kill := standIn(t)
		name := containertest.UniqueName(t, "owned")
		spec := containers.EtcdSpec(containers.EtcdParams{Name: name, Image: ref, ClientPort: containertest.FreePort(t), MaxRequestBytes: etcdMaxRequestBytes})
		h1, _ := ensure(t, other, spec)
		insp, err := containertest.Docker(t).ContainerInspect(t.Context(), h1.ID)
		if err != nil || insp.Config.Labels[containers.LabelOwnerPID] != strconv.Itoa(owner.PID) {
			t.Fatalf("owner label %q, want %d (%v)", insp.Config.Labels[containers.LabelOwnerPID], owner.PID, err)
		}

		st, err := c.Inspect(t.Context(), name)
		if err != nil || st.Ownership != containers.LiveOwner || st.Owner != owner || !st.Running || st.SpecHash != spec.Hash() {
			t.Fatalf("Inspect = %+v, %v; want LiveOwner %+v", st, err, owner)
		}
		h2, r2 := ensure(t, c, spec)
		if h2.Outcome != containers.Reused || h2.Owned || h2.ID != h1.ID {
			t.Fatalf("with its owner alive: %+v, want Reused, not Owned", h2)
		}
		wantSteps(t, r2, containers.StepInspect, containers.StepReuse)
		if err := c.Remove(ensureCtx(t), h2, time.Second, false); !errors.Is(err, containers.ErrNotOwned) {
			t.Errorf("Remove of another process's container: %v", err)
		}

		kill() // the owner dies without cleaning up
		st, err = c.Inspect(t.Context(), name)
		if err != nil || st.Ownership != containers.Orphan {
			t.Fatalf("Inspect after the owner died = %+v, %v; want Orphan", st, err)
		}
		h3, r3 := ensure(t, c, spec)
		if h3.Outcome != containers.Adopted || !h3.Owned || h3.ID != h1.ID || h3.Volume != spec.Volume {
			t.Fatalf("after the owner died: %+v, want the same container Adopted and Owned", h3)
		}
		wantSteps(t, r3, containers.StepInspect, containers.StepAdopt)
		remove(t, c, h3, false)
	})

	t.Run("kill and restart cycles leak nothing", func(t *testing.T) {
		name := containertest.UniqueName(t, "cycles")
		spec := containers.EtcdSpec(containers.EtcdParams{Name: name, Image: ref, ClientPort: containertest.FreePort(t), MaxRequestBytes: etcdMaxRequestBytes})
		var first string
		for i := range 5 {
			other, _, kill := standIn(t)
			h, _ := ensure(t, other, spec)
			want := containers.Adopted
			if i == 0 {
				want, first = containers.Created, h.ID
			}
			if h.Outcome != want || !h.Owned || h.ID != first {
				t.Fatalf("cycle %d: %+v, want %v of %s", i, h, want, shortID(first))
			}
			kill() // SIGKILL: no cleanup
		}
		h, _ := ensure(t, c, spec)
		remove(t, c, h, false)
		list, err := containertest.Docker(t).ContainerList(t.Context(), container.ListOptions{All: true,
			Filters: filters.NewArgs(filters.Arg("label", containers.LabelManagedBy), filters.Arg("name", name))})
		if err != nil || len(list) != 0 {
			t.Errorf("containers left after the cycles: %d (%v)", len(list), err)
		}
	})

	t.Run("pid reused by another process is not the owner", func(t *testing.T) {
		self := containers.CurrentOwner()
		impostor := self
		impostor.StartTime++ // same pid, started at another time
		other := containertest.Client(t, containers.WithOwner(impostor))
		name := containertest.UniqueName(t, "reused-pid")
		spec := containers.EtcdSpec(containers.EtcdParams{Name: name, Image: ref, ClientPort: containertest.FreePort(t), MaxRequestBytes: etcdMaxRequestBytes})
		h1, _ := ensure(t, other, spec)
		other.Close() // the impostor's creator is gone: its lock goes with it
		h2, r2 := ensure(t, c, spec)
		if h2.Outcome != containers.Adopted || !h2.Owned || h2.ID != h1.ID {
			t.Fatalf("%+v, want Adopted", h2)
		}
		wantSteps(t, r2, containers.StepInspect, containers.StepAdopt)
	})

	t.Run("owner on another host is presumed alive", func(t *testing.T) {
		self := containers.CurrentOwner()
		remote := containers.Owner{PID: 1, Host: self.Host + "-elsewhere", StartTime: 1}
		other := containertest.Client(t, containers.WithOwner(remote))
		name := containertest.UniqueName(t, "remote")
		spec := containers.EtcdSpec(containers.EtcdParams{Name: name, Image: ref, ClientPort: containertest.FreePort(t), MaxRequestBytes: etcdMaxRequestBytes})
		h1, _ := ensure(t, other, spec)
		h2, _ := ensure(t, c, spec)
		if h2.Outcome != containers.Reused || h2.Owned || h2.ID != h1.ID {
			t.Fatalf("%+v, want Reused", h2)
		}
	})

	t.Run("exited orphan is recreated", func(t *testing.T) {
		other, _, kill := standIn(t)
		name := containertest.UniqueName(t, "exited")
		spec := containers.EtcdSpec(containers.EtcdParams{Name: name, Image: ref, ClientPort: containertest.FreePort(t), MaxRequestBytes: etcdMaxRequestBytes})
		h1, _ := ensure(t, other, spec)
		if err := containertest.Docker(t).ContainerStop(t.Context(), h1.ID, container.StopOptions{}); err != nil {
			t.Fatal(err)
		}
		kill()
		h2, r2 := ensure(t, c, spec)
		if h2.Outcome != containers.Created || !h2.Owned || h2.ID == h1.ID {
			t.Fatalf("%+v, want a new Created container", h2)
		}
		wantSteps(t, r2, append([]containers.Step{containers.StepInspect, containers.StepRemoveStale}, presentCreate...)...)
		containertest.ContainerGone(t, h1.ID)
		checkContainer(t, h2, spec)
	})

	t.Run("orphan of another spec is recreated", func(t *testing.T) {
		other, _, kill := standIn(t)
		name := containertest.UniqueName(t, "respec")
		port := containertest.FreePort(t)
		old := containers.EtcdSpec(containers.EtcdParams{Name: name, Image: ref, ClientPort: port, MaxRequestBytes: etcdMaxRequestBytes})
		old.Env = []string{"ETCD_LOG_LEVEL=warn"}
		h1, _ := ensure(t, other, old)
		kill()
		spec := containers.EtcdSpec(containers.EtcdParams{Name: name, Image: ref, ClientPort: port, MaxRequestBytes: etcdMaxRequestBytes})
		h2, r2 := ensure(t, c, spec)
		if h2.Outcome != containers.Created || h2.ID == h1.ID {
			t.Fatalf("%+v, want a new Created container", h2)
		}
		if !r2.has(containers.StepRemoveStale) {
			t.Errorf("steps %v: no StepRemoveStale", r2.steps())
		}
		containertest.ContainerGone(t, h1.ID)
		checkContainer(t, h2, spec)
	})

	t.Run("own stopped container is recreated", func(t *testing.T) {
		name := containertest.UniqueName(t, "own")
		spec := containers.EtcdSpec(containers.EtcdParams{Name: name, Image: ref, ClientPort: containertest.FreePort(t), MaxRequestBytes: etcdMaxRequestBytes})
		h1, _ := ensure(t, c, spec)
		if err := containertest.Docker(t).ContainerStop(t.Context(), h1.ID, container.StopOptions{}); err != nil {
			t.Fatal(err)
		}
		h2, r2 := ensure(t, c, spec)
		if h2.Outcome != containers.Created || !h2.Owned || h2.ID == h1.ID {
			t.Fatalf("%+v, want a new Created container", h2)
		}
		wantSteps(t, r2, append([]containers.Step{containers.StepInspect, containers.StepRemoveStale}, presentCreate...)...)
		containertest.ContainerGone(t, h1.ID)
		// The first handle's container is gone: removing it is not an error,
		// and does not touch the new container.
		if err := c.Remove(ensureCtx(t), h1, time.Second, false); err != nil {
			t.Errorf("Remove of a vanished container: %v", err)
		}
		checkContainer(t, h2, spec)
	})

	t.Run("stopped container of a live owner is left alone", func(t *testing.T) {
		other, owner, _ := standIn(t)
		name := containertest.UniqueName(t, "stopped")
		spec := containers.EtcdSpec(containers.EtcdParams{Name: name, Image: ref, ClientPort: containertest.FreePort(t), MaxRequestBytes: etcdMaxRequestBytes})
		h1, _ := ensure(t, other, spec)
		if err := containertest.Docker(t).ContainerStop(t.Context(), h1.ID, container.StopOptions{}); err != nil {
			t.Fatal(err)
		}
		_, err := c.Ensure(ensureCtx(t), spec, nil)
		var oe *containers.OwnedElsewhereError
		if !errors.As(err, &oe) || oe.Owner != owner || oe.ID != h1.ID || oe.Status != "exited" {
			t.Fatalf("Ensure = %v, want *OwnedElsewhereError naming owner %d", err, owner.PID)
		}
		if !strings.Contains(err.Error(), strconv.Itoa(owner.PID)) {
			t.Errorf("error %q does not name the owner pid", err)
		}
		insp, err := containertest.Docker(t).ContainerInspect(t.Context(), h1.ID)
		if err != nil || insp.State.Status != "exited" {
			t.Errorf("container after refusal: %v, %+v", err, insp.State)
		}
	})
}

func TestConcurrentEnsure(t *testing.T) {
	reg := containertest.StartRegistry(t)
	cA := containertest.Client(t)
	cB, _, _ := standIn(t)
	cli := containertest.Docker(t)

	race := func(t *testing.T, ref string) {
		name := containertest.UniqueName(t, "race")
		spec := containers.EtcdSpec(containers.EtcdParams{Name: name, Image: ref, ClientPort: containertest.FreePort(t), MaxRequestBytes: etcdMaxRequestBytes})
		start := make(chan struct{})
		var wg sync.WaitGroup
		hs, errs, rs := make([]containers.Handle, 2), make([]error, 2), []*recorder{{}, {}}
		for i, c := range []*containers.Client{cA, cB} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				hs[i], errs[i] = c.Ensure(ensureCtx(t), spec, rs[i].report)
			}()
		}
		close(start)
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Fatalf("Ensure %d: %v", i, err)
			}
		}
		outcomes := []containers.Outcome{hs[0].Outcome, hs[1].Outcome}
		slices.Sort(outcomes)
		if !slices.Equal(outcomes, []containers.Outcome{containers.Created, containers.Reused}) || hs[0].ID != hs[1].ID || hs[0].Owned == hs[1].Owned {
			t.Fatalf("handles %+v / %+v: want one Created and Owned, one Reused, same container", hs[0], hs[1])
		}
		for i := range hs {
			t.Logf("%s: %v", hs[i].Outcome, rs[i].steps())
		}
		list, err := cli.ContainerList(t.Context(), container.ListOptions{All: true, Filters: filters.NewArgs(filters.Arg("name", "^/"+name+"$"))})
		if err != nil || len(list) != 1 || list[0].State != "running" {
			t.Fatalf("containers named %s: %d (%v)", name, len(list), err)
		}
	}
	t.Run("image missing", func(t *testing.T) { race(t, reg.EtcdImage(t)) })
	ref := reg.EtcdImage(t)
	containertest.Pull(t, ref)
	for i := range 3 {
		t.Run(fmt.Sprintf("image present %d", i), func(t *testing.T) { race(t, ref) })
	}
}

func TestEnvNeverLeaks(t *testing.T) {
	reg := containertest.StartRegistry(t)
	ref := reg.MariaDBImage(t)
	c := containertest.Client(t)
	secret := "k3-secret-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	mk := func(name string, port int) containers.Spec {
		return containers.MySQLSpec(containers.MySQLParams{Name: name, Image: ref, Port: port, User: "app", Password: secret, Database: "d"})
	}
	var texts []string
	collect := func(p containers.Progress) {
		texts = append(texts, p.String(), fmt.Sprintf("%+v", p), fmt.Sprintf("%#v", p))
	}
	addErr := func(what string, err error) {
		if err == nil {
			t.Errorf("%s: no error", what)
			return
		}
		texts = append(texts, err.Error(), fmt.Sprintf("%+v", err), fmt.Sprintf("%v", errors.Unwrap(err)))
	}

	// success, then reuse of our own running container
	name := containertest.UniqueName(t, "secret")
	spec := mk(name, containertest.FreePort(t))
	texts = append(texts, spec.String(), fmt.Sprintf("%v %+v %#v", spec, spec, spec))
	h, err := c.Ensure(ensureCtx(t), spec, collect)
	if err != nil {
		t.Fatal(err)
	}
	texts = append(texts, fmt.Sprintf("%+v", h))
	if _, err := c.Ensure(ensureCtx(t), spec, collect); err != nil {
		t.Fatal(err)
	}
	insp, err := containertest.Docker(t).ContainerInspect(t.Context(), h.ID)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range insp.Config.Labels {
		texts = append(texts, k+"="+v)
	}
	// the same spec published on a taken port
	other := mk(containertest.UniqueName(t, "secret"), spec.Ports[0].HostPort)
	_, err = c.Ensure(ensureCtx(t), other, collect)
	addErr("port in use", err)
	// an unreachable registry
	bad := mk(containertest.UniqueName(t, "secret"), containertest.FreePort(t))
	bad.Image = "127.0.0.1:" + strconv.Itoa(containertest.FreePort(t)) + "/x:y"
	_, err = c.Ensure(ensureCtx(t), bad, collect)
	addErr("pull", err)
	// a foreign container with the name
	foreign := mk(containertest.UniqueName(t, "secret"), containertest.FreePort(t))
	foreign.Image = containertest.StartRegistry(t).EtcdImage(t)
	foreign.Volume, foreign.MountPath = "", ""
	containertest.RunUnmanaged(t, foreign)
	foreign.Image = ref
	_, err = c.Ensure(ensureCtx(t), foreign, collect)
	addErr("foreign", err)
	// an invalid spec
	invalid := mk("x", 1)
	invalid.Ports[0].HostIP = "0.0.0.0"
	_, err = c.Ensure(ensureCtx(t), invalid, collect)
	addErr("invalid", err)

	for _, s := range texts {
		if strings.Contains(s, secret) {
			t.Errorf("secret leaked: %s", s)
		}
	}
	if len(texts) < 20 {
		t.Errorf("only %d texts checked", len(texts))
	}
}

// orphanOf makes a running container whose creator was killed: an orphan.
func orphanOf(t *testing.T, spec containers.Spec) containers.Handle {
	t.Helper()
	creator, _, kill := standIn(t)
	h, _ := ensure(t, creator, spec)
	kill()
	return h
}

// TestAdoptionIsExclusive: an adopted container keeps its dead creator's
// labels, but the adopter's lock marks it as taken, so a later process
// reuses it without owning it and cannot remove it; once the adopter
// removes it or goes away, the next process creates or adopts again. The
// Clients stand for separate processes: flock locks of separate opens
// conflict within one process too (TestLockPerOpenFile).
func TestAdoptionIsExclusive(t *testing.T) {
	reg := containertest.StartRegistry(t)
	ref := reg.EtcdImage(t)
	containertest.Pull(t, ref)
	cli := containertest.Docker(t)

	t.Run("adopted container is not adopted again", func(t *testing.T) {
		name := containertest.UniqueName(t, "adopted")
		spec := containers.EtcdSpec(containers.EtcdParams{Name: name, Image: ref, ClientPort: containertest.FreePort(t), MaxRequestBytes: etcdMaxRequestBytes})
		orphan := orphanOf(t, spec)

		c := containertest.Client(t)
		hc, rc := ensure(t, c, spec)
		if hc.Outcome != containers.Adopted || !hc.Owned || hc.ID != orphan.ID {
			t.Fatalf("C: %+v, want the orphan Adopted", hc)
		}
		wantSteps(t, rc, containers.StepInspect, containers.StepAdopt)

		d := containertest.Client(t)
		st, err := d.Inspect(t.Context(), name)
		if err != nil || st.Ownership != containers.LiveOwner || !st.Adopted || st.Owner.PID == os.Getpid() {
			t.Fatalf("D's Inspect = %+v, %v; want LiveOwner, Adopted, the dead creator in the labels", st, err)
		}
		hd, rd := ensure(t, d, spec)
		if hd.Outcome != containers.Reused || hd.Owned || hd.ID != orphan.ID {
			t.Fatalf("D: %+v, want Reused, not Owned", hd)
		}
		wantSteps(t, rd, containers.StepInspect, containers.StepReuse)
		if msg := rd.all()[1].Message; !strings.Contains(msg, "已被另一个运行中的 k3-storage 进程接管") {
			t.Errorf("D's reuse message %q does not say the container was adopted", msg)
		}
		if err := d.Remove(ensureCtx(t), hd, time.Second, true); !errors.Is(err, containers.ErrNotOwned) {
			t.Errorf("D's Remove: %v, want ErrNotOwned", err)
		}
		// D exits: Close touches nothing.
		if err := d.Close(); err != nil {
			t.Fatal(err)
		}
		insp, err := cli.ContainerInspect(t.Context(), orphan.ID)
		if err != nil || !insp.State.Running {
			t.Fatalf("after D: %v, %+v; want C's container running", err, insp.State)
		}
		if !containertest.VolumeExists(t, spec.Volume) {
			t.Errorf("volume %s gone", spec.Volume)
		}

		// C exits without removing it (as if killed): the next adopts.
		if err := c.Close(); err != nil {
			t.Fatal(err)
		}
		e := containertest.Client(t)
		he, _ := ensure(t, e, spec)
		if he.Outcome != containers.Adopted || !he.Owned || he.ID != orphan.ID {
			t.Fatalf("E after C's Close: %+v, want the container Adopted", he)
		}
		// E removes it: the next creates anew.
		remove(t, e, he, false)
		f := containertest.Client(t)
		hf, rf := ensure(t, f, spec)
		if hf.Outcome != containers.Created || !hf.Owned || hf.ID == orphan.ID {
			t.Fatalf("F after E's Remove: %+v, want a new Created container", hf)
		}
		wantSteps(t, rf, presentCreate...)
		remove(t, f, hf, false)
	})

	t.Run("stopped adopted container is left to its adopter", func(t *testing.T) {
		name := containertest.UniqueName(t, "adopted-stopped")
		spec := containers.EtcdSpec(containers.EtcdParams{Name: name, Image: ref, ClientPort: containertest.FreePort(t), MaxRequestBytes: etcdMaxRequestBytes})
		orphan := orphanOf(t, spec)
		c := containertest.Client(t)
		if h, _ := ensure(t, c, spec); h.Outcome != containers.Adopted {
			t.Fatalf("C: %+v, want Adopted", h)
		}
		if err := cli.ContainerStop(t.Context(), orphan.ID, container.StopOptions{}); err != nil {
			t.Fatal(err)
		}
		_, err := containertest.Client(t).Ensure(ensureCtx(t), spec, nil)
		var oe *containers.OwnedElsewhereError
		if !errors.As(err, &oe) || !oe.Adopted || oe.ID != orphan.ID || !strings.Contains(err.Error(), "接管") {
			t.Fatalf("D: %v, want *OwnedElsewhereError saying it was adopted", err)
		}
		// Its adopter replaces it.
		h, r := ensure(t, c, spec)
		if h.Outcome != containers.Created || h.ID == orphan.ID {
			t.Fatalf("C again: %+v, want its stopped container replaced", h)
		}
		wantSteps(t, r, append([]containers.Step{containers.StepInspect, containers.StepRemoveStale}, presentCreate...)...)
		containertest.ContainerGone(t, orphan.ID)
	})

	t.Run("concurrent adoption", func(t *testing.T) {
		for i := range 3 {
			t.Run(fmt.Sprint(i), func(t *testing.T) {
				name := containertest.UniqueName(t, "adopt-race")
				spec := containers.EtcdSpec(containers.EtcdParams{Name: name, Image: ref, ClientPort: containertest.FreePort(t), MaxRequestBytes: etcdMaxRequestBytes})
				orphan := orphanOf(t, spec)
				const n = 4
				clients := make([]*containers.Client, n)
				for j := range clients {
					clients[j] = containertest.Client(t)
				}
				start := make(chan struct{})
				hs, errs := make([]containers.Handle, n), make([]error, n)
				var wg sync.WaitGroup
				for j, c := range clients {
					wg.Go(func() {
						<-start
						hs[j], errs[j] = c.Ensure(ensureCtx(t), spec, nil)
					})
				}
				close(start)
				wg.Wait()
				adopted := 0
				for j := range hs {
					if errs[j] != nil {
						t.Fatalf("Ensure %d: %v", j, errs[j])
					}
					if hs[j].ID != orphan.ID {
						t.Errorf("Ensure %d got container %s, want the orphan %s", j, shortID(hs[j].ID), shortID(orphan.ID))
					}
					switch {
					case hs[j].Outcome == containers.Adopted && hs[j].Owned:
						adopted++
					case hs[j].Outcome == containers.Reused && !hs[j].Owned:
					default:
						t.Errorf("Ensure %d: %+v", j, hs[j])
					}
				}
				if adopted != 1 {
					t.Fatalf("%d of %d adopted the orphan, want exactly 1", adopted, n)
				}
				for j, c := range clients {
					if hs[j].Owned {
						remove(t, c, hs[j], false)
					}
				}
			})
		}
	})
}
