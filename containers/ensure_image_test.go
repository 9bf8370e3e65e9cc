package containers

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// fakeImageEngine serves the three calls of ensureImage on a unix socket,
// as a Podman-like engine would: ping, image inspect (404 until pulled,
// then present when pulledImage), and a pull answering with stream. If
// hang is not nil, the pull stops after stream and blocks until hang or
// the request ends.
type fakeImageEngine struct {
	stream      string
	pulledImage bool
	hang        chan struct{}
	pulled      atomic.Bool
}

func (f *fakeImageEngine) start(t *testing.T) *Client {
	t.Helper()
	dir, err := os.MkdirTemp("", "k3fake")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	sock := filepath.Join(dir, "engine.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Api-Version", "1.41")
		switch {
		case r.URL.Path == "/_ping":
			fmt.Fprint(w, "OK")
		case strings.HasSuffix(r.URL.Path, "/json") && strings.Contains(r.URL.Path, "/images/"):
			if f.pulled.Load() && f.pulledImage {
				fmt.Fprint(w, `{"Id":"sha256:5daf3e635449810bc82c69b7271e0e64077e77e2eb6940ac8883c87a3ad5dd2f"}`)
				return
			}
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprint(w, `{"message":"failed to find image: image not known"}`)
		case strings.HasSuffix(r.URL.Path, "/images/create"):
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusOK)
			fmt.Fprint(w, f.stream)
			w.(http.Flusher).Flush()
			if f.hang != nil {
				select {
				case <-f.hang:
				case <-r.Context().Done():
				}
				return
			}
			f.pulled.Store(true)
		default:
			http.NotFound(w, r)
		}
	})}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	c, err := NewClient(ctx, "unix://"+sock, WithLockDir(t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func ensureImageWith(t *testing.T, c *Client) ([]Progress, error) {
	t.Helper()
	var got []Progress
	e := &ensurer{c: c, spec: Spec{Name: "c", Image: "fake.local/k3test/mariadb:1"}, report: func(p Progress) { got = append(got, p) }}
	return got, e.ensureImage(t.Context())
}

// A Podman pull (recorded, see TestDecodeRecordedPodmanPull) goes through
// ensureImage: per-layer progress, then StepPullComplete with every blob
// done once the image is there.
func TestEnsureImagePodman(t *testing.T) {
	stream, err := os.ReadFile("testdata/pull-podman.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	c := (&fakeImageEngine{stream: string(stream), pulledImage: true}).start(t)
	got, err := ensureImageWith(t, c)
	if err != nil {
		t.Fatalf("ensureImage: %v", err)
	}
	if len(got) != 25 || got[0].Step != StepImageCheck || got[1].Step != StepPull {
		t.Fatalf("%d reports, first %v: want image-check, 23 pull messages, pull-complete", len(got), got[:2])
	}
	last := got[len(got)-1]
	if last.Step != StepPullComplete || !last.Aggregate.Complete() || last.Aggregate.Percent() != 100 {
		t.Errorf("last report %v, want StepPullComplete with everything done", last)
	}
}

// TestEnsureImageConfirms: a stream that ends without an error but leaves
// no image behind is a failed pull.
func TestEnsureImageConfirms(t *testing.T) {
	c := (&fakeImageEngine{stream: `{"status":"Pulling fs layer","progressDetail":{},"id":"aaaaaaaaaaaa"}` + "\n"}).start(t)
	got, err := ensureImageWith(t, c)
	var pe *PullError
	if !errors.As(err, &pe) || !strings.Contains(err.Error(), "本地没有该镜像") || pe.Reason != PullOther {
		t.Fatalf("ensureImage = %v, want a *PullError saying the image is not there, Reason PullOther", err)
	}
	for _, p := range got {
		if p.Step == StepPullComplete {
			t.Errorf("StepPullComplete reported for a failed pull")
		}
	}
}

// TestEnsureImageStallsMidStream: a pull whose daemon goes quiet after some
// messages is cancelled after the stall timeout; the messages that came
// keep it alive until then. (TestPullStalls in ensure_test.go has a real
// engine stall before its first message.)
func TestEnsureImageStallsMidStream(t *testing.T) {
	hang := make(chan struct{})
	defer close(hang)
	f := &fakeImageEngine{stream: `{"status":"Pulling fs layer","progressDetail":{},"id":"aaaaaaaaaaaa"}` + "\n", hang: hang}
	c := f.start(t)
	const stall = 300 * time.Millisecond
	c.pullStall = stall
	begin := time.Now()
	got, err := ensureImageWith(t, c)
	took := time.Since(begin)
	var pe *PullError
	if !errors.As(err, &pe) || !errors.Is(err, ErrPullStalled) || !strings.Contains(err.Error(), "停滞") || pe.Reason != PullStalled {
		t.Fatalf("ensureImage = %v, want a *PullError wrapping ErrPullStalled, Reason PullStalled", err)
	}
	if took < stall || took > 10*stall {
		t.Errorf("gave up after %v, want about %v", took, stall)
	}
	if len(got) != 2 || got[1].Step != StepPull {
		t.Errorf("reports %v: want the layer message before the stall", got)
	}
}
