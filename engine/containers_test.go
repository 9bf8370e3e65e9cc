package engine_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"

	"github.com/k3/k3-storage/backends"
	"github.com/k3/k3-storage/backends/etcd"
	"github.com/k3/k3-storage/backends/mysql"
	"github.com/k3/k3-storage/backends/mysql/mysqltest"
	"github.com/k3/k3-storage/containers"
	"github.com/k3/k3-storage/containers/containertest"
	"github.com/k3/k3-storage/engine"
	"github.com/k3/k3-storage/engine/enginetest"
	"github.com/k3/k3-storage/engine/lifecycle"
)

// containerStartup bounds a start that may pull an image and initialise a
// database.
const containerStartup = 3 * time.Minute

// localMySQL describes a k3-storage config that provisions MariaDB (the
// stand-in for the official mysql image) on a free loopback port.
type localMySQL struct {
	image, name string
	port        int
	password    string
}

func newLocalMySQL(t *testing.T, image string) localMySQL {
	t.Helper()
	return localMySQL{
		image:    image,
		name:     containertest.UniqueName(t, "my"),
		port:     containertest.FreePort(t),
		password: "Cont41ner-Secret",
	}
}

func (l localMySQL) config(t testing.TB) string {
	t.Helper()
	_, path := writeConfig(t, mysqlConfig("127.0.0.1", l.port, "root", l.password, "k3", fmt.Sprintf(
		"    connect_timeout: 2m\n    container: {image: %q, name: %s, stop_timeout: 5s}\n", l.image, l.name)))
	return path
}

func (l localMySQL) addr() string { return fmt.Sprintf("127.0.0.1:%d/k3", l.port) }

// openStore connects to the provisioned database as another k3 process
// would.
func (l localMySQL) openStore(t *testing.T) backends.Store {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	s, err := mysql.Open(ctx, mysql.Options{Host: "127.0.0.1", Port: l.port, User: "root", Password: l.password, Database: "k3", PollInterval: 100 * time.Millisecond})
	if err != nil {
		t.Fatalf("open the provisioned database: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// nothingLeft fails unless neither the container nor its default data
// volume exists: what a failed or interrupted first start must leave.
func nothingLeft(t *testing.T, name string) {
	t.Helper()
	containertest.ContainerGone(t, name)
	if containertest.VolumeExists(t, name+"-data") {
		t.Fatalf("volume %s-data was left behind", name)
	}
}

func startReady(t *testing.T, args ...string) *enginetest.Process {
	t.Helper()
	p := enginetest.Start(t, t.TempDir(), nil, append([]string{"--headless"}, args...)...)
	ctx, cancel := context.WithTimeout(t.Context(), containerStartup)
	defer cancel()
	p.WaitLine(ctx, "存储服务启动完成")
	return p
}

func stop(t *testing.T, p *enginetest.Process, sig syscall.Signal) {
	t.Helper()
	if err := p.Cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	if code := p.Wait(time.Minute); code != 0 {
		t.Fatalf("exit code %d after %v\nstdout:\n%s\nstderr:\n%s", code, sig, p.Stdout(), p.Stderr())
	}
}

func inspect(t *testing.T, name string) container.InspectResponse {
	t.Helper()
	insp, err := containertest.Docker(t).ContainerInspect(t.Context(), name)
	if err != nil {
		t.Fatalf("inspect container %s: %v", name, err)
	}
	return insp
}

// TestContainerMySQLLifecycle is the feature users run k3-storage for:
// a config pointing at localhost brings MySQL up in a container (pulling
// the image with progress), SIGTERM removes the container but keeps the
// volume, and the data is there on the next run.
func TestContainerMySQLLifecycle(t *testing.T) {
	l := newLocalMySQL(t, containertest.MariaDBImage(t))
	cfg := l.config(t)

	p := startReady(t, "--config", cfg)
	insp := inspect(t, l.name)
	if !insp.State.Running || insp.Config.Labels[containers.LabelManagedBy] != containers.ManagedBy {
		t.Fatalf("container running=%v labels=%v", insp.State.Running, insp.Config.Labels)
	}
	for port, bindings := range insp.HostConfig.PortBindings {
		for _, b := range bindings {
			if b.HostIP != "127.0.0.1" {
				t.Fatalf("port %s published on %q, want 127.0.0.1 only", port, b.HostIP)
			}
		}
	}
	for port, bindings := range insp.NetworkSettings.Ports {
		for _, b := range bindings {
			if b.HostIP != "127.0.0.1" {
				t.Fatalf("port %s bound on %q, want 127.0.0.1 only", port, b.HostIP)
			}
		}
	}
	if _, err := l.openStore(t).Put(t.Context(), "/registry/persist", []byte("survives")); err != nil {
		t.Fatal(err)
	}

	stop(t, p, syscall.SIGTERM)
	stderr := p.Stderr() // complete now that the process has exited
	for _, want := range []string{"本地没有镜像 " + l.image, "正在拉取镜像 " + l.image + ": ", "镜像 " + l.image + " 拉取完成",
		"已创建容器 " + l.name, "容器 " + l.name + " 已启动"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	want := []string{
		"配置文件: " + cfg,
		"正在启动存储服务 (类型: mysql)...",
		"MySQL 存储已连接: " + l.addr(),
		"存储服务启动完成",
		"正在关闭存储服务...",
		"存储连接已关闭",
		"清理由本进程拉起的存储后端容器 ...",
		"存储后端容器已清理",
		"存储服务已关闭",
	}
	wantStdout(t, p, want)
	containertest.ContainerGone(t, l.name)
	if !containertest.VolumeExists(t, l.name+"-data") {
		t.Fatal("the data volume was removed; data must outlive the container")
	}
	if strings.Contains(p.Stdout()+p.Stderr(), l.password) {
		t.Fatal("the password appears in the output")
	}

	// The next run finds the image present and the data in the volume.
	p = startReady(t, "--config", cfg)
	kv, err := l.openStore(t).Get(t.Context(), "/registry/persist")
	if err != nil || string(kv.Value) != "survives" {
		t.Fatalf("data after a restart: %q, %v", kv.Value, err)
	}
	// Without --purge-volume the volume stays again; with it, it goes.
	stop(t, p, syscall.SIGINT)
	if strings.Contains(p.Stderr(), "正在拉取镜像") || !strings.Contains(p.Stderr(), "镜像 "+l.image+" 已在本地") {
		t.Fatalf("second run pulled again:\n%s", p.Stderr())
	}
	containertest.ContainerGone(t, l.name)
	if !containertest.VolumeExists(t, l.name+"-data") {
		t.Fatal("the volume was removed without --purge-volume")
	}

	p = startReady(t, "--config", cfg, "--purge-volume")
	stop(t, p, syscall.SIGQUIT)
	containertest.ContainerGone(t, l.name)
	if containertest.VolumeExists(t, l.name+"-data") {
		t.Fatal("--purge-volume left the volume behind")
	}
}

// TestContainerNotOursIsReused: a container of that name that the user
// started is used as it is and left running on exit.
func TestContainerNotOursIsReused(t *testing.T) {
	l := newLocalMySQL(t, containertest.MariaDBImage(t))
	spec := containers.MySQLSpec(containers.MySQLParams{Name: l.name, Image: l.image, Port: l.port, Password: l.password, Database: "k3"})
	id := containertest.RunUnmanaged(t, spec)
	ctx, cancel := context.WithTimeout(t.Context(), containerStartup)
	defer cancel()
	containertest.WaitMySQL(ctx, t, fmt.Sprintf("127.0.0.1:%d", l.port), "root", l.password, "")

	p := startReady(t, "--config", l.config(t))
	p.WaitStderr(ctx, "复用正在运行的容器 "+l.name)
	stop(t, p, syscall.SIGTERM)
	if strings.Contains(p.Stdout(), "清理由本进程拉起的存储后端容器") {
		t.Fatalf("tried to clean up a container it did not create:\n%s", p.Stdout())
	}
	if insp := inspect(t, id); !insp.State.Running {
		t.Fatal("the user's container was stopped")
	}
}

// TestContainerForeignName: a container with our name running something
// else is left untouched, and startup fails with a clear error.
func TestContainerForeignName(t *testing.T) {
	reg := containertest.StartRegistry(t)
	l := newLocalMySQL(t, reg.MariaDBImage(t))
	other := containers.EtcdSpec(containers.EtcdParams{Name: l.name, Image: reg.EtcdImage(t), ClientPort: containertest.FreePort(t),
		MaxRequestBytes: etcd.ServerMaxRequestBytes})
	id := containertest.RunUnmanaged(t, other)

	p := enginetest.Start(t, t.TempDir(), nil, "--headless", "--config", l.config(t))
	if code := p.Wait(time.Minute); code != 1 {
		t.Fatalf("exit code %d, want 1\nstderr:\n%s", code, p.Stderr())
	}
	if !strings.Contains(p.Stderr(), l.name) || !strings.Contains(p.Stderr(), "错误: ") {
		t.Fatalf("the error does not name the container:\n%s", p.Stderr())
	}
	insp := inspect(t, id)
	if !insp.State.Running || insp.ID != id {
		t.Fatal("the foreign container was touched")
	}
}

// TestContainerPullUnreachable: with native mode never, an image that
// cannot be pulled fails startup within seconds, says why, lists the fixes
// without internal prefixes, and leaves nothing behind.
func TestContainerPullUnreachable(t *testing.T) {
	l := newLocalMySQL(t, fmt.Sprintf("127.0.0.1:%d/k3test/mariadb:missing", containertest.FreePort(t)))
	_, cfg := writeConfig(t, mysqlConfig("127.0.0.1", l.port, "root", l.password, "k3", fmt.Sprintf(
		"    container: {image: %q, name: %s}\n    native: {mode: never}\n", l.image, l.name)))
	start := time.Now()
	p := enginetest.Start(t, t.TempDir(), nil, "--headless", "--config", cfg)
	if code := p.Wait(time.Minute); code != 1 {
		t.Fatalf("exit code %d, want 1", code)
	}
	if took := time.Since(start); took > 15*time.Second {
		t.Fatalf("an unreachable registry took %v to fail", took)
	}
	stderr := p.Stderr()
	for _, want := range []string{
		"错误: 无法在本机提供 MySQL 数据库 (" + l.addr() + ")。已尝试:",
		containers.PullRegistryUnreachable.Description(), l.image,
		"native.mode: never", "解决办法", "docker pull " + l.image, "storage.mysql.native.mode: auto", "storage.mysql.container.auto: false",
	} {
		if !strings.Contains(stderr, want) {
			t.Fatalf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	if strings.Contains(stderr, "engine:") {
		t.Fatalf("an internal prefix reaches the user:\n%s", stderr)
	}
	nothingLeft(t, l.name)
}

// TestContainerKilledThenAdopted: after SIGKILL the container stays; the
// next start adopts it and removes it on its own exit.
func TestContainerKilledThenAdopted(t *testing.T) {
	l := newLocalMySQL(t, containertest.MariaDBImage(t))
	cfg := l.config(t)
	p := startReady(t, "--config", cfg)
	p.Cmd.Process.Kill()
	p.Wait(time.Minute)
	if insp := inspect(t, l.name); !insp.State.Running {
		t.Fatal("the container did not survive SIGKILL of its owner")
	}
	p = startReady(t, "--config", cfg)
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	p.WaitStderr(ctx, "接管遗留容器 "+l.name)
	stop(t, p, syscall.SIGTERM)
	if !strings.Contains(p.Stdout(), "存储后端容器已清理") {
		t.Fatalf("the adopted container was not cleaned up:\n%s", p.Stdout())
	}
	containertest.ContainerGone(t, l.name)
}

// TestContainerConcurrentStarts: two k3-storage processes starting at once
// share one container; only its creator removes it.
func TestContainerConcurrentStarts(t *testing.T) {
	l := newLocalMySQL(t, containertest.MariaDBImage(t))
	cfg := l.config(t)
	var wg sync.WaitGroup
	procs := make([]*enginetest.Process, 2)
	for i := range procs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			procs[i] = enginetest.Start(t, t.TempDir(), nil, "--headless", "--config", cfg)
		}()
	}
	wg.Wait()
	ctx, cancel := context.WithTimeout(t.Context(), containerStartup)
	defer cancel()
	for _, p := range procs {
		p.WaitLine(ctx, "存储服务启动完成")
	}
	created := func(p *enginetest.Process) bool { return strings.Contains(p.Stderr(), "已创建容器 "+l.name) }
	for _, p := range procs {
		p.WaitStderrFunc(ctx, "how the container was obtained", func(s string) bool {
			return strings.Contains(s, "已创建容器 "+l.name) || strings.Contains(s, "复用正在运行的容器 "+l.name)
		})
	}
	if created(procs[0]) == created(procs[1]) {
		t.Fatalf("want exactly one creator:\n--- first:\n%s\n--- second:\n%s", procs[0].Stderr(), procs[1].Stderr())
	}
	owner, other := procs[0], procs[1]
	if !created(owner) {
		owner, other = other, owner
	}
	list, err := containertest.Docker(t).ContainerList(t.Context(), container.ListOptions{All: true})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, c := range list {
		if slices.Contains(c.Names, "/"+l.name) {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("%d containers named %s", n, l.name)
	}
	stop(t, other, syscall.SIGTERM)
	if insp := inspect(t, l.name); !insp.State.Running {
		t.Fatal("the process that reused the container stopped it")
	}
	stop(t, owner, syscall.SIGTERM)
	containertest.ContainerGone(t, l.name)
}

// TestNoRuntimeConnectsAnyway: with native mode never and no container
// runtime anywhere, a local backend is only connected to, after a warning
// that lists what was tried (the original behaviour: the user may run the
// database by hand).
func TestNoRuntimeConnectsAnyway(t *testing.T) {
	opts := mysqltest.NewDatabase(t)
	empty := t.TempDir()
	eng, err := engine.New(engine.Options{
		Backend: engine.MySQL,
		MySQL: engine.MySQLOptions{Options: opts, ConnectBudget: 45 * time.Second, Container: engine.Container{Auto: true},
			Native: engine.Native{Mode: engine.NativeNever}},
		ContainerEnv: containers.Env{Root: empty, Home: empty, XDGRuntimeDir: empty},
	})
	if err != nil {
		t.Fatal(err)
	}
	events := collect(eng)
	if _, err := eng.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := eng.Shutdown(t.Context()); err != nil {
		t.Fatal(err)
	}
	var warned, skipped, path bool
	for _, ev := range <-events {
		if ev.Kind == lifecycle.KindLog && ev.Level == lifecycle.Warn && strings.Contains(ev.Detail, "未检测到可用的容器运行时") &&
			strings.Contains(ev.Detail, empty+"/var/run/docker.sock") {
			warned = true
		}
		if ev.Stage == lifecycle.StageProvision {
			path = ev.Path == lifecycle.PathExisting && ev.Reason == lifecycle.ReasonNoRuntime
		}
		if ev.Stage == lifecycle.StageRuntime && ev.Status == lifecycle.Skipped {
			skipped = true
		}
		if ev.Stage == lifecycle.StageCreate {
			t.Fatal("tried to create a container without a runtime")
		}
	}
	if !warned || !skipped || !path {
		t.Fatalf("warning listing what was tried: %v; runtime stage skipped: %v; path existing/no-runtime: %v", warned, skipped, path)
	}
}

// TestContainerFailedStartCleansUp: the engine creates a container whose
// database never answers (an etcd image where MySQL is expected), the
// connect budget runs out, and the container it created is removed before
// it exits with code 1.
func TestContainerFailedStartCleansUp(t *testing.T) {
	l := newLocalMySQL(t, containertest.EtcdImage(t))
	_, cfg := writeConfig(t, mysqlConfig("127.0.0.1", l.port, "root", l.password, "k3", fmt.Sprintf(
		"    connect_timeout: 3s\n    container: {image: %q, name: %s, stop_timeout: 2s}\n", l.image, l.name)))
	p := enginetest.Start(t, t.TempDir(), nil, "--headless", "--config", cfg)
	if code := p.Wait(containerStartup); code != 1 {
		t.Fatalf("exit code %d, want 1\nstderr:\n%s", code, p.Stderr())
	}
	want := []string{
		"配置文件: " + cfg,
		"正在启动存储服务 (类型: mysql)...",
		"清理由本进程拉起的存储后端容器 ...",
		"存储后端容器已清理",
	}
	wantStdout(t, p, want)
	if !strings.Contains(p.Stderr(), "错误: 在 3s 内未能连接 "+l.addr()) {
		t.Fatalf("stderr does not explain the failure:\n%s", p.Stderr())
	}
	nothingLeft(t, l.name)
}

// TestContainerStopDuringStartup: a signal while waiting for the database
// stops the wait, removes the container just created and exits 0.
func TestContainerStopDuringStartup(t *testing.T) {
	l := newLocalMySQL(t, containertest.EtcdImage(t))
	_, cfg := writeConfig(t, mysqlConfig("127.0.0.1", l.port, "root", l.password, "k3", fmt.Sprintf(
		"    connect_timeout: 5m\n    container: {image: %q, name: %s, stop_timeout: 2s}\n", l.image, l.name)))
	p := enginetest.Start(t, t.TempDir(), nil, "--headless", "--config", cfg)
	ctx, cancel := context.WithTimeout(t.Context(), containerStartup)
	defer cancel()
	p.WaitStderr(ctx, "第 1 次连接") // a failed attempt: the wait is on (repeats print only as a summary)
	p.Cmd.Process.Signal(syscall.SIGINT)
	if code := p.Wait(time.Minute); code != 0 {
		t.Fatalf("exit code %d, want 0\nstderr:\n%s", code, p.Stderr())
	}
	want := []string{
		"配置文件: " + cfg,
		"正在启动存储服务 (类型: mysql)...",
		"正在关闭存储服务...",
		"清理由本进程拉起的存储后端容器 ...",
		"存储后端容器已清理",
		"存储服务已关闭",
	}
	wantStdout(t, p, want)
	// The volume this start created holds at most a half-initialised
	// database, which the image would not initialise again: it goes too.
	nothingLeft(t, l.name)
}

// TestExistingDatabaseUsed: a database already answering on the local
// port (one the user runs) is used as it is; no container is created.
func TestExistingDatabaseUsed(t *testing.T) {
	opts := mysqltest.NewDatabase(t)
	name := containertest.UniqueName(t, "unused")
	_, cfg := writeConfig(t, mysqlConfig(opts.Host, opts.Port, opts.User, opts.Password, opts.Database,
		fmt.Sprintf("    container: {name: %s}\n", name)))
	p := startReady(t, "--config", cfg)
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	p.WaitStderr(ctx, "上已有数据库在运行，直接使用，不创建容器")
	containertest.ContainerGone(t, name)
	stop(t, p, syscall.SIGTERM)
	if strings.Contains(p.Stdout(), "清理由本进程拉起的存储后端容器") {
		t.Fatal("cleaned up a container it never created")
	}
}

// checkPaired fails unless every stage that ends was begun, and none is
// left running at the final event (config, provision, ready, close-store
// and stopped are single events by design).
func checkPaired(t *testing.T, evs []lifecycle.Event) {
	t.Helper()
	instant := []lifecycle.Stage{lifecycle.StageConfig, lifecycle.StageProvision, lifecycle.StageReady, lifecycle.StageCloseStore, lifecycle.StageStopped}
	running := map[lifecycle.Stage]bool{}
	for _, ev := range evs {
		if ev.Kind != lifecycle.KindStage || slices.Contains(instant, ev.Stage) {
			continue
		}
		if ev.Status == lifecycle.Running {
			if running[ev.Stage] {
				t.Fatalf("stage %v begun twice", ev.Stage)
			}
			running[ev.Stage] = true
			continue
		}
		if !running[ev.Stage] {
			t.Fatalf("stage %v ended (%v) without having begun", ev.Stage, ev.Status)
		}
		delete(running, ev.Stage)
	}
	if len(running) > 0 {
		t.Fatalf("stages still running at the end: %v", running)
	}
}

// TestConcurrentEnginesPairStages starts two engines at once on one local
// MySQL spec: one creates the container, the other reuses it, and both
// report every stage they begin as finished.
func TestConcurrentEnginesPairStages(t *testing.T) {
	l := newLocalMySQL(t, containertest.MariaDBImage(t))
	opts := engine.Options{Backend: engine.MySQL, ContainerEnv: containers.EnvFromOS(), MySQL: engine.MySQLOptions{
		Options: mysql.Options{Host: "127.0.0.1", Port: l.port, User: "root", Password: l.password, Database: "k3",
			MaxOpenConns: 10, MaxIdleConns: 5, PollInterval: 100 * time.Millisecond},
		ConnectBudget: 2 * time.Minute,
		Container:     engine.Container{Auto: true, Image: l.image, Name: l.name, StopTimeout: 5 * time.Second},
	}}
	engines := make([]*engine.Engine, 2)
	events := make([]<-chan []lifecycle.Event, 2)
	for i := range engines {
		eng, err := engine.New(opts)
		if err != nil {
			t.Fatal(err)
		}
		engines[i], events[i] = eng, collect(eng)
	}
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, eng := range engines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = eng.Start(t.Context())
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("engine %d: %v", i, err)
		}
	}
	created := make([]bool, 2)
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	if err := engines[0].Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if err := engines[1].Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	creators := 0
	for i := range engines {
		evs := <-events[i]
		checkPaired(t, evs)
		for _, ev := range evs {
			if ev.Stage == lifecycle.StageCreate && ev.Status == lifecycle.Done {
				creators++
				created[i] = true
			}
		}
	}
	if creators != 1 {
		t.Fatalf("%d engines created the container, want 1", creators)
	}
	containertest.ContainerGone(t, l.name)
}

// TestRemoteRuntimeNotUsed: a Docker API that answers on another machine
// (here: this host's non-loopback address) cannot provide a database on
// localhost, so with native mode never the engine warns and only connects.
func TestRemoteRuntimeNotUsed(t *testing.T) {
	var ip net.IP
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && n.IP.To4() != nil && !n.IP.IsLoopback() {
			ip = n.IP
			break
		}
	}
	if ip == nil {
		t.Skip("this host has no non-loopback IPv4 address to stand for a remote daemon")
	}
	l, err := net.Listen("tcp", net.JoinHostPort(ip.String(), "0"))
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Api-Version", "1.41")
		w.Header().Set("Ostype", "linux")
		fmt.Fprint(w, "OK") // a Docker Engine's /_ping answer
	})}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })

	opts := mysqltest.NewDatabase(t)
	empty := t.TempDir()
	eng, err := engine.New(engine.Options{
		Backend: engine.MySQL,
		MySQL: engine.MySQLOptions{Options: opts, ConnectBudget: 45 * time.Second, Container: engine.Container{Auto: true},
			Native: engine.Native{Mode: engine.NativeNever}},
		ContainerEnv: containers.Env{DockerHost: "tcp://" + l.Addr().String(), Root: empty, Home: empty, XDGRuntimeDir: empty},
	})
	if err != nil {
		t.Fatal(err)
	}
	events := collect(eng)
	if _, err := eng.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := eng.Shutdown(t.Context()); err != nil {
		t.Fatal(err)
	}
	var warned bool
	for _, ev := range <-events {
		if ev.Kind == lifecycle.KindLog && ev.Level == lifecycle.Warn && strings.Contains(ev.Detail, l.Addr().String()) && strings.Contains(ev.Detail, "不在本机") {
			warned = true
		}
		if ev.Stage == lifecycle.StageContainer || ev.Stage == lifecycle.StageCreate {
			t.Fatalf("looked for or created a container on a remote runtime: %+v", ev)
		}
	}
	if !warned {
		t.Fatal("no warning that the runtime is remote")
	}
}
