package containertest

import (
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/api/types/mount"
	"github.com/docker/docker/client"
	"github.com/docker/go-connections/nat"

	"github.com/k3/k3-storage/containers"
)

// cleanupTimeout bounds each cleanup call; cleanups run after the test's
// context is cancelled, so they get their own.
const cleanupTimeout = 60 * time.Second

func cleanupContext() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), cleanupTimeout)
}

var dockerOnce struct {
	sync.Once
	err error
}

// Docker returns a raw Docker SDK client for assertions (ContainerInspect,
// VolumeInspect, ...) on the engine named by DOCKER_HOST or the default
// socket, verified by a ping; it is closed at cleanup. It skips (or fails
// under K3_TEST_REQUIRE=all) when no engine answers.
func Docker(tb testing.TB) *client.Client {
	tb.Helper()
	cli, err := client.NewClientWithOpts(client.FromEnv, client.WithAPIVersionNegotiation())
	Need(tb, "a Docker Engine", err)
	tb.Cleanup(func() { cli.Close() })
	dockerOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_, dockerOnce.err = cli.Ping(ctx)
	})
	Need(tb, "a Docker Engine at "+cli.DaemonHost(), dockerOnce.err)
	return cli
}

// Client returns a containers.Client found by containers.Discover on this
// process's environment, built with opts and closed at cleanup. It skips (or
// fails under K3_TEST_REQUIRE=all) when no runtime is found.
func Client(tb testing.TB, opts ...containers.Option) *containers.Client {
	tb.Helper()
	Docker(tb) // the same skip reason everywhere
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, _, err := containers.Discover(ctx, containers.EnvFromOS(), nil, opts...)
	Need(tb, "a container runtime", err)
	tb.Cleanup(func() { c.Close() })
	return c
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = crand.Read(b)
	return hex.EncodeToString(b)
}

// UniqueName returns "k3t-<prefix>-<random>", a container name no other test
// or process uses, and removes at cleanup whatever container has that name
// and the volumes named name and name+"-data" (the default volume of
// containers.MySQLSpec and containers.EtcdSpec), whoever created them.
func UniqueName(tb testing.TB, prefix string) string {
	tb.Helper()
	cli := Docker(tb)
	name := "k3t-" + prefix + "-" + randomHex(4)
	tb.Cleanup(func() {
		ctx, cancel := cleanupContext()
		defer cancel()
		err := cli.ContainerRemove(ctx, name, container.RemoveOptions{Force: true, RemoveVolumes: true})
		if err != nil && !cerrdefs.IsNotFound(err) {
			tb.Errorf("cleanup: remove container %s: %v", name, err)
		}
		for _, v := range []string{name, name + "-data"} {
			if err := cli.VolumeRemove(ctx, v, true); err != nil && !cerrdefs.IsNotFound(err) {
				tb.Errorf("cleanup: remove volume %s: %v", v, err)
			}
		}
	})
	return name
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago. It
// is picked below the kernel's ephemeral range, so an outgoing connection
// cannot take it before the test binds it.
func FreePort(tb testing.TB) int {
	tb.Helper()
	low := 32768
	if data, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range"); err == nil {
		if f := strings.Fields(string(data)); len(f) == 2 {
			if n, err := strconv.Atoi(f[0]); err == nil {
				low = n
			}
		}
	}
	const floor = 10000
	if low-floor >= 1000 {
		for range 100 {
			port := floor + rand.IntN(low-floor)
			l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
			if err == nil {
				l.Close()
				return port
			}
		}
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("free port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// Pull pulls ref into the local image store (for tests that need the image
// present before provisioning) and fails the test if that fails.
func Pull(tb testing.TB, ref string) {
	tb.Helper()
	cli := Docker(tb)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	rc, err := cli.ImagePull(ctx, ref, image.PullOptions{})
	if err != nil {
		tb.Fatalf("pull %s: %v", ref, err)
	}
	defer rc.Close()
	if _, err := io.Copy(io.Discard, rc); err != nil {
		tb.Fatalf("pull %s: %v", ref, err)
	}
	if _, err := cli.ImageInspect(ctx, ref); err != nil {
		tb.Fatalf("pull %s: image not present afterwards: %v", ref, err)
	}
}

// RunUnmanaged starts spec the way a user's `docker run` would: same image,
// env, command, ports and volume, but without any k3-storage label. The image
// is pulled first if needed. It returns the container ID; the container is
// removed at cleanup (use a name from UniqueName for its volume to go too).
func RunUnmanaged(tb testing.TB, spec containers.Spec) string {
	tb.Helper()
	cli := Docker(tb)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if _, err := cli.ImageInspect(ctx, spec.Image); cerrdefs.IsNotFound(err) {
		Pull(tb, spec.Image)
	}
	exposed, bindings := nat.PortSet{}, nat.PortMap{}
	for _, p := range spec.Ports {
		port := nat.Port(strconv.Itoa(p.ContainerPort) + "/tcp")
		exposed[port] = struct{}{}
		bindings[port] = append(bindings[port], nat.PortBinding{HostIP: p.HostIP, HostPort: strconv.Itoa(p.HostPort)})
	}
	hc := &container.HostConfig{PortBindings: bindings}
	if spec.Volume != "" {
		hc.Mounts = []mount.Mount{{Type: mount.TypeVolume, Source: spec.Volume, Target: spec.MountPath}}
	}
	resp, err := cli.ContainerCreate(ctx, &container.Config{
		Image: spec.Image, Env: spec.Env, Cmd: spec.Cmd, ExposedPorts: exposed,
	}, hc, nil, nil, spec.Name)
	if err != nil {
		tb.Fatalf("create unmanaged container %s: %v", spec.Name, err)
	}
	tb.Cleanup(func() {
		ctx, cancel := cleanupContext()
		defer cancel()
		err := cli.ContainerRemove(ctx, resp.ID, container.RemoveOptions{Force: true, RemoveVolumes: true})
		if err != nil && !cerrdefs.IsNotFound(err) {
			tb.Errorf("cleanup: remove container %s: %v", spec.Name, err)
		}
	})
	if err := cli.ContainerStart(ctx, resp.ID, container.StartOptions{}); err != nil {
		tb.Fatalf("start unmanaged container %s: %v", spec.Name, err)
	}
	return resp.ID
}

// ContainerGone fails the test unless no container has that name or ID.
func ContainerGone(tb testing.TB, nameOrID string) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := Docker(tb).ContainerInspect(ctx, nameOrID)
	if !cerrdefs.IsNotFound(err) {
		tb.Fatalf("container %s: want it gone, inspect says err=%v", nameOrID, err)
	}
}

// VolumeExists reports whether a volume with that name exists.
func VolumeExists(tb testing.TB, name string) bool {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := Docker(tb).VolumeInspect(ctx, name)
	if err != nil && !cerrdefs.IsNotFound(err) {
		tb.Fatalf("inspect volume %s: %v", name, err)
	}
	return err == nil
}

// Logs returns a container's output (stdout and stderr interleaved as
// docker stores them, with its framing bytes), for failure messages.
func Logs(tb testing.TB, nameOrID string) string {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	rc, err := Docker(tb).ContainerLogs(ctx, nameOrID, container.LogsOptions{ShowStdout: true, ShowStderr: true, Tail: "60"})
	if err != nil {
		return fmt.Sprintf("(logs of %s: %v)", nameOrID, err)
	}
	defer rc.Close()
	b, _ := io.ReadAll(rc)
	return string(b)
}
