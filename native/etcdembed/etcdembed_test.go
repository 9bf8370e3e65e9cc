package etcdembed_test

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/k3/k3-storage/backends/mysql/mysqltest"
	"github.com/k3/k3-storage/native"
	"github.com/k3/k3-storage/native/etcdembed"
)

func newEtcd(t *testing.T, dir string, port int) *native.Etcd {
	t.Helper()
	e, err := native.NewEtcd(native.EtcdConfig{DataDir: dir, ClientPort: port, PeerPort: mysqltest.FreePort(t),
		MaxRequestBytes: 2 << 20, StopTimeout: 10 * time.Second, Launch: etcdembed.Launch})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Stop() })
	return e
}

func client(t *testing.T, e *native.Etcd) *clientv3.Client {
	t.Helper()
	c, err := clientv3.New(clientv3.Config{Endpoints: []string{e.ClientURL()}, DialTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestEtcd: the embedded server serves on its loopback URL with the
// configured request limit, keeps its data across a restart, refuses a
// second owner while it runs, and frees its port when stopped.
func TestEtcd(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "etcd")
	port := mysqltest.FreePort(t)
	e := newEtcd(t, dir, port)
	if c, err := e.Claim(); err != nil || c != native.Claimed {
		t.Fatalf("Claim = %v, %v", c, err)
	}
	if e.Initialised() {
		t.Fatal("a fresh dir holds a member")
	}
	start := time.Now()
	if err := e.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Logf("cold start: %v", time.Since(start))
	if st, err := os.Stat(dir); err != nil || st.Mode().Perm() != 0o700 {
		t.Fatalf("data dir %v, %v; want mode 0700", st, err)
	}
	c := client(t, e)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	// A value of 1.5 MiB fits: the server's limit is the container's.
	if _, err := c.Put(ctx, "/k3/big", strings.Repeat("x", 3<<19)); err != nil {
		t.Fatalf("put 1.5 MiB: %v", err)
	}
	if _, err := c.Put(ctx, "/k3/kept", "v1"); err != nil {
		t.Fatal(err)
	}
	c.Close()

	other := newEtcd(t, dir, mysqltest.FreePort(t))
	if st, err := other.Inspect(); err != nil || !st.Busy {
		t.Fatalf("Inspect while running: %+v, %v", st, err)
	}
	if cl, err := other.Claim(); err != nil || cl != native.Busy {
		t.Fatalf("second Claim = %v, %v; want busy", cl, err)
	}

	if err := e.Stop(); err != nil {
		t.Fatal(err)
	}
	if conn, err := net.Dial("tcp", e.ClientURL()[len("http://"):]); err == nil {
		conn.Close()
		t.Fatal("something still listens on the client port after Stop")
	}

	again := newEtcd(t, dir, port)
	if cl, err := again.Claim(); err != nil || cl != native.Claimed || again.Created() || !again.Initialised() {
		t.Fatalf("Claim after stop = %v, %v (created %v, initialised %v)", cl, err, again.Created(), again.Initialised())
	}
	start = time.Now()
	if err := again.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Logf("warm start: %v", time.Since(start))
	c = client(t, again)
	defer c.Close()
	resp, err := c.Get(ctx, "/k3/kept")
	if err != nil || len(resp.Kvs) != 1 || string(resp.Kvs[0].Value) != "v1" {
		t.Fatalf("key after restart: %v, %v", resp, err)
	}
}

// TestEtcdPortTaken: a start whose port is taken says which ports, and
// leaves the directory it created behind for nobody.
func TestEtcdPortTaken(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	port := l.Addr().(*net.TCPAddr).Port
	dir := filepath.Join(t.TempDir(), "etcd")
	e := newEtcd(t, dir, port)
	if c, err := e.Claim(); err != nil || c != native.Claimed {
		t.Fatalf("Claim = %v, %v", c, err)
	}
	err = e.Start(t.Context())
	if err == nil || !strings.Contains(err.Error(), "已被占用") {
		t.Fatalf("Start on a taken port: %v", err)
	}
	if purged, err := e.Purge(); err != nil || !purged {
		t.Fatalf("Purge = %v, %v", purged, err)
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("data dir left: %v", err)
	}
}
