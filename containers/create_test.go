package containers_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/go-connections/nat"
	"github.com/go-sql-driver/mysql"

	"github.com/k3/k3-storage/containers"
	"github.com/k3/k3-storage/containers/containertest"
)

// checkContainer asserts, through the engine's API, that h's container runs
// spec as we create it: loopback-only ports, our labels, the volume.
func checkContainer(t *testing.T, h containers.Handle, spec containers.Spec) {
	t.Helper()
	insp, err := containertest.Docker(t).ContainerInspect(t.Context(), h.ID)
	if err != nil {
		t.Fatalf("inspect %s: %v", h.Name, err)
	}
	if insp.Name != "/"+spec.Name || insp.Config.Image != spec.Image || !insp.State.Running {
		t.Errorf("container %s image %s running %v; want %s running %s", insp.Name, insp.Config.Image, insp.State.Running, spec.Name, spec.Image)
	}
	if insp.HostConfig.RestartPolicy.Name != container.RestartPolicyDisabled {
		t.Errorf("restart policy %q, want none", insp.HostConfig.RestartPolicy.Name)
	}
	if len(insp.HostConfig.PortBindings) != len(spec.Ports) {
		t.Errorf("port bindings %v; want exactly %v", insp.HostConfig.PortBindings, spec.Ports)
	}
	// NetworkSettings.Ports also lists the image's exposed ports, unbound.
	for port, bindings := range insp.NetworkSettings.Ports {
		for _, b := range bindings {
			if b.HostIP != "127.0.0.1" {
				t.Errorf("port %s published on %s:%s, beyond loopback", port, b.HostIP, b.HostPort)
			}
		}
	}
	for _, p := range spec.Ports {
		key := nat.Port(fmt.Sprintf("%d/tcp", p.ContainerPort))
		for what, bindings := range map[string][]nat.PortBinding{
			"configured": insp.HostConfig.PortBindings[key],
			"published":  insp.NetworkSettings.Ports[key],
		} {
			if len(bindings) != 1 || bindings[0].HostIP != "127.0.0.1" || bindings[0].HostPort != strconv.Itoa(p.HostPort) {
				t.Errorf("%s bindings of %s = %v; want only 127.0.0.1:%d", what, key, bindings, p.HostPort)
			}
		}
	}
	self := containers.CurrentOwner()
	wantLabels := map[string]string{
		containers.LabelManagedBy:  containers.ManagedBy,
		containers.LabelOwnerPID:   strconv.Itoa(os.Getpid()),
		containers.LabelOwnerHost:  self.Host,
		containers.LabelOwnerStart: strconv.FormatUint(self.StartTime, 10),
		containers.LabelSpecHash:   spec.Hash(),
		containers.LabelBackend:    spec.Backend,
	}
	for k, v := range wantLabels {
		if got := insp.Config.Labels[k]; got != v {
			t.Errorf("label %s = %q, want %q", k, got, v)
		}
	}
	var vols []string
	for _, m := range insp.Mounts {
		vols = append(vols, string(m.Type)+":"+m.Name+":"+m.Destination)
	}
	if want := []string{"volume:" + spec.Volume + ":" + spec.MountPath}; !slices.Equal(vols, want) {
		t.Errorf("mounts %v, want %v", vols, want)
	}
}

func etcdEndpoint(port int) string { return "http://127.0.0.1:" + strconv.Itoa(port) }

func TestEtcdLifecycle(t *testing.T) {
	ref := containertest.EtcdImage(t)
	c := containertest.Client(t)
	name := containertest.UniqueName(t, "etcd")
	port := containertest.FreePort(t)
	spec := containers.EtcdSpec(containers.EtcdParams{Name: name, Image: ref, ClientPort: port, MaxRequestBytes: etcdMaxRequestBytes})

	h, r := ensure(t, c, spec)
	if h.Outcome != containers.Created || !h.Owned || h.Name != name || h.Volume != name+"-data" || h.Image != ref {
		t.Fatalf("handle %+v: want Created, Owned, volume %s-data", h, name)
	}
	wantSteps(t, r, freshCreate...)
	checkFreshPull(t, r, 2)
	checkContainer(t, h, spec)

	ctx := ensureCtx(t)
	containertest.WaitEtcd(ctx, t, etcdEndpoint(port))
	if err := containertest.EtcdPut(ctx, etcdEndpoint(port), "/k3/persist", "kept"); err != nil {
		t.Fatal(err)
	}
	// A 1.5 MiB value, the Store contract's limit, fits etcd's request limit.
	if err := containertest.EtcdPut(ctx, etcdEndpoint(port), "/k3/big", strings.Repeat("v", 1536*1024)); err != nil {
		t.Errorf("put of a 1.5 MiB value: %v", err)
	}

	remove(t, c, h, false)

	h2, r2 := ensure(t, c, spec)
	if h2.Outcome != containers.Created || !h2.Owned || h2.ID == h.ID {
		t.Fatalf("second Ensure %+v, want a new Created container", h2)
	}
	wantSteps(t, r2, presentCreate...) // image present, volume kept
	containertest.WaitEtcd(ctx, t, etcdEndpoint(port))
	if v, ok, err := containertest.EtcdGet(ctx, etcdEndpoint(port), "/k3/persist"); err != nil || !ok || v != "kept" {
		t.Errorf("after re-creation /k3/persist = %q, %v, %v; want the value kept in the volume", v, ok, err)
	}
	remove(t, c, h2, true)
}

func TestMariaDBLifecycle(t *testing.T) {
	ref := containertest.MariaDBImage(t)
	c := containertest.Client(t)
	name := containertest.UniqueName(t, "mysql")
	port := containertest.FreePort(t)
	const password = `pa'ss\"w0rd`
	spec := containers.MySQLSpec(containers.MySQLParams{Name: name, Image: ref, Port: port, User: "k3", Password: password, Database: "k3db"})
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))

	h, r := ensure(t, c, spec)
	if h.Outcome != containers.Created || !h.Owned {
		t.Fatalf("handle %+v", h)
	}
	wantSteps(t, r, freshCreate...)
	checkFreshPull(t, r, 4)
	checkContainer(t, h, spec)

	ctx := ensureCtx(t)
	wctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	root := containertest.WaitMySQL(wctx, t, addr, "root", password, "")
	var dbs string
	if err := root.QueryRowContext(ctx, "SELECT GROUP_CONCAT(SCHEMA_NAME) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = 'k3db'").Scan(&dbs); err != nil || dbs != "k3db" {
		t.Errorf("database k3db: %q, %v", dbs, err)
	}
	user := containertest.WaitMySQL(wctx, t, addr, "k3", password, "k3db")
	if _, err := user.ExecContext(ctx, "CREATE TABLE kv (k VARBINARY(64) PRIMARY KEY, v BLOB)"); err != nil {
		t.Fatal(err)
	}
	if _, err := user.ExecContext(ctx, "INSERT INTO kv VALUES ('persist', 'kept')"); err != nil {
		t.Fatal(err)
	}
	// The extra user is granted on its database only, as with the official image.
	_, err := user.ExecContext(ctx, "CREATE DATABASE other")
	var me *mysql.MySQLError
	if !errors.As(err, &me) || me.Number != 1044 {
		t.Errorf("k3 creating another database: %v, want access denied (1044)", err)
	}
	// A wrong password is refused.
	cfg := mysql.NewConfig()
	cfg.User, cfg.Passwd, cfg.Net, cfg.Addr = "root", "nope", "tcp", addr
	wrong, err := mysql.NewConnector(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if conn, err := wrong.Connect(ctx); !errors.As(err, &me) || me.Number != 1045 {
		if conn != nil {
			conn.Close()
		}
		t.Errorf("root with a wrong password: %v, want access denied (1045)", err)
	}

	remove(t, c, h, false)

	h2, r2 := ensure(t, c, spec)
	wantSteps(t, r2, presentCreate...)
	user2 := containertest.WaitMySQL(wctx, t, addr, "k3", password, "k3db")
	var v string
	if err := user2.QueryRowContext(ctx, "SELECT v FROM kv WHERE k = 'persist'").Scan(&v); err != nil || v != "kept" {
		t.Errorf("after re-creation: %q, %v; want the row kept in the volume", v, err)
	}
	remove(t, c, h2, true)
}
