package containers_test

import (
	"errors"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/k3/k3-storage/containers"
	"github.com/k3/k3-storage/containers/containertest"
)

// checkFreshPull asserts a real pull of an image with `layers` layers: every
// layer announced and completed, every layer message of a known phase, real
// byte progress, a monotone aggregate, and one final StepPullComplete with
// everything done.
func checkFreshPull(t *testing.T, r *recorder, layers int) {
	t.Helper()
	ps := r.all()
	seen, complete := map[string]bool{}, map[string]bool{}
	var prev containers.PullTotals
	downloading, final := 0, -1
	for i, p := range ps {
		switch p.Step {
		case containers.StepPull:
			if final >= 0 {
				t.Errorf("pull report after StepPullComplete: %v", p)
			}
			seen[p.Layer] = true
			if p.Phase == containers.PhaseUnknown {
				t.Errorf("layer %s status %q: unknown phase", p.Layer, p.Status)
			}
			if p.Phase.Done() {
				complete[p.Layer] = true
			}
			if p.Phase == containers.PhaseDownloading {
				downloading++
				if p.Total <= 0 || p.Current <= 0 || p.Current > p.Total {
					t.Errorf("Downloading %d/%d", p.Current, p.Total)
				}
			}
			a := p.Aggregate
			if a.Current < prev.Current || a.LayersDone < prev.LayersDone {
				t.Errorf("aggregate went back: %+v after %+v", a, prev)
			}
			prev = a
		case containers.StepPullComplete:
			if final >= 0 {
				t.Errorf("two StepPullComplete")
			}
			final = i
		}
	}
	if len(seen) != layers || len(complete) != layers {
		t.Errorf("layers announced %d, completed %d; want %d", len(seen), len(complete), layers)
	}
	if downloading == 0 {
		t.Errorf("no Downloading progress at all: not a real download")
	}
	if final < 0 {
		t.Fatalf("no StepPullComplete")
	}
	a := ps[final].Aggregate
	if a.Layers != layers || a.LayersDone != layers || a.Unknown != 0 || a.Total < 1<<20 || a.Current != a.Total {
		t.Errorf("final aggregate %+v: want %d of %d layers and all of at least 1 MiB", a, layers, layers)
	}
}

func TestPullFailures(t *testing.T) {
	c := containertest.Client(t)
	check := func(t *testing.T, ref string, wantLayers bool, wantReason containers.PullFailure) {
		t.Helper()
		name := containertest.UniqueName(t, "pullfail")
		spec := containers.EtcdSpec(containers.EtcdParams{Name: name, Image: ref, ClientPort: containertest.FreePort(t), MaxRequestBytes: etcdMaxRequestBytes})
		r := &recorder{}
		begin := time.Now()
		h, pullErr := c.Ensure(ensureCtx(t), spec, r.report)
		took := time.Since(begin)
		var pe *containers.PullError
		if !errors.As(pullErr, &pe) || pe.Image != ref || !strings.Contains(pullErr.Error(), ref) {
			t.Fatalf("Ensure = %+v, %v; want *PullError for %s", h, pullErr, ref)
		}
		if pe.Reason != wantReason || !strings.Contains(pullErr.Error(), wantReason.Description()) {
			t.Errorf("Reason = %v, want %v, described in %q", pe.Reason, wantReason, pullErr)
		}
		if took > 10*time.Second {
			t.Errorf("failing took %v, want seconds", took)
		}
		if r.has(containers.StepPull) != wantLayers || r.has(containers.StepPullComplete) || r.has(containers.StepCreate) || r.has(containers.StepVolume) {
			t.Errorf("steps %v", r.steps())
		}
		st, err := c.Inspect(t.Context(), name)
		if err != nil || st.Exists() {
			t.Errorf("after a failed pull: %+v, %v; want no container", st, err)
		}
		if containertest.VolumeExists(t, spec.Volume) {
			t.Errorf("volume %s created despite the failed pull", spec.Volume)
		}
		t.Logf("failed in %v: %v", took, pullErr)
	}
	t.Run("unreachable registry", func(t *testing.T) {
		check(t, "127.0.0.1:"+strconv.Itoa(containertest.FreePort(t))+"/k3test/etcd:none", false, containers.PullRegistryUnreachable)
	})
	t.Run("unknown tag", func(t *testing.T) {
		reg := containertest.StartRegistry(t)
		reg.EtcdImage(t) // the repository exists, the tag does not
		check(t, reg.Addr+"/k3test/etcd:none", false, containers.PullNotFound)
	})
	t.Run("unknown repository", func(t *testing.T) {
		check(t, containertest.StartRegistry(t).Addr+"/k3test/none:none", false, containers.PullNotFound)
	})
	t.Run("registry wants credentials", func(t *testing.T) {
		check(t, containertest.StartLockedRegistry(t).Addr+"/k3test/etcd:none", false, containers.PullUnauthorized)
	})
	t.Run("errorDetail after layers", func(t *testing.T) {
		check(t, containertest.StartRegistry(t).BrokenImage(t), true, containers.PullOther)
	})
}

// TestPullStalls: a registry that accepts connections and never answers
// keeps the daemon's pull waiting; the pull is given up after the stall
// timeout with a *PullError wrapping ErrPullStalled, and nothing is created.
func TestPullStalls(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, conn) // held open, never answered
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		l.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	const stall = 2 * time.Second
	c := containertest.Client(t, containers.WithPullStallTimeout(stall))
	name := containertest.UniqueName(t, "stall")
	ref := l.Addr().String() + "/k3test/etcd:blackhole"
	spec := containers.EtcdSpec(containers.EtcdParams{Name: name, Image: ref, ClientPort: containertest.FreePort(t), MaxRequestBytes: etcdMaxRequestBytes})
	r := &recorder{}
	begin := time.Now()
	_, err = c.Ensure(ensureCtx(t), spec, r.report)
	took := time.Since(begin)
	var pe *containers.PullError
	if !errors.As(err, &pe) || !errors.Is(err, containers.ErrPullStalled) || pe.Image != ref || pe.Reason != containers.PullStalled {
		t.Fatalf("Ensure = %v, want a *PullError wrapping ErrPullStalled, Reason PullStalled", err)
	}
	if !strings.Contains(err.Error(), "停滞") || !strings.Contains(err.Error(), stall.String()) {
		t.Errorf("error %q does not say the pull stalled and for how long", err)
	}
	if took < stall || took > stall+10*time.Second {
		t.Errorf("gave up after %v, want about %v", took, stall)
	}
	mu.Lock()
	accepted := len(conns)
	mu.Unlock()
	if accepted == 0 {
		t.Errorf("the daemon never connected to the registry: the test stalled somewhere else")
	}
	wantSteps(t, r, containers.StepInspect, containers.StepImageCheck)
	if st, err := c.Inspect(t.Context(), name); err != nil || st.Exists() {
		t.Errorf("after a stalled pull: %+v, %v; want no container", st, err)
	}
	if containertest.VolumeExists(t, spec.Volume) {
		t.Errorf("volume %s created despite the stalled pull", spec.Volume)
	}
	t.Logf("gave up after %v: %v", took, err)
}
