package containers_test

import (
	"errors"
	"net"
	"strconv"
	"strings"
	"testing"

	cerrdefs "github.com/containerd/errdefs"

	"github.com/k3/k3-storage/containers"
	"github.com/k3/k3-storage/containers/containertest"
)

func TestPortInUse(t *testing.T) {
	reg := containertest.StartRegistry(t)
	c := containertest.Client(t)
	cli := containertest.Docker(t)

	checkErr := func(t *testing.T, err error, name string, port int) {
		t.Helper()
		var pe *containers.PortInUseError
		if !errors.As(err, &pe) || pe.Port != port || pe.HostIP != "127.0.0.1" || pe.Name != name {
			t.Fatalf("Ensure = %v, want *PortInUseError for 127.0.0.1:%d", err, port)
		}
		if !strings.Contains(err.Error(), "127.0.0.1:"+strconv.Itoa(port)) {
			t.Errorf("error %q does not name the port", err)
		}
		st, ierr := c.Inspect(t.Context(), name)
		if ierr != nil || st.Exists() {
			t.Errorf("after the port conflict: %+v, %v; want no container", st, ierr)
		}
		if containertest.VolumeExists(t, name+"-data") {
			t.Errorf("volume left behind")
		}
	}

	t.Run("taken before Ensure", func(t *testing.T) {
		ref := reg.EtcdImage(t)
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		port := l.Addr().(*net.TCPAddr).Port
		name := containertest.UniqueName(t, "port")
		spec := containers.EtcdSpec(containers.EtcdParams{Name: name, Image: ref, ClientPort: port, MaxRequestBytes: etcdMaxRequestBytes})
		r := &recorder{}
		_, err = c.Ensure(ensureCtx(t), spec, r.report)
		checkErr(t, err, name, port)
		wantSteps(t, r, containers.StepInspect) // refused before pulling anything
		if _, err := cli.ImageInspect(t.Context(), ref); !cerrdefs.IsNotFound(err) {
			t.Errorf("image pulled although the port was taken: %v", err)
		}
	})

	t.Run("taken between create and start", func(t *testing.T) {
		ref := reg.EtcdImage(t)
		name := containertest.UniqueName(t, "port")
		port := containertest.FreePort(t)
		spec := containers.EtcdSpec(containers.EtcdParams{Name: name, Image: ref, ClientPort: port, MaxRequestBytes: etcdMaxRequestBytes})
		r := &recorder{}
		var l net.Listener
		report := func(p containers.Progress) {
			r.report(p)
			if p.Step == containers.StepCreate && l == nil {
				var err error
				if l, err = net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port))); err != nil {
					t.Errorf("grab port: %v", err)
				}
			}
		}
		_, err := c.Ensure(ensureCtx(t), spec, report)
		if l != nil {
			defer l.Close()
		}
		checkErr(t, err, name, port)
		if !r.has(containers.StepStart) || !r.has(containers.StepCleanup) {
			t.Errorf("steps %v: want a failed start and a cleanup", r.steps())
		}
		if errors.Unwrap(err) == nil {
			t.Errorf("the daemon's error is not wrapped")
		}
	})
}
