package containers_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/k3/k3-storage/containers"
	"github.com/k3/k3-storage/containers/containertest"
)

// fakeEngine serves a minimal Docker ping on a unix socket at path: the
// Api-Version header identifies which fake answered. An empty apiVersion
// answers 200 without it, like an HTTP server that is not Docker.
func fakeEngine(t *testing.T, path, apiVersion string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	serve(t, l, apiVersion)
}

func serve(t *testing.T, l net.Listener, apiVersion string) {
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/_ping" {
			http.NotFound(w, r)
			return
		}
		if apiVersion != "" {
			w.Header().Set("Api-Version", apiVersion)
			w.Header().Set("Ostype", "linux")
		}
		fmt.Fprint(w, "OK")
	})}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
}

// deadSocket leaves a socket file nobody listens on (a daemon that died).
func deadSocket(t *testing.T, path string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	l.(*net.UnixListener).SetUnlinkOnClose(false)
	l.Close()
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// writeContext stores a Docker CLI context named name with endpoint host.
func writeContext(t *testing.T, home, name, host string) {
	t.Helper()
	sum := sha256.Sum256([]byte(name))
	meta := filepath.Join(home, ".docker/contexts/meta", hex.EncodeToString(sum[:]), "meta.json")
	writeFile(t, meta, fmt.Sprintf(`{"Name":%q,"Metadata":{},"Endpoints":{"docker":{"Host":%q,"SkipTLSVerify":false}}}`, name, host))
}

// testEnv makes an Env rooted in a short temp dir (unix socket paths are
// limited to 108 bytes).
func testEnv(t *testing.T) containers.Env {
	dir, err := os.MkdirTemp("", "k3d")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return containers.Env{Root: filepath.Join(dir, "sys"), Home: filepath.Join(dir, "home"), XDGRuntimeDir: filepath.Join(dir, "xdg")}
}

type sockPath struct{ source, path string }

// socketOrder is the documented discovery order after DOCKER_HOST and the
// CLI context.
func socketOrder(env containers.Env) []sockPath {
	return []sockPath{
		{"default socket", filepath.Join(env.Root, "var/run/docker.sock")},
		{"rootless", filepath.Join(env.XDGRuntimeDir, "docker.sock")},
		{"docker desktop", filepath.Join(env.Home, ".docker/run/docker.sock")},
		{"docker desktop", filepath.Join(env.Home, ".docker/desktop/docker.sock")},
		{"podman", filepath.Join(env.XDGRuntimeDir, "podman/podman.sock")},
		{"podman", filepath.Join(env.Root, "run/podman/podman.sock")},
		{"colima", filepath.Join(env.Home, ".colima/default/docker.sock")},
	}
}

func discover(t *testing.T, env containers.Env) (*containers.Client, []containers.Candidate, []containers.Candidate, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	var reported []containers.Candidate
	c, tried, err := containers.Discover(ctx, env, func(c containers.Candidate) { reported = append(reported, c) })
	if c != nil {
		t.Cleanup(func() { c.Close() })
	}
	if len(reported) != len(tried) {
		t.Fatalf("reported %d candidates, returned %d", len(reported), len(tried))
	}
	for i := range tried {
		if reported[i].Source != tried[i].Source || reported[i].Address != tried[i].Address || reported[i].Status != tried[i].Status {
			t.Fatalf("report %d = %v, returned %v", i, reported[i], tried[i])
		}
	}
	return c, tried, reported, err
}

func sources(cs []containers.Candidate) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.Source+":"+statusName(c.Status))
	}
	return out
}

// statusName names a status for comparisons (CandidateStatus.String is
// text for the user, see TestMessages).
func statusName(s containers.CandidateStatus) string {
	switch s {
	case containers.Usable:
		return "usable"
	case containers.Absent:
		return "absent"
	case containers.Unreachable:
		return "unreachable"
	case containers.NoDockerAPI:
		return "no Docker API"
	}
	return fmt.Sprintf("status(%d)", int(s))
}

func TestDiscoverSocketOrder(t *testing.T) {
	// With fakes at positions i.. of the order, the one at i answers, and
	// everything before it was tried and found absent.
	for i := range socketOrder(containers.Env{}) {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			env := testEnv(t)
			order := socketOrder(env)
			for j := i; j < len(order); j++ {
				fakeEngine(t, order[j].path, fmt.Sprintf("1.%d", 30+j))
			}
			c, tried, _, err := discover(t, env)
			if err != nil {
				t.Fatalf("Discover: %v", err)
			}
			if len(tried) != i+1 {
				t.Fatalf("tried %v, want %d candidates", sources(tried), i+1)
			}
			for j, cand := range tried {
				if cand.Source != order[j].source || cand.Address != "unix://"+order[j].path {
					t.Errorf("candidate %d = %s %s, want %s unix://%s", j, cand.Source, cand.Address, order[j].source, order[j].path)
				}
				want := containers.Absent
				if j == i {
					want = containers.Usable
				}
				if cand.Status != want {
					t.Errorf("candidate %d status %v, want %v", j, cand.Status, want)
				}
			}
			if want := fmt.Sprintf("1.%d", 30+i); c.APIVersion() != want || tried[i].APIVersion != want {
				t.Errorf("answered with API %s/%s, want the fake at %d (%s)", c.APIVersion(), tried[i].APIVersion, i, want)
			}
			if c.Address() != "unix://"+order[i].path {
				t.Errorf("client address %s", c.Address())
			}
		})
	}
}

func TestDiscoverDockerHostAndContext(t *testing.T) {
	t.Run("DOCKER_HOST first", func(t *testing.T) {
		env := testEnv(t)
		host := filepath.Join(env.Root, "custom/d.sock")
		fakeEngine(t, host, "1.40")
		fakeEngine(t, socketOrder(env)[0].path, "1.41")
		writeContext(t, env.Home, "other", "unix://"+socketOrder(env)[0].path)
		env.DockerContext = "other"
		env.DockerHost = "unix://" + host
		c, tried, _, err := discover(t, env)
		if err != nil || c.APIVersion() != "1.40" || len(tried) != 1 || tried[0].Source != "DOCKER_HOST" {
			t.Fatalf("Discover = %v, %v, %v; want the DOCKER_HOST fake alone", c, sources(tried), err)
		}
	})
	t.Run("DOCKER_HOST over tcp", func(t *testing.T) {
		env := testEnv(t)
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		serve(t, l, "1.39")
		env.DockerHost = "tcp://" + l.Addr().String()
		c, tried, _, err := discover(t, env)
		if err != nil || c.APIVersion() != "1.39" || tried[0].Address != env.DockerHost {
			t.Fatalf("Discover = %v, %v, %v", c, sources(tried), err)
		}
	})
	t.Run("dead DOCKER_HOST falls through to DOCKER_CONTEXT", func(t *testing.T) {
		env := testEnv(t)
		dead := filepath.Join(env.Root, "dead.sock")
		deadSocket(t, dead)
		ctxSock := filepath.Join(env.Root, "ctx/docker.sock")
		fakeEngine(t, ctxSock, "1.38")
		fakeEngine(t, socketOrder(env)[0].path, "1.41")
		writeContext(t, env.Home, "remote", "unix://"+ctxSock)
		env.DockerHost, env.DockerContext = "unix://"+dead, "remote"
		c, tried, _, err := discover(t, env)
		if err != nil {
			t.Fatal(err)
		}
		if got := sources(tried); !slices.Equal(got, []string{"DOCKER_HOST:unreachable", "docker context remote:usable"}) {
			t.Fatalf("tried %v", got)
		}
		if tried[0].Err == nil || c.APIVersion() != "1.38" {
			t.Errorf("dead DOCKER_HOST err %v; answered API %s", tried[0].Err, c.APIVersion())
		}
	})
	t.Run("currentContext from config.json", func(t *testing.T) {
		env := testEnv(t)
		ctxSock := filepath.Join(env.Root, "ctx/docker.sock")
		fakeEngine(t, ctxSock, "1.37")
		fakeEngine(t, socketOrder(env)[0].path, "1.41")
		writeContext(t, env.Home, "desktop-linux", "unix://"+ctxSock)
		writeFile(t, filepath.Join(env.Home, ".docker/config.json"), `{"auths":{},"currentContext":"desktop-linux"}`)
		c, tried, _, err := discover(t, env)
		if err != nil || c.APIVersion() != "1.37" || tried[0].Source != "docker context desktop-linux" {
			t.Fatalf("Discover = %v, %v, %v", c, sources(tried), err)
		}
	})
	t.Run("DOCKER_CONTEXT overrides config.json", func(t *testing.T) {
		env := testEnv(t)
		a, b := filepath.Join(env.Root, "a.sock"), filepath.Join(env.Root, "b.sock")
		fakeEngine(t, a, "1.36")
		fakeEngine(t, b, "1.35")
		writeContext(t, env.Home, "a", "unix://"+a)
		writeContext(t, env.Home, "b", "unix://"+b)
		writeFile(t, filepath.Join(env.Home, ".docker/config.json"), `{"currentContext":"a"}`)
		env.DockerContext = "b"
		c, _, _, err := discover(t, env)
		if err != nil || c.APIVersion() != "1.35" {
			t.Fatalf("Discover = %v, %v", c, err)
		}
	})
	t.Run("context default means the default socket", func(t *testing.T) {
		env := testEnv(t)
		fakeEngine(t, socketOrder(env)[0].path, "1.41")
		writeFile(t, filepath.Join(env.Home, ".docker/config.json"), `{"currentContext":"default"}`)
		_, tried, _, err := discover(t, env)
		if err != nil || tried[0].Source != "default socket" {
			t.Fatalf("Discover = %v, %v", sources(tried), err)
		}
	})
	t.Run("missing context metadata is reported", func(t *testing.T) {
		env := testEnv(t)
		fakeEngine(t, socketOrder(env)[0].path, "1.41")
		env.DockerContext = "gone"
		_, tried, _, err := discover(t, env)
		if err != nil {
			t.Fatal(err)
		}
		if got := sources(tried); !slices.Equal(got, []string{"docker context gone:absent", "default socket:usable"}) || !errors.Is(tried[0].Err, os.ErrNotExist) {
			t.Fatalf("tried %v (context err %v)", got, tried[0].Err)
		}
	})
	t.Run("same address tried once", func(t *testing.T) {
		env := testEnv(t)
		def := socketOrder(env)[0].path
		deadSocket(t, def)
		writeContext(t, env.Home, "dup", "unix://"+def)
		env.DockerContext = "dup"
		env.DockerHost = "unix://" + def
		_, tried, _, err := discover(t, env)
		if !errors.Is(err, containers.ErrNoRuntime) {
			t.Fatalf("err = %v, want ErrNoRuntime", err)
		}
		n := 0
		for _, c := range tried {
			if c.Address == "unix://"+def {
				n++
			}
		}
		if n != 1 || tried[0].Source != "DOCKER_HOST" {
			t.Errorf("%s tried %d times: %v", def, n, sources(tried))
		}
	})
}

func TestDiscoverNothingUsable(t *testing.T) {
	env := testEnv(t)
	order := socketOrder(env)
	deadSocket(t, order[0].path)              // a stopped Docker
	fakeEngine(t, order[1].path, "")          // some HTTP server, not Docker
	writeFile(t, order[4].path, "not a sock") // a stray file
	fakeEngine(t, filepath.Join(env.Root, "run/containerd/containerd.sock"), "")
	writeFile(t, filepath.Join(env.Root, "var/run/crio/crio.sock"), "")

	c, tried, _, err := discover(t, env)
	if c != nil || !errors.Is(err, containers.ErrNoRuntime) {
		t.Fatalf("Discover = %v, %v; want no client and ErrNoRuntime", c, err)
	}
	var nre *containers.NoRuntimeError
	if !errors.As(err, &nre) || len(nre.Tried) != len(tried) {
		t.Fatalf("err %T does not carry the tried list", err)
	}
	want := []string{
		"default socket:unreachable", "rootless:no Docker API", "docker desktop:absent", "docker desktop:absent",
		"podman:unreachable", "podman:absent", "colima:absent", "containerd:no Docker API", "cri-o:no Docker API",
	}
	if got := sources(tried); !slices.Equal(got, want) {
		t.Fatalf("tried\n %v\nwant\n %v", got, want)
	}
	for _, i := range []int{0, 1, 4, 7, 8} {
		if tried[i].Err == nil {
			t.Errorf("candidate %v has no error saying why", tried[i])
		}
	}
	msg := err.Error()
	for _, c := range tried {
		if !strings.Contains(msg, c.Address) {
			t.Errorf("error does not list %s: %s", c.Address, msg)
		}
	}
}

func TestDiscoverRealEngine(t *testing.T) {
	containertest.Docker(t)
	env := containers.EnvFromOS()
	c, tried, _, err := discover(t, env)
	if err != nil {
		t.Fatalf("Discover on this machine: %v (tried %v)", err, sources(tried))
	}
	last := tried[len(tried)-1]
	if last.Status != containers.Usable || last.APIVersion == "" || c.APIVersion() != last.APIVersion {
		t.Errorf("last candidate %v, client API %s", last, c.APIVersion())
	}
	t.Logf("found %s (API %s)", c.Address(), c.APIVersion())
}

// testPKI is a CA with a server certificate for 127.0.0.1 and a client
// certificate, as `docker` TLS setups have them.
type testPKI struct {
	caPEM, serverCert, serverKey, clientCert, clientKey []byte
	pool                                                *x509.CertPool
}

func newTestPKI(t *testing.T) *testPKI {
	t.Helper()
	newKey := func() *ecdsa.PrivateKey {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	keyPEM := func(k *ecdsa.PrivateKey) []byte {
		der, err := x509.MarshalECPrivateKey(k)
		if err != nil {
			t.Fatal(err)
		}
		return pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der})
	}
	caKey := newKey()
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "k3 test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	issue := func(serial int64, usage x509.ExtKeyUsage, ips []net.IP) ([]byte, []byte) {
		k := newKey()
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: "k3 test"},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
			ExtKeyUsage: []x509.ExtKeyUsage{usage}, IPAddresses: ips, KeyUsage: x509.KeyUsageDigitalSignature,
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &k.PublicKey, caKey)
		if err != nil {
			t.Fatal(err)
		}
		return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), keyPEM(k)
	}
	p := &testPKI{caPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), pool: x509.NewCertPool()}
	p.pool.AddCert(ca)
	p.serverCert, p.serverKey = issue(2, x509.ExtKeyUsageServerAuth, []net.IP{net.IPv4(127, 0, 0, 1)})
	p.clientCert, p.clientKey = issue(3, x509.ExtKeyUsageClientAuth, nil)
	return p
}

// serveTLS starts a fake engine on 127.0.0.1 that speaks only TLS and
// requires a client certificate from the PKI, as dockerd --tlsverify does.
func (p *testPKI) serveTLS(t *testing.T, apiVersion string) string {
	t.Helper()
	cert, err := tls.X509KeyPair(p.serverCert, p.serverKey)
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	serve(t, tls.NewListener(l, &tls.Config{Certificates: []tls.Certificate{cert}, ClientCAs: p.pool, ClientAuth: tls.RequireAndVerifyClientCert}), apiVersion)
	return "tcp://" + l.Addr().String()
}

// writeClientFiles stores ca.pem, cert.pem and key.pem in dir, as the
// Docker CLI expects them in DOCKER_CERT_PATH.
func (p *testPKI) writeClientFiles(t *testing.T, dir string) {
	t.Helper()
	writeFile(t, filepath.Join(dir, "ca.pem"), string(p.caPEM))
	writeFile(t, filepath.Join(dir, "cert.pem"), string(p.clientCert))
	writeFile(t, filepath.Join(dir, "key.pem"), string(p.clientKey))
}

func TestDiscoverTLS(t *testing.T) {
	pki := newTestPKI(t)
	t.Run("DOCKER_HOST with DOCKER_TLS_VERIFY and DOCKER_CERT_PATH", func(t *testing.T) {
		env := testEnv(t)
		env.DockerHost = pki.serveTLS(t, "1.41")
		env.DockerTLSVerify, env.DockerCertPath = "1", filepath.Join(env.Root, "certs")
		pki.writeClientFiles(t, env.DockerCertPath)
		fakeEngine(t, socketOrder(env)[0].path, "1.40")
		c, tried, _, err := discover(t, env)
		if err != nil || c.APIVersion() != "1.41" || len(tried) != 1 || !tried[0].TLS || tried[0].Status != containers.Usable {
			t.Fatalf("Discover = %v, %v, %v; want the TLS daemon", c, sources(tried), err)
		}
		if !c.Local() || !strings.Contains(tried[0].String(), "TLS") {
			t.Errorf("Local %v, candidate %s", c.Local(), tried[0])
		}
	})
	t.Run("DOCKER_TLS_VERIFY alone takes ~/.docker", func(t *testing.T) {
		env := testEnv(t)
		env.DockerHost, env.DockerTLSVerify = pki.serveTLS(t, "1.41"), "1"
		pki.writeClientFiles(t, filepath.Join(env.Home, ".docker"))
		c, tried, _, err := discover(t, env)
		if err != nil || c.APIVersion() != "1.41" {
			t.Fatalf("Discover = %v, %v, %v", c, sources(tried), err)
		}
	})
	t.Run("missing TLS material is reported, not skipped", func(t *testing.T) {
		env := testEnv(t)
		env.DockerHost = pki.serveTLS(t, "1.41")
		env.DockerTLSVerify, env.DockerCertPath = "1", filepath.Join(env.Root, "certs")
		writeFile(t, filepath.Join(env.DockerCertPath, "ca.pem"), string(pki.caPEM)) // no client key pair
		fakeEngine(t, socketOrder(env)[0].path, "1.40")
		c, tried, _, err := discover(t, env)
		if err != nil {
			t.Fatal(err)
		}
		if got := sources(tried); !slices.Equal(got, []string{"DOCKER_HOST:unreachable", "default socket:usable"}) {
			t.Fatalf("tried %v", got)
		}
		why := tried[0].Err
		if !errors.Is(why, fs.ErrNotExist) || !strings.Contains(why.Error(), "cert.pem") || !strings.Contains(why.Error(), "key.pem") || strings.Contains(why.Error(), "ca.pem") {
			t.Errorf("reason %v: want the missing cert.pem and key.pem named", why)
		}
		if !strings.Contains(tried[0].String(), "TLS 文件缺失") {
			t.Errorf("candidate line %q does not say why", tried[0])
		}
		if c.APIVersion() != "1.40" {
			t.Errorf("answered API %s", c.APIVersion())
		}
	})
	t.Run("certificate from another CA", func(t *testing.T) {
		env := testEnv(t)
		env.DockerHost = pki.serveTLS(t, "1.41")
		env.DockerTLSVerify, env.DockerCertPath = "1", filepath.Join(env.Root, "certs")
		newTestPKI(t).writeClientFiles(t, env.DockerCertPath)
		_, tried, _, err := discover(t, env)
		if !errors.Is(err, containers.ErrNoRuntime) || tried[0].Status != containers.Unreachable || tried[0].Err == nil {
			t.Fatalf("Discover = %v, %v; want the DOCKER_HOST candidate unreachable", sources(tried), err)
		}
	})
	t.Run("TLS daemon without TLS settings", func(t *testing.T) {
		env := testEnv(t)
		env.DockerHost = pki.serveTLS(t, "1.41")
		_, tried, _, err := discover(t, env)
		if !errors.Is(err, containers.ErrNoRuntime) || tried[0].Status != containers.Unreachable || tried[0].TLS {
			t.Fatalf("Discover = %v, %v", sources(tried), err)
		}
	})
	t.Run("context with TLS files", func(t *testing.T) {
		env := testEnv(t)
		host := pki.serveTLS(t, "1.39")
		writeContext(t, env.Home, "secure", host)
		sum := sha256.Sum256([]byte("secure"))
		pki.writeClientFiles(t, filepath.Join(env.Home, ".docker/contexts/tls", hex.EncodeToString(sum[:]), "docker"))
		env.DockerContext = "secure"
		c, tried, _, err := discover(t, env)
		if err != nil || c.APIVersion() != "1.39" || !tried[0].TLS {
			t.Fatalf("Discover = %v, %v, %v", c, sources(tried), err)
		}
	})
}
