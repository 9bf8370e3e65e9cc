package etcd_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/k3/k3-storage/backends"
	"github.com/k3/k3-storage/backends/etcd"
	"github.com/k3/k3-storage/backends/etcd/etcdtest"
	"github.com/k3/k3-storage/internal/testcerts"
)

// closedPort returns a loopback address where nothing listens.
func closedPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// openFails calls Open, which must fail, and returns the error and how long
// Open took.
func openFails(t *testing.T, opts etcd.Options) (error, time.Duration) {
	t.Helper()
	start := time.Now()
	s, err := etcd.Open(t.Context(), opts)
	took := time.Since(start)
	if err == nil {
		s.Close()
		t.Fatalf("Open(%v) succeeded, want an error", opts.Endpoints)
	}
	t.Logf("Open failed after %v: %v", took.Round(time.Millisecond), err)
	return err, took
}

func TestOpenInvalidOptions(t *testing.T) {
	ep := "http://" + closedPort(t)
	tests := []struct {
		name string
		opts etcd.Options
	}{
		{"no endpoints", etcd.Options{}},
		{"empty endpoint", etcd.Options{Endpoints: []string{" "}}},
		{"password without user", etcd.Options{Endpoints: []string{ep}, Password: "pw"}},
		{"certificate without key", etcd.Options{Endpoints: []string{"https://127.0.0.1:1"}, CertFile: "c.pem"}},
		{"plain endpoint with TLS settings", etcd.Options{Endpoints: []string{ep}, CAFile: "ca.pem"}},
		{"missing CA file", etcd.Options{Endpoints: []string{"https://127.0.0.1:1"}, CAFile: "/nonexistent/ca.pem"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err, took := openFails(t, tt.opts)
			if !errors.Is(err, backends.ErrPermanent) {
				t.Errorf("error is not permanent: %v", err)
			}
			if took > time.Second {
				t.Errorf("invalid options took %v to report", took)
			}
		})
	}
}

// TestOpenUnreachable checks that a member that is not up yet is a
// retryable failure, reported within the dial timeout with the reason.
func TestOpenUnreachable(t *testing.T) {
	addr := closedPort(t)
	err, took := openFails(t, etcd.Options{Endpoints: []string{"http://" + addr}, DialTimeout: time.Second})
	if errors.Is(err, backends.ErrPermanent) {
		t.Errorf("a refused connection is marked permanent: %v", err)
	}
	if took > 3*time.Second {
		t.Errorf("Open took %v with a 1s dial timeout", took)
	}
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "connection refused") ||
		!strings.Contains(err.Error(), addr) {
		t.Errorf("error does not say that %s refused the connection: %v", addr, err)
	}
}

func TestOpenCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	time.AfterFunc(200*time.Millisecond, cancel)
	start := time.Now()
	_, err := etcd.Open(ctx, etcd.Options{Endpoints: []string{"http://" + closedPort(t)}, DialTimeout: time.Minute})
	if !errors.Is(err, context.Canceled) || time.Since(start) > 5*time.Second {
		t.Fatalf("Open with a cancelled context: %v after %v", err, time.Since(start))
	}
}

// TestOpenRedactsPassword puts the password where an error text shows it
// (in the endpoint) and checks that it is hidden.
func TestOpenRedactsPassword(t *testing.T) {
	const password = "hunter2-Sekr1t"
	ep := fmt.Sprintf("http://k3:%s@%s", password, closedPort(t))
	err, _ := openFails(t, etcd.Options{Endpoints: []string{ep}, Username: "k3", Password: password, DialTimeout: 500 * time.Millisecond})
	if strings.Contains(err.Error(), password) {
		t.Fatalf("error shows the password: %v", err)
	}
	if !strings.Contains(err.Error(), "****") {
		t.Fatalf("error %q does not show where the password was hidden", err)
	}
}

// TestAuth runs etcd with authentication on and checks that the right
// credentials work and wrong ones fail fast, permanently and clearly.
func TestAuth(t *testing.T) {
	const (
		rootPassword = "root-Pa55word"
		password     = "k3-Pa55word"
	)
	c := etcdtest.New(t, etcdtest.Config{Direct: true})
	c.EnableAuth(t, rootPassword, "k3", password)
	eps := c.Endpoints()
	ctx := t.Context()

	s := open(t, etcd.Options{Endpoints: eps, Username: "k3", Password: password})
	ch, err := s.Watch(ctx, "/auth/", 0)
	if err != nil {
		t.Fatal(err)
	}
	rev, err := s.Create(ctx, "/auth/a", []byte("v"))
	if err != nil {
		t.Fatalf("Create with valid credentials: %v", err)
	}
	if kv, err := s.Get(ctx, "/auth/a"); err != nil || kv.ModRevision != rev {
		t.Fatalf("Get with valid credentials: %+v, %v", kv, err)
	}
	select {
	case ev := <-ch:
		if ev.Err != nil || ev.KV.ModRevision != rev {
			t.Fatalf("watch event %+v", ev)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no watch event with valid credentials")
	}

	const dialTimeout = 10 * time.Second
	wrong := []struct {
		name           string
		user, password string
		want           error
	}{
		{"wrong password", "k3", "not-the-Pa55word", rpctypes.ErrAuthFailed},
		{"unknown user", "nobody", password, rpctypes.ErrAuthFailed},
		{"no credentials", "", "", rpctypes.ErrUserEmpty},
	}
	for _, tt := range wrong {
		t.Run(tt.name, func(t *testing.T) {
			err, took := openFails(t, etcd.Options{Endpoints: eps, Username: tt.user, Password: tt.password, DialTimeout: dialTimeout})
			if !errors.Is(err, backends.ErrPermanent) || !errors.Is(err, tt.want) {
				t.Errorf("got %v, want a permanent %v", err, tt.want)
			}
			if denied := errors.Is(tt.want, rpctypes.ErrAuthFailed); errors.Is(err, backends.ErrAccessDenied) != denied {
				t.Errorf("got %v: ErrAccessDenied %v, want %v", err, !denied, denied)
			}
			if took > dialTimeout/4 {
				t.Errorf("rejection took %v (dial timeout %v): not fast", took, dialTimeout)
			}
			if tt.password != "" && strings.Contains(err.Error(), tt.password) {
				t.Errorf("error shows the password: %v", err)
			}
			if !strings.Contains(err.Error(), "etcd: connect to") {
				t.Errorf("error %q does not say what failed", err)
			}
		})
	}

	// A user whose role covers only its own prefix can still connect (the
	// readiness read is denied, which proves the credentials), and is
	// refused elsewhere.
	root, err := clientv3.New(clientv3.Config{Endpoints: eps, Username: "root", Password: rootPassword, Logger: zap.NewNop()})
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	for _, step := range []func() error{
		func() error { _, err := root.RoleAdd(ctx, "app"); return err },
		func() error {
			_, err := root.RoleGrantPermission(ctx, "app", "/app/", clientv3.GetPrefixRangeEnd("/app/"), clientv3.PermissionType(clientv3.PermReadWrite))
			return err
		},
		func() error { _, err := root.UserAdd(ctx, "app", password); return err },
		func() error { _, err := root.UserGrantRole(ctx, "app", "app"); return err },
	} {
		if err := step(); err != nil {
			t.Fatal(err)
		}
	}
	app := open(t, etcd.Options{Endpoints: eps, Username: "app", Password: password})
	if _, err := app.Put(ctx, "/app/x", []byte("v")); err != nil {
		t.Fatalf("Put inside the role's prefix: %v", err)
	}
	if _, err := app.Put(ctx, "/other/x", []byte("v")); !errors.Is(err, rpctypes.ErrPermissionDenied) {
		t.Fatalf("Put outside the role's prefix: %v, want permission denied", err)
	}
	if err := app.Ping(ctx); err != nil {
		t.Fatalf("Ping as a user who may not read the probe key: %v, want an answer", err)
	}

	// The optional capabilities need no more than the key or prefix: the
	// history's compaction probes read the key itself.
	rev, err = app.Put(ctx, "/app/x", []byte("w"))
	if err != nil {
		t.Fatal(err)
	}
	if n, at, err := app.CountRev(ctx, "/app/"); err != nil || n != 1 || at != rev {
		t.Fatalf("CountRev inside the role's prefix = %d, %d, %v; want 1 key at %d", n, at, err, rev)
	}
	// Another client's compaction at rev leaves rev itself compacted in
	// the contract's terms (see Store.Compact).
	if _, err := root.Compact(ctx, rev); err != nil {
		t.Fatal(err)
	}
	h, err := app.History(ctx, "/app/x", backends.HistoryOptions{})
	if err != nil || len(h.Entries) != 1 || h.Entries[0].KV.ModRevision != rev || h.Compacted != rev {
		t.Fatalf("History inside the role's prefix after etcd's compaction at %d: %+v, %v; want the one version at %d, compacted %d", rev, h, err, rev, rev)
	}
	// A key that never existed, read above the compacted revision:
	// finding that revision takes a binary search of reads at past
	// revisions.
	if _, err := app.Put(ctx, "/app/y", nil); err != nil {
		t.Fatal(err)
	}
	h, err = app.History(ctx, "/app/none", backends.HistoryOptions{})
	if err != nil || len(h.Entries) != 0 || !h.StopsAtDelete || h.Compacted != rev {
		t.Fatalf("History of a missing key inside the role's prefix after etcd's compaction at %d: %+v, %v; want none, StopsAtDelete, compacted %d", rev, h, err, rev)
	}
}

// TestTLS serves clients over TLS and checks that the right CA works and
// that certificate problems fail fast and permanently.
func TestTLS(t *testing.T) {
	certs := testcerts.New(t)
	c := etcdtest.New(t, etcdtest.Config{Direct: true, CertFile: certs.ServerCertFile, KeyFile: certs.ServerKeyFile})
	eps := c.Endpoints()
	if !strings.HasPrefix(eps[0], "https://") {
		t.Fatalf("TLS member endpoint %s", eps[0])
	}
	s := open(t, etcd.Options{Endpoints: eps, CAFile: certs.CAFile})
	if _, err := s.Put(t.Context(), "/tls/a", []byte("v")); err != nil {
		t.Fatalf("Put over TLS: %v", err)
	}

	const dialTimeout = 10 * time.Second
	plain := etcdtest.New(t, etcdtest.Config{Direct: true}).Endpoints()[0]
	mtls := etcdtest.New(t, etcdtest.Config{Direct: true, CertFile: certs.ServerCertFile, KeyFile: certs.ServerKeyFile, ClientCAFile: certs.CAFile}).Endpoints()

	withClientCert := open(t, etcd.Options{Endpoints: mtls, CAFile: certs.CAFile, CertFile: certs.ClientCertFile, KeyFile: certs.ClientKeyFile})
	if _, err := withClientCert.Put(t.Context(), "/tls/b", []byte("v")); err != nil {
		t.Fatalf("Put with a client certificate: %v", err)
	}

	bad := []struct {
		name string
		opts etcd.Options
	}{
		{"unknown CA", etcd.Options{Endpoints: eps, CAFile: certs.OtherCAFile}},
		{"system roots", etcd.Options{Endpoints: eps}},
		{"wrong server name", etcd.Options{Endpoints: eps, CAFile: certs.CAFile, ServerName: "etcd.example.com"}},
		{"missing client certificate", etcd.Options{Endpoints: mtls, CAFile: certs.CAFile}},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			tt.opts.DialTimeout = dialTimeout
			err, took := openFails(t, tt.opts)
			if !errors.Is(err, backends.ErrPermanent) {
				t.Errorf("TLS failure not permanent: %v", err)
			}
			if took > dialTimeout/4 {
				t.Errorf("TLS failure took %v (dial timeout %v): not fast", took, dialTimeout)
			}
			if !strings.Contains(err.Error(), "TLS") {
				t.Errorf("error %q does not name TLS", err)
			}
		})
	}
	err, _ := openFails(t, etcd.Options{Endpoints: eps, CAFile: certs.OtherCAFile, DialTimeout: dialTimeout})
	if !errors.As(err, new(x509.UnknownAuthorityError)) {
		t.Errorf("unknown CA error is not an x509.UnknownAuthorityError: %v", err)
	}

	// A plain server just closes a connection that starts a TLS handshake,
	// which a member going down does too: retryable, but named.
	err, _ = openFails(t, etcd.Options{Endpoints: []string{strings.Replace(plain, "http://", "https://", 1)}, CAFile: certs.CAFile, DialTimeout: time.Second})
	if errors.Is(err, backends.ErrPermanent) || !strings.Contains(err.Error(), "TLS handshake: EOF") {
		t.Errorf("TLS to a plain server: %v, want a retryable error naming the handshake", err)
	}
}

// tlsImpostor listens for TLS on loopback with the given certificate and
// closes each connection after the handshake: a member whose certificate
// the client does not trust, as far as the client can tell. It returns the
// https endpoint.
func tlsImpostor(t *testing.T, certFile, keyFile string) string {
	t.Helper()
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert}})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Go(func() {
				defer c.Close()
				c.SetDeadline(time.Now().Add(10 * time.Second))
				c.(*tls.Conn).Handshake()
			})
		}
	})
	return "https://" + ln.Addr().String()
}

// TestTLSOneBadMember: one endpoint presents a certificate the client does
// not trust (a member with an expired or misissued certificate). The other
// member answers, so Open succeeds, in either endpoint order; only when
// every endpoint fails TLS is the failure permanent, and then it is
// reported at once.
func TestTLSOneBadMember(t *testing.T) {
	certs := testcerts.New(t)
	good := etcdtest.New(t, etcdtest.Config{Direct: true, CertFile: certs.ServerCertFile, KeyFile: certs.ServerKeyFile}).Endpoints()[0]
	bad := tlsImpostor(t, certs.OtherServerCertFile, certs.OtherServerKeyFile)
	const dialTimeout = 10 * time.Second
	for _, eps := range [][]string{{bad, good}, {good, bad}} {
		t.Run(strings.Join(eps, ","), func(t *testing.T) {
			s := open(t, etcd.Options{Endpoints: eps, CAFile: certs.CAFile, DialTimeout: dialTimeout})
			for i := range 5 {
				if _, err := s.Put(t.Context(), fmt.Sprintf("/tls-one-bad/%d", i), []byte("v")); err != nil {
					t.Fatalf("Put with one untrusted member: %v", err)
				}
			}
		})
	}

	bad2 := tlsImpostor(t, certs.OtherServerCertFile, certs.OtherServerKeyFile)
	err, took := openFails(t, etcd.Options{Endpoints: []string{bad, bad2}, CAFile: certs.CAFile, DialTimeout: dialTimeout})
	if !errors.Is(err, backends.ErrPermanent) || !errors.As(err, new(x509.UnknownAuthorityError)) {
		t.Errorf("every member untrusted: %v, want a permanent unknown-authority error", err)
	}
	if took > dialTimeout/4 {
		t.Errorf("every member untrusted: took %v (dial timeout %v): not fast", took, dialTimeout)
	}
	for _, addr := range []string{bad, bad2} {
		if !strings.Contains(err.Error(), strings.TrimPrefix(addr, "https://")) {
			t.Errorf("error does not name %s: %v", addr, err)
		}
	}

	// An untrusted member next to one that is down: the down one may come
	// up, so the failure is worth retrying.
	err, _ = openFails(t, etcd.Options{Endpoints: []string{bad, "https://" + closedPort(t)}, CAFile: certs.CAFile, DialTimeout: time.Second})
	if errors.Is(err, backends.ErrPermanent) || !errors.As(err, new(x509.UnknownAuthorityError)) {
		t.Errorf("untrusted member and a member down: %v, want a retryable error naming the TLS failure", err)
	}
}
