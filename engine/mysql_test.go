package engine_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/k3/k3-storage/backends/mysql/mysqltest"
	"github.com/k3/k3-storage/engine"
	"github.com/k3/k3-storage/engine/enginetest"
	"github.com/k3/k3-storage/engine/lifecycle"
	"github.com/k3/k3-storage/internal/testbin"
)

// writeConfig writes a config file into a fresh directory and returns the
// directory and the file's path.
func writeConfig(t testing.TB, yaml string) (dir, path string) {
	t.Helper()
	dir = t.TempDir()
	path = filepath.Join(dir, "k3.yaml")
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	return dir, path
}

func mysqlConfig(host string, port int, user, password, database, extra string) string {
	return fmt.Sprintf(`storage:
  type: mysql
  mysql:
    host: %s
    port: %d
    user: %s
    password: %q
    database: %s
%s`, host, port, user, password, database, extra)
}

// TestMySQLHeadless runs the binary against the real server and checks the
// original log lines and a clean SIGTERM exit.
func TestMySQLHeadless(t *testing.T) {
	opts := mysqltest.NewDatabase(t)
	_, cfg := writeConfig(t, mysqlConfig(opts.Host, opts.Port, opts.User, opts.Password, opts.Database,
		"    container: {auto: false}\n"))
	p := enginetest.Start(t, t.TempDir(), nil, "--headless", "--config", cfg)
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	p.WaitLine(ctx, "存储服务启动完成")
	p.Cmd.Process.Signal(syscall.SIGTERM)
	if code := p.Wait(10 * time.Second); code != 0 {
		t.Fatalf("exit code %d\nstderr:\n%s", code, p.Stderr())
	}
	addr := fmt.Sprintf("%s:%d/%s", opts.Host, opts.Port, opts.Database)
	want := []string{
		"配置文件: " + cfg,
		"正在启动存储服务 (类型: mysql)...",
		"MySQL 存储已连接: " + addr,
		"存储服务启动完成",
		"正在关闭存储服务...",
		"存储连接已关闭",
		"存储服务已关闭",
	}
	wantStdout(t, p, want)
	if strings.Contains(p.Stdout()+p.Stderr(), opts.Password) {
		t.Fatal("the password appears in the output")
	}
}

// TestMySQLWrongPassword checks that rejected credentials end startup at
// once, with exit code 1 and no trace of the password.
func TestMySQLWrongPassword(t *testing.T) {
	opts := mysqltest.NewDatabase(t)
	const secret = "Wr0ng-Pa55word-x9"
	for _, output := range []string{"text", "json"} {
		t.Run(output, func(t *testing.T) {
			_, cfg := writeConfig(t, mysqlConfig(opts.Host, opts.Port, opts.User, secret, opts.Database,
				"    container: {auto: false}\n    connect_timeout: 1m\n"))
			testbin.Binary(t) // built outside the timing
			start := time.Now()
			p := enginetest.Start(t, t.TempDir(), nil, "--headless", "--output", output, "--config", cfg)
			code := p.Wait(30 * time.Second)
			took := time.Since(start)
			if code != 1 {
				t.Fatalf("exit code %d, want 1\nstderr:\n%s", code, p.Stderr())
			}
			if took > 5*time.Second {
				t.Fatalf("a wrong password took %v to fail, want under 5s", took)
			}
			all := p.Stdout() + p.Stderr()
			if strings.Contains(all, secret) {
				t.Fatalf("the password appears in the output:\n%s", all)
			}
			if !strings.Contains(all, "1045") || !strings.Contains(all, "Access denied") {
				t.Fatalf("the output does not say access was denied:\n%s", all)
			}
			if !strings.Contains(all, "MySQL 拒绝了用户 "+opts.User+" 的登录：用户名或密码错误") {
				t.Fatalf("the output does not say the login was refused:\n%s", all)
			}
			if strings.Contains(p.Stdout(), "存储服务启动完成") {
				t.Fatal("reported ready")
			}
		})
	}
}

// TestMySQLBudgetExhausted: nothing listens, the budget runs out, and the
// error names the address and the last error and says what to check. The
// text output shows the repeated error once (a summary would follow only
// after 5s); JSON shows every attempt.
func TestMySQLBudgetExhausted(t *testing.T) {
	port := mysqltest.FreePort(t)
	_, cfg := writeConfig(t, mysqlConfig("127.0.0.1", port, "root", "pw", "k3",
		"    container: {auto: false}\n    connect_timeout: 2s\n"))
	addr := fmt.Sprintf("127.0.0.1:%d/k3", port)
	t.Run("text", func(t *testing.T) {
		p := enginetest.Start(t, t.TempDir(), nil, "--headless", "--config", cfg)
		if code := p.Wait(30 * time.Second); code != 1 {
			t.Fatalf("exit code %d, want 1", code)
		}
		stderr := p.Stderr()
		if !strings.Contains(stderr, "错误: 在 2s 内未能连接 "+addr) || !strings.Contains(stderr, "connection refused") {
			t.Fatalf("stderr does not name the address, the budget and the last error:\n%s", stderr)
		}
		if !strings.Contains(stderr, "请检查：数据库服务是否已启动") || !strings.Contains(stderr, "防火墙") {
			t.Fatalf("stderr does not say what to check:\n%s", stderr)
		}
		if n := strings.Count(stderr, "次连接 "+addr+" 失败"); n != 1 {
			t.Fatalf("%d attempt lines, want the repeated error once:\n%s", n, stderr)
		}
	})
	t.Run("json", func(t *testing.T) {
		p := enginetest.Start(t, t.TempDir(), nil, "--headless", "--output", "json", "--config", cfg)
		if code := p.Wait(30 * time.Second); code != 1 {
			t.Fatalf("exit code %d, want 1", code)
		}
		if n := strings.Count(p.Stdout(), `"kind":"attempt"`); n < 5 {
			t.Fatalf("%d attempt events in 2s, want every attempt:\n%s", n, p.Stdout())
		}
	})
}

// TestMySQLConnectsWhenServerStarts starts the engine while nothing listens
// on the port, starts MariaDB a few attempts later, and checks the engine
// connects soon after the server answers: the backoff is capped at 250ms.
func TestMySQLConnectsWhenServerStarts(t *testing.T) {
	srv := mysqltest.NewServer(t)
	o := srv.Options()
	o.Database = "k3retry"
	eng, err := engine.New(engine.Options{Backend: engine.MySQL, MySQL: engine.MySQLOptions{Options: o, ConnectBudget: 2 * time.Minute}})
	if err != nil {
		t.Fatal(err)
	}
	var (
		attempts  = make(chan lifecycle.Event, 1024)
		connected = make(chan time.Time, 1)
		drained   = make(chan struct{})
	)
	go func() {
		defer close(drained)
		for ev := range eng.Events() {
			switch {
			case ev.Kind == lifecycle.KindAttempt:
				attempts <- ev
			case ev.Stage == lifecycle.StageConnect && ev.Status == lifecycle.Done:
				connected <- ev.Time
			}
		}
	}()
	started := make(chan error, 1)
	go func() {
		_, err := eng.Start(t.Context())
		started <- err
	}()
	var last lifecycle.Event
	for range 4 {
		select {
		case last = <-attempts:
		case err := <-started:
			t.Fatalf("Start returned before the server ran: %v", err)
		case <-time.After(time.Minute):
			t.Fatal("no connect attempts reported")
		}
	}
	if last.Attempt.N != 4 || last.Attempt.NextDelay <= 0 || last.Attempt.NextDelay > 250*time.Millisecond {
		t.Fatalf("attempt %+v, want the 4th with a next delay in (0, 250ms]", last.Attempt)
	}
	srv.MustStart(t)
	answered := time.Now() // the server has just answered a real query
	if err := <-started; err != nil {
		t.Fatalf("Start: %v", err)
	}
	at := <-connected
	// One Open does several round trips (create database, schema); time
	// one against the running server to separate that from the wait.
	openStart := time.Now()
	probe, err := engine.New(engine.Options{Backend: engine.MySQL, MySQL: engine.MySQLOptions{Options: o}})
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		for range probe.Events() {
		}
	}()
	if _, err := probe.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	openTook := time.Since(openStart)
	probe.Shutdown(t.Context())
	gap := at.Sub(answered)
	t.Logf("connected %v after the server answered (one open takes %v)", gap, openTook)
	if gap > 250*time.Millisecond+openTook {
		t.Fatalf("connected %v after the server answered; want within 250ms of backoff plus one open (%v)", gap, openTook)
	}
	if err := eng.Shutdown(t.Context()); err != nil {
		t.Fatal(err)
	}
	<-drained
}
