package engine_test

import (
	"bufio"
	"context"
	"database/sql"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"runtime"
	"syscall"
	"testing"
	"time"

	gomysql "github.com/go-sql-driver/mysql"

	"github.com/k3/k3-storage/containers/containertest"
	"github.com/k3/k3-storage/internal/testbin"
	"github.com/k3/k3-storage/native"
)

// launchToLine starts bin with args in dir and returns the time until it
// prints line on stdout; stop ends it (SIGTERM, then waits).
func launchToLine(b *testing.B, bin, dir string, env []string, line string, args ...string) (took time.Duration, stop func()) {
	b.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if sc.Text() == line {
			took = time.Since(start)
			break
		}
	}
	if took == 0 {
		cmd.Wait()
		b.Fatalf("%s exited before printing %q", bin, line)
	}
	go io.Copy(io.Discard, out)
	return took, func() {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
	}
}

// moduleRoot is the k3-storage module's directory.
func moduleRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..")
}

// buildVariant builds k3-storage with build tags into dir.
func buildVariant(b *testing.B, dir string, tags string) string {
	b.Helper()
	bin := filepath.Join(dir, "k3-storage-"+tags)
	cmd := exec.Command("go", "build", "-tags", tags, "-o", bin, ".")
	cmd.Dir = moduleRoot()
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("go build -tags %s: %v\n%s", tags, err, out)
	}
	return bin
}

// buildRevision builds the k3-storage of an earlier commit (anything git
// rev-parse takes) into dir, from the module's git repository.
func buildRevision(b *testing.B, dir, rev string) string {
	b.Helper()
	src := filepath.Join(dir, "rev-src")
	if err := os.MkdirAll(src, 0o755); err != nil {
		b.Fatal(err)
	}
	archive := exec.Command("sh", "-c", `git archive "$1" | tar -x -C "$2"`, "sh", rev, src)
	archive.Dir = moduleRoot()
	if out, err := archive.CombinedOutput(); err != nil {
		b.Fatalf("git archive %s: %v\n%s", rev, err, out)
	}
	bin := filepath.Join(dir, "k3-storage-rev")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Dir = src
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("go build of %s: %v\n%s", rev, err, out)
	}
	return bin
}

// floorSource is the least a Go program does to play the part: print the
// ready line, wait for a signal.
const floorSource = `package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	c := make(chan os.Signal, 1)
	signal.Notify(c, syscall.SIGTERM, syscall.SIGINT)
	os.Stdout.WriteString("存储服务启动完成\n")
	<-c
}
`

// buildFloor builds floorSource into dir.
func buildFloor(b *testing.B, dir string) string {
	b.Helper()
	src := filepath.Join(dir, "floor")
	if err := os.MkdirAll(src, 0o755); err != nil {
		b.Fatal(err)
	}
	os.WriteFile(filepath.Join(src, "go.mod"), []byte("module floor\n\ngo 1.26\n"), 0o644)
	os.WriteFile(filepath.Join(src, "main.go"), []byte(floorSource), 0o644)
	bin := filepath.Join(dir, "floor-bin")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Dir = src
	cmd.Env = append(os.Environ(), "GOWORK=off")
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("go build floor: %v\n%s", err, out)
	}
	return bin
}

// BenchmarkMemoryLaunch measures `k3-storage --headless` on the memory
// backend (the built-in config, in an empty directory) from launch to its
// "存储服务启动完成" line, side by side with programs built in the same run:
// the same source built with -tags k3_no_embedded_etcd, which leaves the
// embedded etcd server out (what linking it costs; never shipped), a
// minimal Go program that prints the line and waits for a signal (the
// floor: exec, the dynamic loader, the Go runtime) and, when
// K3_BENCH_BASE names a commit (cdae611 is the last before the embedded
// server), the k3-storage of that commit. They alternate within each
// iteration, so machine load hits all alike; the medians are reported. Run
// with -benchtime=30x or more.
func BenchmarkMemoryLaunch(b *testing.B) {
	dir := b.TempDir()
	type side struct {
		name string
		bin  string
		args []string
		runs []time.Duration
	}
	sides := []*side{
		{name: "k3-storage", bin: testbin.Binary(b), args: []string{"--headless"}},
		{name: "no-embedded-etcd", bin: buildVariant(b, dir, "k3_no_embedded_etcd"), args: []string{"--headless"}},
		{name: "floor", bin: buildFloor(b, dir)},
	}
	if rev := os.Getenv("K3_BENCH_BASE"); rev != "" {
		sides = append(sides, &side{name: "base", bin: buildRevision(b, dir, rev), args: []string{"--headless"}})
	}
	for b.Loop() {
		for _, s := range sides {
			took, stop := launchToLine(b, s.bin, b.TempDir(), nil, "存储服务启动完成", s.args...)
			s.runs = append(s.runs, took)
			stop()
		}
	}
	for _, s := range sides {
		b.ReportMetric(ms(median(s.runs)), s.name+"-ms")
	}
	b.ReportMetric(float64(median(sides[0].runs))/float64(median(sides[1].runs)), "ratio")
	if len(sides) > 3 {
		b.ReportMetric(float64(median(sides[0].runs))/float64(median(sides[3].runs)), "base-ratio")
	}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// nativeEtcdConfig writes a config that runs the embedded etcd on port with
// its data in dataDir, skipping containers.
func nativeEtcdConfig(b *testing.B, port int, dataDir string) string {
	b.Helper()
	_, path := writeConfig(b, fmt.Sprintf("storage:\n  type: etcd\n  etcd:\n    endpoints: [http://127.0.0.1:%d]\n"+
		"    native: {mode: always, data_dir: %q}\n", port, dataDir))
	return path
}

// copyDir copies the regular files of src into the new dir dst.
func copyDir(b *testing.B, src, dst string) {
	b.Helper()
	if out, err := exec.Command("cp", "-a", src, dst).CombinedOutput(); err != nil {
		b.Fatalf("cp: %v\n%s", err, out)
	}
}

// etcdBinaryToRead starts Debian's etcd on dataDir and returns the time
// until its first linearizable read succeeds (tried every 10ms), and a
// stop function. ticks passes the embedded server's raft timing.
func etcdBinaryToRead(b *testing.B, bin, dataDir string, ticks bool) (time.Duration, func()) {
	b.Helper()
	client := fmt.Sprintf("http://127.0.0.1:%d", containertest.FreePort(b))
	peer := fmt.Sprintf("http://127.0.0.1:%d", containertest.FreePort(b))
	args := []string{"--data-dir", dataDir, "--name", "k3-storage",
		"--listen-client-urls", client, "--advertise-client-urls", client,
		"--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer, "--initial-cluster", "k3-storage=" + peer,
		"--max-request-bytes", "2097152", "--log-level", "error"}
	if ticks {
		args = append(args, "--heartbeat-interval", "20", "--election-timeout", "200")
	}
	cmd := exec.Command(bin, args...)
	start := time.Now()
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	// A fresh HTTP request each time (the v3 JSON gateway; a range is
	// linearizable unless asked otherwise): a gRPC client would wait out
	// its reconnect backoff after the first refused dial.
	for deadline := time.Now().Add(time.Minute); ; {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		_, _, err := containertest.EtcdGet(ctx, client, "/registry/probe")
		cancel()
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			b.Fatalf("etcd never answered: %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	took := time.Since(start)
	return took, func() { cmd.Process.Signal(syscall.SIGTERM); cmd.Wait() }
}

// BenchmarkNativeEtcdStart measures k3-storage on the embedded etcd from
// launch to "存储服务启动完成" on a warm data directory, side by side
// with Debian's etcd binary started on a copy of the same directory until
// its first linearizable read succeeds — with the embedded server's raft
// timing (20ms/200ms) and with etcd's defaults (100ms/1s) — and a cold
// start of k3-storage on an empty directory. All alternate within each
// iteration. Run with -benchtime=10x.
func BenchmarkNativeEtcdStart(b *testing.B) {
	bin, err := exec.LookPath("etcd")
	if err != nil {
		b.Skip("no etcd binary (apt-get install etcd-server)")
	}
	k3 := testbin.Binary(b)
	warm := filepath.Join(b.TempDir(), "etcd")
	port := containertest.FreePort(b)
	cfg := nativeEtcdConfig(b, port, warm)
	_, stop := launchToLine(b, k3, b.TempDir(), nil, "存储服务启动完成", "--headless", "--config", cfg)
	stop()
	var embedded, same, defaults, cold []time.Duration
	for b.Loop() {
		took, stop := launchToLine(b, k3, b.TempDir(), nil, "存储服务启动完成", "--headless", "--config", cfg)
		embedded = append(embedded, took)
		stop()

		for _, ticks := range []bool{true, false} {
			b.StopTimer()
			cp := filepath.Join(b.TempDir(), "copy")
			copyDir(b, warm, cp)
			b.StartTimer()
			took, stop := etcdBinaryToRead(b, bin, cp, ticks)
			if ticks {
				same = append(same, took)
			} else {
				defaults = append(defaults, took)
			}
			stop()
		}

		coldCfg := nativeEtcdConfig(b, containertest.FreePort(b), filepath.Join(b.TempDir(), "etcd"))
		took, stop = launchToLine(b, k3, b.TempDir(), nil, "存储服务启动完成", "--headless", "--config", coldCfg)
		cold = append(cold, took)
		stop()
	}
	b.ReportMetric(ms(median(embedded)), "k3-warm-ms")
	b.ReportMetric(ms(median(same)), "etcd-binary-ms")
	b.ReportMetric(ms(median(defaults)), "etcd-binary-default-ticks-ms")
	b.ReportMetric(ms(median(cold)), "k3-cold-ms")
	b.ReportMetric(float64(median(embedded))/float64(median(same)), "ratio")
}

// BenchmarkNativeMySQLStart measures k3-storage on the machine's mariadbd
// from launch to "存储服务启动完成". warm: on an initialised data
// directory, side by side (alternating) with starting the same mariadbd
// on the same directory and option file by hand and running SELECT 1
// every 50ms until it answers. cold: on an empty directory
// (initialisation and first start), reported alone. Run with
// -benchtime=10x (warm) or 3x (cold).
func BenchmarkNativeMySQLStart(b *testing.B) {
	bin, err := native.FindMySQL("", os.Getenv("PATH"))
	if err != nil {
		b.Skip(err)
	}
	k3 := testbin.Binary(b)
	home := b.TempDir()
	for _, d := range []string{home, filepath.Dir(home)} {
		os.Chmod(d, 0o755) // reachable by the mysql user, as a root k3-storage runs it
	}
	const password = "bench-pw"
	config := func(port int, dataDir string) string {
		_, path := writeConfig(b, mysqlConfig("127.0.0.1", port, "root", password, "k3",
			fmt.Sprintf("    connect_timeout: 2m\n    native: {mode: always, data_dir: %q}\n", dataDir)))
		return path
	}
	b.Run("warm", func(b *testing.B) {
		warm := filepath.Join(home, "warm")
		port := containertest.FreePort(b)
		cfg := config(port, warm)
		_, stop := launchToLine(b, k3, b.TempDir(), nil, "存储服务启动完成", "--headless", "--config", cfg)
		stop()
		args := []string{"--defaults-file=" + filepath.Join(warm, "my.cnf")}
		if os.Geteuid() == 0 {
			if _, err := user.Lookup("mysql"); err == nil {
				args = append(args, "--user=mysql")
			} else {
				args = append(args, "--user=root")
			}
		}
		var k3Warm, byHand []time.Duration
		for b.Loop() {
			took, stop := launchToLine(b, k3, b.TempDir(), nil, "存储服务启动完成", "--headless", "--config", cfg)
			k3Warm = append(k3Warm, took)
			stop()

			cmd := exec.Command(bin, args...)
			cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
			start := time.Now()
			if err := cmd.Start(); err != nil {
				b.Fatal(err)
			}
			selectOne(b, port, password)
			byHand = append(byHand, time.Since(start))
			cmd.Process.Signal(syscall.SIGTERM)
			cmd.Wait()
		}
		b.ReportMetric(ms(median(k3Warm)), "k3-ms")
		b.ReportMetric(ms(median(byHand)), "by-hand-ms")
		b.ReportMetric(float64(median(k3Warm))/float64(median(byHand)), "ratio")
	})
	b.Run("cold", func(b *testing.B) {
		var cold []time.Duration
		for b.Loop() {
			dataDir, err := os.MkdirTemp(home, "cold-") // new each time, over every run of this function
			if err != nil {
				b.Fatal(err)
			}
			os.Remove(dataDir) // k3-storage creates it, as on a first start
			cfg := config(containertest.FreePort(b), dataDir)
			took, stop := launchToLine(b, k3, b.TempDir(), nil, "存储服务启动完成", "--headless", "--config", cfg)
			cold = append(cold, took)
			stop()
		}
		b.ReportMetric(ms(median(cold)), "k3-ms")
	})
}

// selectOne runs SELECT 1 as root every 50ms until it succeeds.
func selectOne(b *testing.B, port int, password string) {
	cfg := gomysql.NewConfig()
	cfg.User, cfg.Passwd, cfg.Net, cfg.Addr = "root", password, "tcp", fmt.Sprintf("127.0.0.1:%d", port)
	cfg.Timeout = time.Second
	cfg.Logger = silent{}
	conn, err := gomysql.NewConnector(cfg)
	if err != nil {
		b.Fatal(err)
	}
	db := sql.OpenDB(conn)
	defer db.Close()
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		var one int
		if db.QueryRow("SELECT 1").Scan(&one) == nil {
			return
		}
	}
	b.Fatal("mariadbd never answered")
}
