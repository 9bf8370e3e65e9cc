package engine

import (
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/k3/k3-storage/backends/mysql"
	"github.com/k3/k3-storage/containers"
	"github.com/k3/k3-storage/engine/lifecycle"
	"github.com/k3/k3-storage/native"
)

// noProgram is a local MySQL backend on a machine without mariadbd or
// mysqld.
type noProgram struct{ *mysqlBackend }

func (noProgram) native(string) (nativeServer, error) {
	return nil, &native.NotFoundError{Names: []string{"mariadbd", "mysqld"}, Places: []string{"PATH", "/usr/sbin"}}
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// TestNothingPossibleFailsAtOnce: no container runtime and no MySQL
// server program: startup fails at once, not after the connect budget,
// with an error that lists what was tried and the fixes in order.
func TestNothingPossibleFailsAtOnce(t *testing.T) {
	empty := t.TempDir()
	b := noProgram{newMySQLBackend(MySQLOptions{
		Options:       mysql.Options{Host: "127.0.0.1", Port: freePort(t), User: "root", Password: "pw", Database: "k3"},
		ConnectBudget: 45 * time.Second,
		Container:     Container{Auto: true, Image: "mysql:8.0", Name: "k3-storage-mysql"},
	})}
	e, events := run(t, b, Options{ContainerEnv: containers.Env{Root: empty, Home: empty, XDGRuntimeDir: empty}})
	start := time.Now()
	_, err := e.Start(t.Context())
	if took := time.Since(start); took > 5*time.Second {
		t.Fatalf("failing took %v", took)
	}
	var u *UnavailableError
	if !errors.As(err, &u) {
		t.Fatalf("Start: %v, want an *UnavailableError", err)
	}
	text := err.Error()
	order := []string{
		"无法在本机提供 MySQL 数据库 (127.0.0.1:",
		"已尝试:", "容器: 未检测到可用的容器运行时", "本机数据库: 未找到 mariadbd 或 mysqld (已查找: PATH, /usr/sbin)",
		"解决办法", "1. 启动 Docker", "2. 准备镜像: docker pull mysql:8.0", "docker load",
		"3. 安装 MariaDB 或 MySQL 服务端", "storage.mysql.native.binary",
		"4. 设置 storage.mysql.container.auto: false",
	}
	rest := text
	for _, want := range order {
		i := strings.Index(rest, want)
		if i < 0 {
			t.Fatalf("the error lacks %q (in this order):\n%s", want, text)
		}
		rest = rest[i+len(want):]
	}
	if strings.Contains(text, "engine:") {
		t.Fatalf("an internal prefix reaches the user:\n%s", text)
	}
	evs := <-events
	last := evs[len(evs)-1]
	if !last.Final() || !errors.As(last.Err, &u) {
		t.Fatalf("final event %+v, want the error", last)
	}
	for _, ev := range evs {
		if ev.Kind == lifecycle.KindAttempt || ev.Stage == lifecycle.StageConnect {
			t.Fatalf("tried to connect: %+v", ev)
		}
	}
}
