package engine_test

import (
	"context"
	"database/sql"
	"fmt"
	"os/exec"
	"slices"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/k3/k3-storage/containers"
	"github.com/k3/k3-storage/containers/containertest"
	"github.com/k3/k3-storage/engine/enginetest"
	"github.com/k3/k3-storage/internal/testbin"
)

// BenchmarkContainerStart compares, with the image already present, the
// time from launching k3-storage on a local MySQL config to its
// "存储服务启动完成" line, against `docker run` of the same image plus the
// best wait loop (SELECT 1 every 50ms). Both start from an empty volume, so
// both include the database's first-start initialisation. The two
// alternate within each iteration, so machine load hits both alike; the
// medians and their ratio are reported. Run with -benchtime=10x.
func BenchmarkContainerStart(b *testing.B) {
	image := containertest.MariaDBImage(b)
	containertest.Pull(b, image)
	const password = "bench-pw"
	testbin.Binary(b) // build outside the measurements

	var k3, docker []time.Duration
	for b.Loop() {
		l := localMySQL{image: image, name: containertest.UniqueName(b, "bench"), port: containertest.FreePort(b), password: password}
		cfg := l.config(b)
		start := time.Now()
		p := enginetest.Start(b, b.TempDir(), nil, "--headless", "--config", cfg, "--purge-volume")
		ctx, cancel := context.WithTimeout(context.Background(), containerStartup)
		p.WaitLine(ctx, "存储服务启动完成")
		cancel()
		k3 = append(k3, time.Since(start))
		p.Cmd.Process.Signal(syscall.SIGTERM)
		p.Wait(time.Minute)

		name := containertest.UniqueName(b, "bench")
		port := containertest.FreePort(b)
		start = time.Now()
		out, err := exec.Command("docker", "run", "-d", "--name", name,
			"-p", "127.0.0.1:"+strconv.Itoa(port)+":3306",
			"-v", name+"-data:"+containers.MySQLDataPath,
			"-e", "MYSQL_ROOT_PASSWORD="+password, "-e", "MYSQL_DATABASE=k3", image).CombinedOutput()
		if err != nil {
			b.Fatalf("docker run: %v\n%s", err, out)
		}
		waitSelect1(b, port, password)
		docker = append(docker, time.Since(start))
		exec.Command("docker", "rm", "-f", "-v", name).Run()
	}
	mk, md := median(k3), median(docker)
	b.ReportMetric(float64(mk.Milliseconds()), "k3-storage-ms")
	b.ReportMetric(float64(md.Milliseconds()), "docker-run-ms")
	b.ReportMetric(float64(mk)/float64(md), "ratio")
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

// waitSelect1 runs SELECT 1 every 50ms until it succeeds.
func waitSelect1(b *testing.B, port int, password string) {
	cfg := mysql.NewConfig()
	cfg.User, cfg.Passwd, cfg.Net, cfg.Addr, cfg.DBName = "root", password, "tcp", fmt.Sprintf("127.0.0.1:%d", port), "k3"
	cfg.Timeout = time.Second
	cfg.Logger = silent{}
	conn, err := mysql.NewConnector(cfg)
	if err != nil {
		b.Fatal(err)
	}
	db := sql.OpenDB(conn)
	defer db.Close()
	deadline := time.Now().Add(containerStartup)
	for time.Now().Before(deadline) {
		var one int
		if db.QueryRow("SELECT 1").Scan(&one) == nil {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	b.Fatal("MySQL never answered")
}

type silent struct{}

func (silent) Print(...any) {}

// BenchmarkWarmReuse measures launch to ready when the container already
// runs (a user's container of the configured name is reused).
func BenchmarkWarmReuse(b *testing.B) {
	image := containertest.MariaDBImage(b)
	l := localMySQL{image: image, name: containertest.UniqueName(b, "warm"), port: containertest.FreePort(b), password: "warm-pw"}
	containertest.RunUnmanaged(b, containers.MySQLSpec(containers.MySQLParams{Name: l.name, Image: image, Port: l.port, Password: l.password, Database: "k3"}))
	ctx, cancel := context.WithTimeout(context.Background(), containerStartup)
	containertest.WaitMySQL(ctx, b, fmt.Sprintf("127.0.0.1:%d", l.port), "root", l.password, "")
	cancel()
	cfg := l.config(b)
	testbin.Binary(b)
	for b.Loop() {
		p := enginetest.Start(b, b.TempDir(), nil, "--headless", "--config", cfg)
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		p.WaitLine(ctx, "存储服务启动完成")
		cancel()
		b.StopTimer()
		p.Cmd.Process.Signal(syscall.SIGTERM)
		p.Wait(time.Minute)
		b.StartTimer()
	}
}
