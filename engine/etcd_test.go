package engine_test

import (
	"context"
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"

	"github.com/k3/k3-storage/backends/etcd/etcdtest"
	"github.com/k3/k3-storage/containers"
	"github.com/k3/k3-storage/containers/containertest"
	"github.com/k3/k3-storage/engine/enginetest"
	"github.com/k3/k3-storage/internal/testbin"
)

func etcdConfig(endpoints []string, extra string) string {
	var b strings.Builder
	b.WriteString("storage:\n  type: etcd\n  etcd:\n    endpoints:\n")
	for _, ep := range endpoints {
		fmt.Fprintf(&b, "      - %s\n", ep)
	}
	b.WriteString(extra)
	return b.String()
}

// TestEtcdHeadless runs the binary against a real (embedded) etcd.
func TestEtcdHeadless(t *testing.T) {
	eps := etcdtest.Start(t)
	_, cfg := writeConfig(t, etcdConfig(eps, "    container: {auto: false}\n"))
	p := startReady(t, "--config", cfg)
	stop(t, p, syscall.SIGTERM)
	want := []string{
		"配置文件: " + cfg,
		"正在启动存储服务 (类型: etcd)...",
		fmt.Sprintf("Etcd 存储已连接: %v", eps),
		"存储服务启动完成",
		"正在关闭存储服务...",
		"存储连接已关闭",
		"存储服务已关闭",
	}
	wantStdout(t, p, want)
}

// TestEtcdWrongPassword: rejected credentials fail at once, exit code 1,
// and the password appears nowhere.
func TestEtcdWrongPassword(t *testing.T) {
	c := etcdtest.StartCluster(t, 1)
	c.EnableAuth(t, "root-pw", "k3", "right-pw")
	const secret = "Etcd-Wr0ng-Secret"
	_, cfg := writeConfig(t, etcdConfig(c.Endpoints(), fmt.Sprintf(
		"    username: k3\n    password: %s\n    connect_timeout: 1m\n    container: {auto: false}\n", secret)))
	testbin.Binary(t) // built outside the timing
	start := time.Now()
	p := enginetest.Start(t, t.TempDir(), nil, "--headless", "--config", cfg)
	if code := p.Wait(30 * time.Second); code != 1 {
		t.Fatalf("exit code %d, want 1\nstderr:\n%s", code, p.Stderr())
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Fatalf("a wrong password took %v to fail", took)
	}
	if all := p.Stdout() + p.Stderr(); strings.Contains(all, secret) || !strings.Contains(all, "authentication failed") ||
		!strings.Contains(all, "etcd 拒绝了用户 k3 的登录：用户名或密码错误") {
		t.Fatalf("want an authentication error saying the login was refused, without the password:\n%s", all)
	}
}

// TestContainerEtcdKillCycles: five times, start k3-storage on a local etcd
// endpoint and kill it with SIGKILL; each start adopts the orphan left by
// the previous one. A last clean stop leaves no container behind.
func TestContainerEtcdKillCycles(t *testing.T) {
	image := containertest.EtcdImage(t)
	name := containertest.UniqueName(t, "etcd")
	port := containertest.FreePort(t)
	ep := fmt.Sprintf("http://127.0.0.1:%d", port)
	_, cfg := writeConfig(t, etcdConfig([]string{ep}, fmt.Sprintf(
		"    connect_timeout: 2m\n    container: {image: %q, name: %s, stop_timeout: 5s}\n", image, name)))

	p := startReady(t, "--config", cfg)
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	p.WaitStderr(ctx, "已创建容器 "+name)
	if err := containertest.EtcdPut(ctx, ep, "/registry/cycles", "kept"); err != nil {
		t.Fatal(err)
	}
	for range 5 {
		p.Cmd.Process.Kill()
		p.Wait(time.Minute)
		p = startReady(t, "--config", cfg)
		p.WaitStderr(ctx, "接管遗留容器 "+name)
	}
	if v, ok, err := containertest.EtcdGet(ctx, ep, "/registry/cycles"); err != nil || !ok || v != "kept" {
		t.Fatalf("data after the cycles: %q %v %v", v, ok, err)
	}
	stop(t, p, syscall.SIGTERM)
	containertest.ContainerGone(t, name)
	list, err := containertest.Docker(t).ContainerList(t.Context(), container.ListOptions{
		All: true, Filters: filters.NewArgs(filters.Arg("label", containers.LabelManagedBy+"="+containers.ManagedBy), filters.Arg("name", name)),
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 0 {
		t.Fatalf("%d containers leaked", len(list))
	}
}

// TestSecondSignalDuringCleanupForcesExit: when stopping the container
// hangs (its first process ignores SIGTERM, so the stop waits out a
// five-minute stop timeout), a second signal ends k3-storage at once with
// exit code 1 and says that cleanup did not finish; the original closing
// lines are not printed, and the container is left as it is (a later start
// adopts it).
func TestSecondSignalDuringCleanupForcesExit(t *testing.T) {
	image := containertest.StartRegistry(t).StubbornEtcdImage(t)
	name := containertest.UniqueName(t, "stubborn")
	ep := fmt.Sprintf("http://127.0.0.1:%d", containertest.FreePort(t))
	_, cfg := writeConfig(t, etcdConfig([]string{ep}, fmt.Sprintf(
		"    connect_timeout: 2m\n    container: {image: %q, name: %s, stop_timeout: 5m}\n", image, name)))
	p := startReady(t, "--config", cfg)
	if err := p.Cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	p.WaitLine(ctx, "清理由本进程拉起的存储后端容器 ...")
	// A person signals again: repeats within a second of the first are
	// the same request (GNU timeout and ctrl+c deliver twice at once), so
	// keep signalling, as a person would, until one counts.
	code, exited := 0, false
	for deadline := time.Now().Add(30 * time.Second); !exited && time.Now().Before(deadline); {
		p.Cmd.Process.Signal(syscall.SIGTERM)
		code, exited = p.WaitUpTo(250 * time.Millisecond)
	}
	// Far less than the stop timeout: only a forced exit ends this soon.
	if code != 1 {
		t.Fatalf("exit code %d, want 1\nstderr:\n%s", code, p.Stderr())
	}
	if !strings.Contains(p.Stderr(), "再次收到信号，强制退出：清理未完成") {
		t.Fatalf("stderr does not say the exit was forced:\n%s", p.Stderr())
	}
	for _, line := range []string{"存储后端容器已清理", "存储服务已关闭"} {
		if strings.Contains(p.Stdout(), line) {
			t.Fatalf("stdout claims %q after a forced exit:\n%s", line, p.Stdout())
		}
	}
	if insp := inspect(t, name); insp.State == nil || !insp.State.Running {
		t.Fatalf("the container should be left running after a forced exit: %+v", insp.State)
	}
}
