package engine_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/k3/k3-storage/backends"
	"github.com/k3/k3-storage/backends/etcd"
	"github.com/k3/k3-storage/backends/mysql"
	"github.com/k3/k3-storage/backends/mysql/mysqltest"
	"github.com/k3/k3-storage/containers"
	"github.com/k3/k3-storage/containers/containertest"
	"github.com/k3/k3-storage/engine"
	"github.com/k3/k3-storage/engine/enginetest"
	"github.com/k3/k3-storage/engine/lifecycle"
	"github.com/k3/k3-storage/native"
	"github.com/k3/k3-storage/native/etcdembed"
)

// nativeEnv is the environment of a k3-storage run whose native servers
// keep their data under home and whose DOCKER_HOST names a dead socket.
// (Discovery goes on to the machine's default socket, so the configs of
// these tests also name an image that cannot be pulled: either way no
// container can be had.)
func nativeEnv(home string) []string {
	return []string{"XDG_DATA_HOME=" + home, "DOCKER_HOST=unix:///nonexistent/docker.sock"}
}

// unpullable is an image reference whose registry does not run.
func unpullable(t *testing.T, repo string) string {
	return fmt.Sprintf("127.0.0.1:%d/k3test/%s:missing", containertest.FreePort(t), repo)
}

// noContainer is what stderr says when the container path was impossible.
func noContainer(stderr string) bool {
	return strings.Contains(stderr, "未检测到可用的容器运行时") || strings.Contains(stderr, "无法拉取 (registry 不可达)")
}

// searchableHome is a data home every user may enter, as ~/.local/share
// under a 0755 home is: a root k3-storage then runs mariadbd as mysql.
func searchableHome(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, d := range []string{dir, filepath.Dir(dir)} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func startNative(t *testing.T, home, cfg string, args ...string) *enginetest.Process {
	t.Helper()
	p := enginetest.Start(t, t.TempDir(), nativeEnv(home), append([]string{"--headless", "--config", cfg}, args...)...)
	ctx, cancel := context.WithTimeout(t.Context(), containerStartup)
	defer cancel()
	p.WaitLine(ctx, "存储服务启动完成")
	return p
}

func wantStderr(t *testing.T, p *enginetest.Process, text string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	p.WaitStderr(ctx, text)
}

// closed fails unless nothing accepts connections on addr.
func closed(t *testing.T, addr string) {
	t.Helper()
	if conn, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		conn.Close()
		t.Fatalf("something still listens on %s", addr)
	}
}

// TestNativeEtcd: with no usable container, a local etcd config runs on
// the embedded server. A second k3-storage with the same config uses it as
// an existing database and leaves it running; a key written meanwhile
// survives a restart of the first; after SIGTERM nothing listens on the
// port.
func TestNativeEtcd(t *testing.T) {
	home := t.TempDir()
	port := containertest.FreePort(t)
	ep := fmt.Sprintf("http://127.0.0.1:%d", port)
	_, cfg := writeConfig(t, etcdConfig([]string{ep}, fmt.Sprintf(
		"    container: {image: %q, stop_timeout: 5s}\n", unpullable(t, "etcd"))))
	dataDir := filepath.Join(home, "k3-storage", fmt.Sprintf("etcd-%d", port))

	first := startNative(t, home, cfg)
	wantStderr(t, first, "改用内嵌 etcd")
	if !noContainer(first.Stderr()) {
		t.Fatalf("stderr does not say why no container:\n%s", first.Stderr())
	}
	second := startNative(t, home, cfg)
	wantStderr(t, second, "另一个 k3-storage 进程正在运行 (或正在启动) 内嵌 etcd")
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	if err := containertest.EtcdPut(ctx, ep, "/registry/native", "kept"); err != nil {
		t.Fatal(err)
	}
	stop(t, second, syscall.SIGTERM)
	if strings.Contains(second.Stdout(), "停止由本进程拉起的存储后端进程") {
		t.Fatalf("the process that shared the server stopped it:\n%s", second.Stdout())
	}
	if _, ok, err := containertest.EtcdGet(ctx, ep, "/registry/native"); err != nil || !ok {
		t.Fatalf("the server is gone after the sharing process stopped: %v %v", ok, err)
	}

	stop(t, first, syscall.SIGTERM)
	wantStdout(t, first, []string{
		"配置文件: " + cfg,
		"正在启动存储服务 (类型: etcd)...",
		fmt.Sprintf("Etcd 存储已连接: [%s]", ep),
		"存储服务启动完成",
		"正在关闭存储服务...",
		"存储连接已关闭",
		"停止由本进程拉起的存储后端进程 ...",
		"存储后端进程已停止",
		"存储服务已关闭",
	})
	closed(t, fmt.Sprintf("127.0.0.1:%d", port))
	if _, err := os.Stat(filepath.Join(dataDir, "member")); err != nil {
		t.Fatalf("the data directory is gone: %v", err)
	}

	again := enginetest.Start(t, t.TempDir(), nativeEnv(home), "--headless", "--config", cfg, "--output", "json")
	again.WaitFor(ctx, "ready event", func(l string) bool { return strings.Contains(l, `"stage":"ready"`) })
	if v, ok, err := containertest.EtcdGet(ctx, ep, "/registry/native"); err != nil || !ok || v != "kept" {
		t.Fatalf("key after restart: %q %v %v", v, ok, err)
	}
	stop(t, again, syscall.SIGTERM)
	closed(t, fmt.Sprintf("127.0.0.1:%d", port))
	var path, reason string
	for _, l := range again.StdoutLines() {
		var ev struct{ Stage, Path, Reason string }
		if err := json.Unmarshal([]byte(l), &ev); err != nil {
			t.Fatalf("not JSON: %q", l)
		}
		if ev.Stage == "provision" {
			path, reason = ev.Path, ev.Reason
		}
	}
	if path != "native" || (reason != "no-runtime" && reason != "pull-unreachable") {
		t.Fatalf("provision event path %q reason %q, want native after no-runtime or pull-unreachable", path, reason)
	}
}

// mariadbds lists the mariadbd/mysqld processes running on the option
// file of dataDir, by their command lines in /proc.
func mariadbds(t *testing.T, dataDir string) []int {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		cmd, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err == nil && strings.Contains(string(cmd), "--defaults-file="+filepath.Join(dataDir, "my.cnf")) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// noneLeft fails unless no server of dataDir runs and neither its pid file
// nor k3-storage's record is left.
func noneLeft(t *testing.T, dataDir string) {
	t.Helper()
	if pids := mariadbds(t, dataDir); len(pids) != 0 {
		t.Fatalf("mariadbd still runs: %v", pids)
	}
	for _, f := range []string{"mysqld.pid", "k3-storage.json"} {
		if _, err := os.Stat(filepath.Join(dataDir, f)); err == nil {
			t.Fatalf("%s left in %s", f, dataDir)
		}
	}
}

// nativeMySQL is a k3-storage config for a local MySQL that no container
// can provide.
type nativeMySQL struct {
	home, cfg, dataDir string
	port               int
	user, password     string
}

func newNativeMySQL(t *testing.T, password, extra string) nativeMySQL {
	t.Helper()
	if _, err := native.FindMySQL("", os.Getenv("PATH")); err != nil {
		mysqltest.SkipOrFail(t, fmt.Sprintf("no MySQL server to run: %v (apt-get install mariadb-server)", err))
	}
	n := nativeMySQL{home: searchableHome(t), port: containertest.FreePort(t), user: "k3", password: password}
	n.dataDir = filepath.Join(n.home, "k3-storage", fmt.Sprintf("mysql-%d", n.port))
	_, n.cfg = writeConfig(t, mysqlConfig("127.0.0.1", n.port, n.user, password, "k3", fmt.Sprintf(
		"    connect_timeout: 2m\n    container: {image: %q, stop_timeout: 30s}\n%s", unpullable(t, "mysql"), extra)))
	t.Cleanup(func() {
		for _, pid := range mariadbds(t, n.dataDir) {
			syscall.Kill(pid, syscall.SIGKILL) // a failed test's leftovers only
		}
	})
	return n
}

func (n nativeMySQL) store(t *testing.T) backends.Store {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	s, err := mysql.Open(ctx, mysql.Options{Host: "127.0.0.1", Port: n.port, User: n.user, Password: n.password,
		Database: "k3", MaxOpenConns: 2, PollInterval: 100 * time.Millisecond})
	if err != nil {
		t.Fatalf("open the native database: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// TestNativeMySQL: with no usable container, a local MySQL config runs the
// machine's mariadbd on a private data directory: the first start
// initialises it, the next reuses the data; a wrong password against it
// fails fast and says why; five times, SIGKILL leaves the server to the
// next run, which adopts it and stops it on SIGTERM, and nothing is left.
func TestNativeMySQL(t *testing.T) {
	n := newNativeMySQL(t, "Nat1ve-'Secret", "")
	p := startNative(t, n.home, n.cfg)
	for _, want := range []string{"改用本机 mariadbd", "正在初始化数据目录 " + n.dataDir, "mariadbd 已启动 (pid"} {
		wantStderr(t, p, want)
	}
	if !noContainer(p.Stderr()) {
		t.Fatalf("stderr does not say why no container:\n%s", p.Stderr())
	}
	s := n.store(t)
	if _, err := s.Put(t.Context(), "/registry/row", []byte("kept")); err != nil {
		t.Fatal(err)
	}
	s.Close()
	stop(t, p, syscall.SIGTERM)
	wantStdout(t, p, []string{
		"配置文件: " + n.cfg,
		"正在启动存储服务 (类型: mysql)...",
		fmt.Sprintf("MySQL 存储已连接: 127.0.0.1:%d/k3", n.port),
		"存储服务启动完成",
		"正在关闭存储服务...",
		"存储连接已关闭",
		"停止由本进程拉起的存储后端进程 ...",
		"存储后端进程已停止",
		"存储服务已关闭",
	})
	noneLeft(t, n.dataDir)
	if strings.Contains(p.Stdout()+p.Stderr(), n.password) {
		t.Fatal("the password appears in the output")
	}

	t.Run("warm start reuses the data", func(t *testing.T) {
		p := startNative(t, n.home, n.cfg)
		if strings.Contains(p.Stderr(), "初始化数据目录") {
			t.Fatalf("initialised again:\n%s", p.Stderr())
		}
		kv, err := n.store(t).Get(t.Context(), "/registry/row")
		if err != nil || string(kv.Value) != "kept" {
			t.Fatalf("row after restart: %+v, %v", kv, err)
		}
		stop(t, p, syscall.SIGTERM)
		noneLeft(t, n.dataDir)
	})

	t.Run("wrong password fails fast", func(t *testing.T) {
		const wrong = "Wr0ng-Native-Pw"
		_, cfg := writeConfig(t, strings.Replace(mustReadFile(t, n.cfg), fmt.Sprintf("%q", n.password), fmt.Sprintf("%q", wrong), 1))
		start := time.Now()
		p := enginetest.Start(t, t.TempDir(), nativeEnv(n.home), "--headless", "--config", cfg)
		if code := p.Wait(time.Minute); code != 1 {
			t.Fatalf("exit code %d, want 1\nstderr:\n%s", code, p.Stderr())
		}
		if took := time.Since(start); took > 30*time.Second {
			t.Fatalf("a wrong password took %v to fail", took)
		}
		for _, want := range []string{"Access denied", "数据目录 " + n.dataDir + " 中的数据库是首次启动时按当时的配置设置的"} {
			if !strings.Contains(p.Stderr(), want) {
				t.Fatalf("stderr lacks %q:\n%s", want, p.Stderr())
			}
		}
		if strings.Contains(p.Stdout()+p.Stderr(), wrong) {
			t.Fatal("the password appears in the output")
		}
		noneLeft(t, n.dataDir)
	})

	t.Run("killed, adopted, stopped", func(t *testing.T) {
		for i := range 5 {
			p := startNative(t, n.home, n.cfg)
			pids := mariadbds(t, n.dataDir)
			p.Cmd.Process.Kill()
			p.Wait(time.Minute)
			if len(pids) != 1 || len(mariadbds(t, n.dataDir)) != 1 {
				t.Fatalf("cycle %d: mariadbd %v before, %v after SIGKILL of its owner; want the same one", i, pids, mariadbds(t, n.dataDir))
			}
			p = startNative(t, n.home, n.cfg)
			wantStderr(t, p, fmt.Sprintf("接管遗留的本机 mariadbd (pid %d", pids[0]))
			stop(t, p, syscall.SIGTERM)
			if !strings.Contains(p.Stdout(), "存储后端进程已停止") {
				t.Fatalf("cycle %d: the adopted server was not stopped:\n%s", i, p.Stdout())
			}
			noneLeft(t, n.dataDir)
		}
	})
}

func mustReadFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestNativeConcurrentStarts: two k3-storage started at once with the same
// native config make one server: one starts it, the other uses it and
// leaves it running. A user's own mariadbd on another port is not touched.
func TestNativeConcurrentStarts(t *testing.T) {
	userPort, _ := mysqltest.StartServer(t)
	n := newNativeMySQL(t, "Conc-Secret", "")
	procs := make([]*enginetest.Process, 2)
	var wg sync.WaitGroup
	for i := range procs {
		wg.Go(func() {
			procs[i] = enginetest.Start(t, t.TempDir(), nativeEnv(n.home), "--headless", "--config", n.cfg)
		})
	}
	wg.Wait()
	ctx, cancel := context.WithTimeout(t.Context(), containerStartup)
	defer cancel()
	for _, p := range procs {
		p.WaitLine(ctx, "存储服务启动完成")
	}
	started := func(p *enginetest.Process) bool { return strings.Contains(p.Stderr(), "mariadbd 已启动 (pid") }
	if started(procs[0]) == started(procs[1]) {
		t.Fatalf("want exactly one server start:\n--- first:\n%s\n--- second:\n%s", procs[0].Stderr(), procs[1].Stderr())
	}
	owner, sharer := procs[0], procs[1]
	if !started(owner) {
		owner, sharer = sharer, owner
	}
	if !strings.Contains(sharer.Stderr(), "另一个 k3-storage 进程正在运行 (或正在启动) 本机 mariadbd") {
		t.Fatalf("the second process does not say it shares the server:\n%s", sharer.Stderr())
	}
	if pids := mariadbds(t, n.dataDir); len(pids) != 1 {
		t.Fatalf("%d servers, want 1", len(pids))
	}
	stop(t, sharer, syscall.SIGTERM)
	if len(mariadbds(t, n.dataDir)) != 1 {
		t.Fatal("the sharing process stopped the server")
	}
	stop(t, owner, syscall.SIGTERM)
	noneLeft(t, n.dataDir)
	pctx, pcancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer pcancel()
	if err := mysqltest.Ping(pctx, mysql.Options{Host: "127.0.0.1", Port: userPort, User: mysqltest.User, Password: mysqltest.Password}); err != nil {
		t.Fatalf("the user's own mariadbd on another port was touched: %v", err)
	}
}

// TestNativeExistingServersUsed: a user's server on the configured port is
// used as an existing database and left running; no data directory is
// made for it.
func TestNativeExistingServersUsed(t *testing.T) {
	t.Run("mysql", func(t *testing.T) {
		port, _ := mysqltest.StartServer(t)
		home := t.TempDir()
		_, cfg := writeConfig(t, mysqlConfig("127.0.0.1", port, mysqltest.User, mysqltest.Password, "k3native",
			fmt.Sprintf("    container: {image: %q}\n    native: {mode: always}\n", unpullable(t, "mysql"))))
		p := startNative(t, home, cfg)
		wantStderr(t, p, "上已有数据库在运行，直接使用")
		stop(t, p, syscall.SIGTERM)
		if strings.Contains(p.Stdout(), "停止由本进程拉起的存储后端进程") {
			t.Fatal("stopped a server it did not start")
		}
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		defer cancel()
		if err := mysqltest.Ping(ctx, mysql.Options{Host: "127.0.0.1", Port: port, User: mysqltest.User, Password: mysqltest.Password}); err != nil {
			t.Fatalf("the user's server is gone: %v", err)
		}
		if _, err := os.Stat(filepath.Join(home, "k3-storage")); err == nil {
			t.Fatal("a data directory was made for a server that was already there")
		}
	})
	t.Run("etcd", func(t *testing.T) {
		user := startEtcdBinary(t)
		other := startEtcdBinary(t) // on another port: nothing to do with it
		home := t.TempDir()
		_, cfg := writeConfig(t, etcdConfig([]string{user}, fmt.Sprintf(
			"    container: {image: %q}\n", unpullable(t, "etcd"))))
		p := startNative(t, home, cfg)
		wantStderr(t, p, "上已有数据库在运行，直接使用")
		stop(t, p, syscall.SIGTERM)
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		defer cancel()
		containertest.WaitEtcd(ctx, t, user)
		containertest.WaitEtcd(ctx, t, other)
		if _, err := os.Stat(filepath.Join(home, "k3-storage")); err == nil {
			t.Fatal("a data directory was made for a server that was already there")
		}
	})
}

// startEtcdBinary runs Debian's etcd (package etcd-server) on free
// loopback ports until the test ends and returns its client URL.
func startEtcdBinary(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("etcd")
	if err != nil {
		mysqltest.SkipOrFail(t, "no etcd binary (apt-get install etcd-server)")
	}
	client := fmt.Sprintf("http://127.0.0.1:%d", containertest.FreePort(t))
	peer := fmt.Sprintf("http://127.0.0.1:%d", containertest.FreePort(t))
	cmd := exec.Command(bin, "--data-dir", t.TempDir(), "--name", "user",
		"--listen-client-urls", client, "--advertise-client-urls", client,
		"--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer, "--initial-cluster", "user="+peer)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	containertest.WaitEtcd(ctx, t, client)
	return client
}

// TestNativeNoRuntime: in process, with no container runtime at all, the
// engine says so, runs the embedded etcd, lists it in Holding while it
// runs, and stops it on Shutdown.
func TestNativeNoRuntime(t *testing.T) {
	empty := t.TempDir()
	port := containertest.FreePort(t)
	eng, err := engine.New(engine.Options{
		Backend: engine.Etcd,
		Etcd: engine.EtcdOptions{
			Options:       etcdOptions(fmt.Sprintf("http://127.0.0.1:%d", port)),
			ConnectBudget: 30 * time.Second,
			Container:     engine.Container{Auto: true, Image: "quay.io/coreos/etcd:v3.5.0", Name: "k3-native", StopTimeout: 5 * time.Second},
			Server:        etcdembed.Launch,
		},
		ContainerEnv: containers.Env{Root: empty, Home: empty, XDGRuntimeDir: empty},
		DataHome:     filepath.Join(t.TempDir(), "k3-storage"),
	})
	if err != nil {
		t.Fatal(err)
	}
	events := collect(eng)
	store, err := eng.Start(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.Put(t.Context(), "/registry/x", []byte("y")); err != nil {
		t.Fatal(err)
	}
	held := eng.Holding()
	if len(held) != 1 || !strings.Contains(held[0], "内嵌 etcd") {
		t.Fatalf("Holding = %q, want the embedded etcd", held)
	}
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	if err := eng.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if held := eng.Holding(); len(held) != 0 {
		t.Fatalf("Holding after Shutdown = %q", held)
	}
	closed(t, fmt.Sprintf("127.0.0.1:%d", port))
	evs := <-events
	checkPaired(t, evs)
	var seq []string
	for _, ev := range evs {
		if ev.Kind != lifecycle.KindStage {
			continue
		}
		s := ev.Stage.String() + "/" + ev.Status.String()
		if ev.Stage == lifecycle.StageProvision {
			s += "/" + ev.Path.String() + "/" + ev.Reason.String()
		}
		seq = append(seq, s)
	}
	want := []string{"start/running", "runtime/running", "runtime/skipped", "provision/done/native/no-runtime",
		"native-start/running", "native-start/done", "connect/running", "connect/done", "start/done", "ready/done",
		"stopping/running", "close-store/done", "stop-native/running", "stop-native/done", "stopping/done", "stopped/done"}
	if strings.Join(seq, " ") != strings.Join(want, " ") {
		t.Fatalf("stages\n got %v\nwant %v", seq, want)
	}
}

// TestNativeEtcdWithoutServer: a program embedding the engine without an
// etcd server (EtcdOptions.Server nil), with no container runtime, fails
// at once, says what it tried and how to link the server, and creates no
// data directory.
func TestNativeEtcdWithoutServer(t *testing.T) {
	empty := t.TempDir()
	home := filepath.Join(t.TempDir(), "k3-storage")
	eng, err := engine.New(engine.Options{
		Backend: engine.Etcd,
		Etcd: engine.EtcdOptions{
			Options:       etcdOptions(fmt.Sprintf("http://127.0.0.1:%d", containertest.FreePort(t))),
			ConnectBudget: 30 * time.Second,
			Container:     engine.Container{Auto: true, Image: "quay.io/coreos/etcd:v3.5.0", Name: "k3-native", StopTimeout: 5 * time.Second},
		},
		ContainerEnv: containers.Env{Root: empty, Home: empty, XDGRuntimeDir: empty},
		DataHome:     home,
	})
	if err != nil {
		t.Fatal(err)
	}
	collect(eng)
	_, err = eng.Start(t.Context())
	var u *engine.UnavailableError
	if !errors.As(err, &u) {
		t.Fatalf("Start without a server: %v, want an UnavailableError", err)
	}
	if msg := err.Error(); !strings.Contains(msg, "没有链接 etcd 服务器") || !strings.Contains(msg, "engine.EtcdOptions.Server") {
		t.Fatalf("the error does not say what is missing and how to link it:\n%s", msg)
	}
	if _, err := os.Stat(home); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("data home created without a server: %v", err)
	}
}

// TestNativeAfterPullFailure: a running Docker Engine whose registry is
// unreachable (nothing listens where the image's registry should be) makes
// the engine fall back to the embedded etcd and say why.
func TestNativeAfterPullFailure(t *testing.T) {
	containertest.Docker(t)
	port := containertest.FreePort(t)
	image := unpullable(t, "etcd")
	eng, err := engine.New(engine.Options{
		Backend: engine.Etcd,
		Etcd: engine.EtcdOptions{
			Options:       etcdOptions(fmt.Sprintf("http://127.0.0.1:%d", port)),
			ConnectBudget: 30 * time.Second,
			Container:     engine.Container{Auto: true, Image: image, Name: containertest.UniqueName(t, "pullfail"), StopTimeout: 5 * time.Second},
			Server:        etcdembed.Launch,
		},
		ContainerEnv: containers.EnvFromOS(),
		DataHome:     filepath.Join(t.TempDir(), "k3-storage"),
	})
	if err != nil {
		t.Fatal(err)
	}
	events := collect(eng)
	if _, err := eng.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	if err := eng.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	var prov *lifecycle.Event
	failedImage := false
	evs := <-events
	checkPaired(t, evs)
	for _, ev := range evs {
		if ev.Stage == lifecycle.StageProvision {
			prov = &ev
		}
		if (ev.Stage == lifecycle.StagePull || ev.Stage == lifecycle.StageImage) && ev.Status == lifecycle.Failed && ev.Err != nil {
			failedImage = true
		}
	}
	if prov == nil || prov.Path != lifecycle.PathNative || prov.Reason != lifecycle.ReasonPullUnreachable {
		t.Fatalf("provision event %+v, want native after pull-unreachable", prov)
	}
	if want := "镜像 " + image + " 无法拉取 (registry 不可达)，改用内嵌 etcd"; prov.Detail != want {
		t.Fatalf("provision detail %q, want %q", prov.Detail, want)
	}
	if !failedImage {
		t.Fatal("the failed pull is not reported as a failed stage")
	}
}

func etcdOptions(endpoint string) etcd.Options {
	return etcd.Options{Endpoints: []string{endpoint}, DialTimeout: 5 * time.Second}
}

// TestNativePurge: --purge-volume removes a native data directory this run
// created, and keeps one that was there before.
func TestNativePurge(t *testing.T) {
	home := t.TempDir()
	port := containertest.FreePort(t)
	_, cfg := writeConfig(t, etcdConfig([]string{fmt.Sprintf("http://127.0.0.1:%d", port)},
		"    native: {mode: always}\n"))
	dataDir := filepath.Join(home, "k3-storage", fmt.Sprintf("etcd-%d", port))

	p := startNative(t, home, cfg, "--purge-volume")
	stop(t, p, syscall.SIGTERM)
	if _, err := os.Stat(dataDir); !os.IsNotExist(err) {
		t.Fatalf("the data directory this run created is still there: %v", err)
	}

	stop(t, startNative(t, home, cfg), syscall.SIGTERM)
	p = startNative(t, home, cfg, "--purge-volume")
	stop(t, p, syscall.SIGTERM)
	if _, err := os.Stat(filepath.Join(dataDir, "member")); err != nil {
		t.Fatalf("a data directory from an earlier run was removed: %v", err)
	}
	if !strings.Contains(p.Stderr(), "不是本进程创建的，未删除") {
		t.Fatalf("stderr does not say the directory was kept:\n%s", p.Stderr())
	}
}
