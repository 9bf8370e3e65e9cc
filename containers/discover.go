package containers

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/docker/go-connections/tlsconfig"
)

// Env is what Discover looks at: the process environment and the places
// sockets live. EnvFromOS fills it from this process; tests build their own.
type Env struct {
	DockerHost    string // $DOCKER_HOST
	DockerContext string // $DOCKER_CONTEXT
	Home          string // home directory (~/.docker, ~/.colima)
	XDGRuntimeDir string // $XDG_RUNTIME_DIR (rootless Docker, Podman)
	// DockerTLSVerify ($DOCKER_TLS_VERIFY) and DockerCertPath
	// ($DOCKER_CERT_PATH) make a tcp:// DockerHost speak TLS, as with the
	// Docker CLI: either set means TLS with DockerCertPath's ca.pem,
	// cert.pem and key.pem (default ~/.docker); DockerTLSVerify non-empty
	// (any value) also verifies the daemon's certificate against ca.pem.
	DockerTLSVerify string
	DockerCertPath  string
	// Root prefixes the absolute system paths (/var/run/docker.sock,
	// /run/podman/podman.sock, /run/containerd/containerd.sock,
	// /var/run/crio/crio.sock). "" in production; a temp dir in tests.
	Root string
}

// EnvFromOS reads Env from this process's environment.
func EnvFromOS() Env {
	home, _ := os.UserHomeDir()
	return Env{
		DockerHost:      os.Getenv("DOCKER_HOST"),
		DockerContext:   os.Getenv("DOCKER_CONTEXT"),
		Home:            home,
		XDGRuntimeDir:   os.Getenv("XDG_RUNTIME_DIR"),
		DockerTLSVerify: os.Getenv("DOCKER_TLS_VERIFY"),
		DockerCertPath:  os.Getenv("DOCKER_CERT_PATH"),
	}
}

// CandidateStatus is the verdict on one runtime candidate.
type CandidateStatus int

const (
	Usable      CandidateStatus = iota + 1 // answered a ping as a Docker Engine API
	Absent                                 // no socket or endpoint there
	Unreachable                            // present, but the ping failed (see Err)
	NoDockerAPI                            // a runtime without a Docker-compatible API (containerd, CRI-O)
)

func (s CandidateStatus) String() string {
	switch s {
	case Usable:
		return txtUsable
	case Absent:
		return txtAbsent
	case Unreachable:
		return txtUnreachable
	case NoDockerAPI:
		return txtNoDockerAPI
	}
	return fmt.Sprintf("status(%d)", int(s))
}

// Candidate is one place Discover looked for a runtime.
type Candidate struct {
	// Source says where the address came from: "DOCKER_HOST",
	// "docker context <name>", "default socket", "rootless",
	// "docker desktop", "podman", "colima", "containerd" or "cri-o".
	Source     string
	Address    string // unix:///path or tcp://host:port
	Status     CandidateStatus
	Err        error  // why it is not usable (nil when Usable or Absent)
	APIVersion string // the negotiated API version when Usable
	// TLS: the candidate is spoken to over TLS (DOCKER_TLS_VERIFY or
	// DOCKER_CERT_PATH with a tcp DOCKER_HOST, or a context's TLS files).
	TLS bool

	tls tlsMaterial
}

// tlsMaterial says where a candidate's TLS files are.
type tlsMaterial struct {
	dir    string // holds ca.pem, cert.pem, key.pem
	verify bool   // verify the daemon's certificate
	// strict: the files named by the environment must all be there (as
	// the Docker SDK requires); a context's are used as far as present.
	strict bool
}

// String renders the candidate for a log line.
func (c Candidate) String() string {
	s := fmt.Sprintf(txtCandidate, c.Source, c.Address, c.Status)
	if c.TLS {
		s += txtCandidateTLS
	}
	if c.APIVersion != "" {
		s += fmt.Sprintf(txtCandidateAPI, c.APIVersion)
	}
	if c.Err != nil {
		s += fmt.Sprintf(txtCandidateErr, c.Err)
	}
	return s
}

// Discover looks for a container runtime with a Docker-compatible API, in
// this order: $DOCKER_HOST; the Docker CLI's current context ($DOCKER_CONTEXT,
// else currentContext in ~/.docker/config.json; "default" means the default
// socket); /var/run/docker.sock; $XDG_RUNTIME_DIR/docker.sock;
// ~/.docker/run/docker.sock; ~/.docker/desktop/docker.sock;
// $XDG_RUNTIME_DIR/podman/podman.sock; /run/podman/podman.sock;
// ~/.colima/default/docker.sock. Each candidate that exists is verified with
// a ping (PingTimeout); the first that answers is returned as a Client built
// with opts. Identical addresses are tried once. When nothing answers, the
// containerd and CRI-O sockets are looked at too, to be reported as present
// but without a Docker API, and the error is a *NoRuntimeError (matching
// ErrNoRuntime) listing everything tried.
//
// A tcp DOCKER_HOST is spoken to over TLS when DOCKER_TLS_VERIFY or
// DOCKER_CERT_PATH is set (see Env), and a tcp context over TLS when the
// CLI stored TLS files for it; TLS files that the environment names but
// that are missing make the candidate Unreachable, with the reason, rather
// than letting a later socket win unexplained.
//
// The returned client may talk to a daemon on another machine (a tcp
// DOCKER_HOST or context): check Client.Local before provisioning.
//
// report, if not nil, is called with each candidate once its verdict is
// known, in order. The returned slice holds the same candidates.
func Discover(ctx context.Context, env Env, report func(Candidate), opts ...Option) (*Client, []Candidate, error) {
	var tried []Candidate
	seen := map[string]bool{}
	add := func(c Candidate) {
		tried = append(tried, c)
		if report != nil {
			report(c)
		}
	}
	for _, c := range dockerCandidates(env) {
		if c.Status == 0 && seen[c.Address] {
			continue
		}
		if c.Status != 0 { // decided while listing (unreadable context)
			add(c)
			continue
		}
		seen[c.Address] = true
		if path, ok := strings.CutPrefix(c.Address, "unix://"); ok {
			if st, err := os.Stat(path); err != nil {
				c.Status = Absent
				if !errors.Is(err, fs.ErrNotExist) {
					c.Status, c.Err = Unreachable, err
				}
				add(c)
				continue
			} else if st.Mode()&fs.ModeSocket == 0 {
				c.Status, c.Err = Unreachable, fmt.Errorf(errNotSocket, path)
				add(c)
				continue
			}
		}
		copts := opts
		if c.TLS {
			cfg, err := c.tls.config()
			if err != nil {
				c.Status, c.Err = Unreachable, err
				add(c)
				continue
			}
			copts = append(slices.Clone(opts), WithTLSConfig(cfg))
		}
		cli, err := NewClient(ctx, c.Address, copts...)
		if err != nil {
			c.Status, c.Err = Unreachable, err
			if errors.Is(err, errNoDockerAPI) {
				c.Status = NoDockerAPI
			}
			add(c)
			if ctx.Err() != nil {
				return nil, tried, fmt.Errorf(errDiscover, ctx.Err())
			}
			continue
		}
		c.Status, c.APIVersion = Usable, cli.APIVersion()
		add(c)
		return cli, tried, nil
	}
	for _, c := range []Candidate{
		{Source: "containerd", Address: "unix://" + filepath.Join(env.Root, "/run/containerd/containerd.sock")},
		{Source: "cri-o", Address: "unix://" + filepath.Join(env.Root, "/var/run/crio/crio.sock")},
	} {
		c.Status = Absent
		if _, err := os.Stat(strings.TrimPrefix(c.Address, "unix://")); err == nil {
			c.Status, c.Err = NoDockerAPI, fmt.Errorf(errCRI, c.Source)
		}
		add(c)
	}
	return nil, tried, &NoRuntimeError{Tried: tried}
}

// dockerCandidates lists the Docker-API candidates in discovery order. A
// candidate with a non-zero Status was already judged (a broken context).
func dockerCandidates(env Env) []Candidate {
	var out []Candidate
	sock := func(source, path string) {
		out = append(out, Candidate{Source: source, Address: "unix://" + path})
	}
	if env.DockerHost != "" {
		c := Candidate{Source: "DOCKER_HOST", Address: env.DockerHost}
		if strings.HasPrefix(env.DockerHost, "tcp://") && (env.DockerTLSVerify != "" || env.DockerCertPath != "") {
			dir := env.DockerCertPath
			if dir == "" {
				dir = filepath.Join(env.Home, ".docker")
			}
			c.TLS, c.tls = true, tlsMaterial{dir: dir, verify: env.DockerTLSVerify != "", strict: true}
		}
		out = append(out, c)
	}
	if c, ok := contextCandidate(env); ok {
		out = append(out, c)
	}
	sock("default socket", filepath.Join(env.Root, "/var/run/docker.sock"))
	if env.XDGRuntimeDir != "" {
		sock("rootless", filepath.Join(env.XDGRuntimeDir, "docker.sock"))
	}
	if env.Home != "" {
		sock("docker desktop", filepath.Join(env.Home, ".docker/run/docker.sock"))
		sock("docker desktop", filepath.Join(env.Home, ".docker/desktop/docker.sock"))
	}
	if env.XDGRuntimeDir != "" {
		sock("podman", filepath.Join(env.XDGRuntimeDir, "podman/podman.sock"))
	}
	sock("podman", filepath.Join(env.Root, "/run/podman/podman.sock"))
	if env.Home != "" {
		sock("colima", filepath.Join(env.Home, ".colima/default/docker.sock"))
	}
	return out
}

// contextCandidate resolves the Docker CLI's current context. ok is false
// when no context other than "default" is selected.
func contextCandidate(env Env) (Candidate, bool) {
	name := env.DockerContext
	if name == "" && env.Home != "" {
		data, err := os.ReadFile(filepath.Join(env.Home, ".docker/config.json"))
		if err == nil {
			var cfg struct {
				CurrentContext string `json:"currentContext"`
			}
			if err := json.Unmarshal(data, &cfg); err != nil {
				return Candidate{Source: "docker context", Address: filepath.Join(env.Home, ".docker/config.json"),
					Status: Unreachable, Err: fmt.Errorf(errReadCLIConfig, err)}, true
			}
			name = cfg.CurrentContext
		}
	}
	if name == "" || name == "default" {
		return Candidate{}, false
	}
	c := Candidate{Source: "docker context " + name}
	sum := sha256.Sum256([]byte(name))
	meta := filepath.Join(env.Home, ".docker/contexts/meta", hex.EncodeToString(sum[:]), "meta.json")
	data, err := os.ReadFile(meta)
	if err != nil {
		c.Address, c.Status, c.Err = meta, Absent, fmt.Errorf(errContext, name, err)
		return c, true
	}
	var m struct {
		Endpoints map[string]struct {
			Host          string `json:"Host"`
			SkipTLSVerify bool   `json:"SkipTLSVerify"`
		} `json:"Endpoints"`
	}
	if err := json.Unmarshal(data, &m); err != nil || m.Endpoints["docker"].Host == "" {
		if err == nil {
			err = errors.New(txtNoEndpointHost)
		}
		c.Address, c.Status, c.Err = meta, Unreachable, fmt.Errorf(errContext, name, err)
		return c, true
	}
	ep := m.Endpoints["docker"]
	c.Address = ep.Host
	// The CLI keeps a context's TLS files beside its metadata.
	dir := filepath.Join(env.Home, ".docker/contexts/tls", hex.EncodeToString(sum[:]), "docker")
	if st, err := os.Stat(dir); err == nil && st.IsDir() && strings.HasPrefix(c.Address, "tcp://") {
		c.TLS, c.tls = true, tlsMaterial{dir: dir, verify: !ep.SkipTLSVerify}
	}
	return c, true
}

// config loads the TLS files. Missing files the environment asked for are
// an error naming them, so that the candidate is reported Unreachable with
// the reason instead of failing a handshake.
func (m tlsMaterial) config() (*tls.Config, error) {
	ca, cert, key := filepath.Join(m.dir, "ca.pem"), filepath.Join(m.dir, "cert.pem"), filepath.Join(m.dir, "key.pem")
	exists := func(p string) bool { _, err := os.Stat(p); return err == nil }
	var missing []string
	if m.strict {
		want := []string{cert, key}
		if m.verify {
			want = append([]string{ca}, want...)
		}
		for _, p := range want {
			if !exists(p) {
				missing = append(missing, p)
			}
		}
		if len(missing) > 0 {
			return nil, fmt.Errorf(errTLSMissing, m.dir, strings.Join(missing, ", "), fs.ErrNotExist)
		}
	}
	opts := tlsconfig.Options{InsecureSkipVerify: !m.verify, ExclusiveRootPools: true}
	if exists(ca) {
		opts.CAFile = ca
	}
	if exists(cert) && exists(key) {
		opts.CertFile, opts.KeyFile = cert, key
	}
	cfg, err := tlsconfig.Client(opts)
	if err != nil {
		return nil, fmt.Errorf(errTLSMaterial, m.dir, err)
	}
	return cfg, nil
}
