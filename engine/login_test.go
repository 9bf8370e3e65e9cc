package engine_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/k3/k3-storage/backends/mysql/mysqltest"
	"github.com/k3/k3-storage/containers/containertest"
	"github.com/k3/k3-storage/engine/enginetest"
)

// TestExistingDatabaseRefusesLogin: a database already answers on the
// local port, but not to our password. Provisioning says the login was
// refused (not that the port holds something that is no database), and
// creates no container.
func TestExistingDatabaseRefusesLogin(t *testing.T) {
	containertest.Docker(t) // provisioning needs a runtime, or it goes straight to connecting
	opts := mysqltest.NewDatabase(t)
	name := containertest.UniqueName(t, "unused")
	_, cfg := writeConfig(t, mysqlConfig(opts.Host, opts.Port, opts.User, "not-the-password", opts.Database,
		fmt.Sprintf("    container: {name: %s}\n", name)))
	p := enginetest.Start(t, t.TempDir(), nil, "--headless", "--config", cfg)
	if code := p.Wait(time.Minute); code != 1 {
		t.Fatalf("exit code %d, want 1\nstderr:\n%s", code, p.Stderr())
	}
	stderr := p.Stderr()
	if !strings.Contains(stderr, "使用容器运行时") || strings.Contains(stderr, "正在连接") {
		t.Fatalf("not the provisioning path:\n%s", stderr)
	}
	if !strings.Contains(stderr, "MySQL 拒绝了用户 "+opts.User+" 的登录：用户名或密码错误") || strings.Contains(stderr, "无法作为数据库使用") {
		t.Fatalf("stderr does not say the login was refused:\n%s", stderr)
	}
	containertest.ContainerGone(t, name)
}
