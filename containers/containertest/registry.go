package containertest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// RegistryBinary is Debian's docker-registry (package docker-registry).
const RegistryBinary = "/usr/bin/docker-registry"

// Registry is a Docker registry (distribution 2.x) serving on 127.0.0.1,
// started for one test and killed at its cleanup, with its storage in the
// test's temp dir. The Docker Engine treats 127.0.0.0/8 registries as
// insecure-allowed, so it pulls from it over plain HTTP.
type Registry struct {
	Addr string // host:port, e.g. 127.0.0.1:40123; image references start with it
}

// StartRegistry starts a registry for tb. It skips (or fails under
// K3_TEST_REQUIRE=all) when no Docker Engine answers or docker-registry is
// not installed.
func StartRegistry(tb testing.TB) *Registry {
	tb.Helper()
	return startRegistryFor(tb, false)
}

// StartLockedRegistry starts a registry for tb that refuses every request:
// it requires basic authentication and knows no user, so any pull from it
// fails as unauthorized, and nothing can be pushed to it. It skips as
// StartRegistry does.
func StartLockedRegistry(tb testing.TB) *Registry {
	tb.Helper()
	return startRegistryFor(tb, true)
}

func startRegistryFor(tb testing.TB, locked bool) *Registry {
	tb.Helper()
	Docker(tb) // a registry is of no use without an engine to pull from it
	bin, err := exec.LookPath(RegistryBinary)
	Need(tb, "docker-registry (Debian package docker-registry)", err)
	dir := tb.TempDir()
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		addr := "127.0.0.1:" + strconv.Itoa(FreePort(tb))
		r, err := startRegistry(tb, bin, dir, addr, locked)
		if err == nil {
			return r
		}
		lastErr = err // most likely the port was taken in between: try another
	}
	tb.Fatalf("start docker-registry: %v", lastErr)
	return nil
}

func startRegistry(tb testing.TB, bin, dir, addr string, locked bool) (*Registry, error) {
	storage := filepath.Join(dir, "storage-"+randomHex(3))
	auth := ""
	if locked {
		users := filepath.Join(dir, "htpasswd-"+randomHex(3))
		if err := os.WriteFile(users, nil, 0o644); err != nil {
			return nil, err
		}
		auth = fmt.Sprintf("auth:\n  htpasswd:\n    realm: k3test\n    path: %s\n", users)
	}
	cfg := fmt.Sprintf(`version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: %s
  delete:
    enabled: true
http:
  addr: %s
%s`, storage, addr, auth)
	cfgPath := filepath.Join(dir, "config-"+randomHex(3)+".yml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		return nil, err
	}
	logPath := cfgPath + ".log"
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer logf.Close()
	cmd := exec.Command(bin, "serve", cfgPath)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	stop := func() {
		_ = cmd.Process.Kill()
		<-exited
	}

	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/v2/", nil)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK || locked && resp.StatusCode == http.StatusUnauthorized {
				break
			}
		}
		select {
		case err := <-exited:
			out, _ := os.ReadFile(logPath)
			return nil, fmt.Errorf("docker-registry on %s exited: %v: %s", addr, err, out)
		case <-ctx.Done():
			stop()
			out, _ := os.ReadFile(logPath)
			return nil, fmt.Errorf("docker-registry on %s did not answer: %v: %s", addr, ctx.Err(), out)
		case <-tick.C:
		}
	}
	tb.Cleanup(stop)
	return &Registry{Addr: addr}, nil
}

// Docker image media types (schema 2), understood by every Docker Engine.
const (
	mediaManifest = "application/vnd.docker.distribution.manifest.v2+json"
	mediaConfig   = "application/vnd.docker.container.image.v1+json"
	mediaLayer    = "application/vnd.docker.image.rootfs.diff.tar.gzip"
)

type descriptor struct {
	MediaType string `json:"mediaType"`
	Size      int64  `json:"size"`
	Digest    string `json:"digest"`
}

// pushBlob uploads one blob (monolithic upload) unless the registry has it.
func (r *Registry) pushBlob(ctx context.Context, repo, digest string, size int64, body func() io.Reader) error {
	base := "http://" + r.Addr + "/v2/" + repo + "/blobs/"
	if req, _ := http.NewRequestWithContext(ctx, http.MethodHead, base+digest, nil); req != nil {
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
	}
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, base+"uploads/", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		return fmt.Errorf("start upload of %s: %s", digest, resp.Status)
	}
	loc, err := resp.Location()
	if err != nil {
		return fmt.Errorf("start upload of %s: %w", digest, err)
	}
	q := loc.Query()
	q.Set("digest", digest)
	loc.RawQuery = q.Encode()
	req, _ = http.NewRequestWithContext(ctx, http.MethodPut, loc.String(), body())
	req.ContentLength = size
	req.Header.Set("Content-Type", "application/octet-stream")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	msg, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		return fmt.Errorf("upload %s: %s: %s", digest, resp.Status, msg)
	}
	return nil
}

// push uploads img under repo:tag and returns its reference.
func (r *Registry) push(ctx context.Context, repo, tag string, layers []builtLayer, config []byte) (string, error) {
	var m struct {
		SchemaVersion int          `json:"schemaVersion"`
		MediaType     string       `json:"mediaType"`
		Config        descriptor   `json:"config"`
		Layers        []descriptor `json:"layers"`
	}
	m.SchemaVersion, m.MediaType = 2, mediaManifest
	for _, l := range layers {
		if err := r.pushBlob(ctx, repo, l.digest, l.size, l.body); err != nil {
			return "", err
		}
		m.Layers = append(m.Layers, descriptor{MediaType: mediaLayer, Size: l.size, Digest: l.digest})
	}
	sum := sha256.Sum256(config)
	cfgDigest := "sha256:" + hex.EncodeToString(sum[:])
	if err := r.pushBlob(ctx, repo, cfgDigest, int64(len(config)), func() io.Reader { return bytes.NewReader(config) }); err != nil {
		return "", err
	}
	m.Config = descriptor{MediaType: mediaConfig, Size: int64(len(config)), Digest: cfgDigest}
	manifest, err := json.Marshal(m)
	if err != nil {
		return "", err
	}
	u := "http://" + r.Addr + "/v2/" + repo + "/manifests/" + url.PathEscape(tag)
	req, _ := http.NewRequestWithContext(ctx, http.MethodPut, u, bytes.NewReader(manifest))
	req.Header.Set("Content-Type", mediaManifest)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	msg, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		return "", fmt.Errorf("put manifest %s:%s: %s: %s", repo, tag, resp.Status, msg)
	}
	return r.Addr + "/" + repo + ":" + tag, nil
}
