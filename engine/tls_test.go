package engine_test

import (
	"context"
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/k3/k3-storage/backends/mysql/mysqltest"
	"github.com/k3/k3-storage/engine/enginetest"
	"github.com/k3/k3-storage/internal/testbin"
	"github.com/k3/k3-storage/internal/testcerts"
)

// TestMySQLTLSHeadless runs the binary against a MariaDB that requires
// TLS (require_secure_transport=ON), with certificates made by the test: a
// plain connection is refused at once with a sentence saying TLS is
// needed; verify-full with the right CA gets ready; a wrong server name
// fails at once, without spending the 45s connect budget.
func TestMySQLTLSHeadless(t *testing.T) {
	certs := testcerts.New(t)
	srv := mysqltest.NewServer(t)
	if err := srv.UseTLS(certs.CAFile, certs.ServerCertFile, certs.ServerKeyFile, true); err != nil {
		t.Fatal(err)
	}
	srv.MustStart(t)
	o := srv.Options()
	testbin.Binary(t) // built outside the timings
	config := func(tls string) string {
		_, cfg := writeConfig(t, mysqlConfig(o.Host, o.Port, o.User, o.Password, "k3",
			"    container: {auto: false}\n    connect_timeout: 45s\n"+tls))
		return cfg
	}
	fails := func(t *testing.T, cfg string, want ...string) {
		t.Helper()
		start := time.Now()
		p := enginetest.Start(t, t.TempDir(), nil, "--headless", "--config", cfg)
		if code := p.Wait(time.Minute); code != 1 {
			t.Fatalf("exit code %d, want 1\nstderr:\n%s", code, p.Stderr())
		}
		if took := time.Since(start); took > 10*time.Second {
			t.Fatalf("failed after %v: it retried what cannot succeed", took)
		}
		for _, w := range want {
			if !strings.Contains(p.Stderr(), w) {
				t.Fatalf("stderr lacks %q:\n%s", w, p.Stderr())
			}
		}
		if strings.Contains(p.Stdout()+p.Stderr(), o.Password) {
			t.Fatal("the password appears in the output")
		}
	}

	t.Run("plain", func(t *testing.T) {
		fails(t, config("    tls: {mode: disabled}\n"), "MySQL 服务器只接受加密连接")
	})
	t.Run("verify-full", func(t *testing.T) {
		cfg := config(fmt.Sprintf("    tls: {mode: verify-full, ca_file: %q}\n", certs.CAFile))
		p := enginetest.Start(t, t.TempDir(), nil, "--headless", "--config", cfg)
		wctx, cancel := context.WithTimeout(t.Context(), time.Minute)
		defer cancel()
		p.WaitLine(wctx, "存储服务启动完成")
		p.Cmd.Process.Signal(syscall.SIGTERM)
		if code := p.Wait(10 * time.Second); code != 0 {
			t.Fatalf("exit code %d\nstderr:\n%s", code, p.Stderr())
		}
	})
	t.Run("wrong server name", func(t *testing.T) {
		fails(t, config(fmt.Sprintf("    tls: {mode: verify-full, ca_file: %q, server_name: db.example.com}\n", certs.CAFile)),
			"x509: certificate is valid for", "db.example.com")
	})
	t.Run("other CA", func(t *testing.T) {
		fails(t, config(fmt.Sprintf("    tls: {mode: verify-ca, ca_file: %q}\n", certs.OtherCAFile)), "unknown authority")
	})
}
