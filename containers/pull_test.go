package containers

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/client"
)

// testdata/pull-fresh.jsonl is the stream Docker Engine 20.10 sent for a
// fresh pull of the four-layer test MariaDB image from a loopback registry.
// Small layers go from "Pulling fs layer" to "Download complete" without any
// "Downloading" message; their size shows up only while extracting.
func TestDecodeRecordedPull(t *testing.T) {
	f, err := os.Open("testdata/pull-fresh.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var got []Progress
	base := Progress{Container: "c", Image: "img"}
	totals, err := decodePull(f, func(p Progress) { got = append(got, p) }, base)
	if err != nil {
		t.Fatalf("decodePull: %v", err)
	}
	// Layer sizes as the stream gives them (Downloading/Extracting totals).
	sizes := map[string]int64{"ef93d12216c0": 1150207, "706878fa0450": 7298049, "df9e0673bfc6": 9458213, "e2a248befb90": 75396}
	var sum int64
	for _, s := range sizes {
		sum += s
	}
	if totals.Layers != 4 || totals.LayersDone != 4 || totals.Unknown != 0 || !totals.Complete() {
		t.Errorf("totals = %+v, want 4 of 4 layers done, none unknown", totals)
	}
	if totals.Total != sum || totals.Current != sum || totals.Percent() != 100 {
		t.Errorf("totals bytes = %d/%d (%.1f%%), want %d/%d", totals.Current, totals.Total, totals.Percent(), sum, sum)
	}
	var prev PullTotals
	seen := map[string]bool{}
	for i, p := range got {
		if p.Step != StepPull || p.Container != "c" || p.Image != "img" {
			t.Fatalf("report %d = %+v: want StepPull for c/img", i, p)
		}
		if _, ok := sizes[p.Layer]; !ok {
			t.Fatalf("report %d names layer %q, not one of the image's (the tag line is not a layer)", i, p.Layer)
		}
		seen[p.Layer] = true
		a := p.Aggregate
		if a.Current < prev.Current || a.LayersDone < prev.LayersDone || a.Layers < prev.Layers {
			t.Errorf("report %d: aggregate went back from %+v to %+v", i, prev, a)
		}
		if a.Total > 0 && a.Current > a.Total {
			t.Errorf("report %d: aggregate %d of %d bytes", i, a.Current, a.Total)
		}
		if p.Status == "Downloading" && (p.Total <= 0 || p.Current <= 0 || p.Current > p.Total) {
			t.Errorf("report %d: Downloading %d/%d", i, p.Current, p.Total)
		}
		prev = a
	}
	if len(seen) != 4 {
		t.Errorf("layers reported: %v, want 4", seen)
	}
	if last := got[len(got)-1]; last.Status != "Pull complete" || !last.Aggregate.Complete() {
		t.Errorf("last report = %+v, want the last Pull complete with all layers done", last)
	}
	// While the biggest layer downloaded, the smallest one's size was still
	// unknown (it never sends Downloading): the percentage must say unknown
	// rather than a wrong number.
	for _, p := range got {
		if p.Layer == "df9e0673bfc6" && p.Status == "Downloading" {
			if p.Aggregate.Unknown == 0 || p.Aggregate.Percent() != -1 {
				t.Errorf("aggregate %+v during the download should have an unknown size", p.Aggregate)
			}
			break
		}
	}
}

func TestDecodePullAlreadyExists(t *testing.T) {
	stream := `{"status":"Pulling from library/mysql","id":"8.0"}
{"status":"Already exists","progressDetail":{},"id":"aaaaaaaaaaaa"}
{"status":"Pulling fs layer","progressDetail":{},"id":"bbbbbbbbbbbb"}
{"status":"Downloading","progressDetail":{"current":100,"total":400},"id":"bbbbbbbbbbbb"}
{"status":"Downloading","progressDetail":{"current":400,"total":400},"id":"bbbbbbbbbbbb"}
{"status":"Download complete","progressDetail":{},"id":"bbbbbbbbbbbb"}
{"status":"Extracting","progressDetail":{"current":400,"total":400},"id":"bbbbbbbbbbbb"}
{"status":"Pull complete","progressDetail":{},"id":"bbbbbbbbbbbb"}
{"status":"Digest: sha256:0000"}
{"status":"Status: Downloaded newer image for mysql:8.0"}
`
	var got []Progress
	totals, err := decodePull(strings.NewReader(stream), func(p Progress) { got = append(got, p) }, Progress{})
	if err != nil {
		t.Fatal(err)
	}
	if totals != (PullTotals{Layers: 2, LayersDone: 2, Current: 400, Total: 400}) {
		t.Errorf("totals = %+v", totals)
	}
	if len(got) != 7 || got[0].Status != "Already exists" || got[0].Aggregate.LayersDone != 1 {
		t.Errorf("reports = %+v", got)
	}
	if a := got[2].Aggregate; a.Current != 100 || a.Total != 400 || a.Percent() != 25 {
		t.Errorf("aggregate after first Downloading = %+v", a)
	}
}

func TestDecodePullFailures(t *testing.T) {
	tests := []struct {
		name, stream, want string
	}{
		{"errorDetail mid-stream", `{"status":"Pulling fs layer","progressDetail":{},"id":"aaaaaaaaaaaa"}
{"status":"Downloading","progressDetail":{"current":1,"total":9},"id":"aaaaaaaaaaaa"}
{"errorDetail":{"message":"layers from manifest don't match image configuration"},"error":"layers from manifest don't match image configuration"}
{"status":"Pull complete","progressDetail":{},"id":"aaaaaaaaaaaa"}
`, "layers from manifest don't match image configuration"},
		{"bare error field", `{"error":"toomanyrequests"}`, "toomanyrequests"},
		{"garbage", `{"status":"Pulling fs layer","id":"a"}` + "\n<html>", "读取拉取进度"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := 0
			_, err := decodePull(strings.NewReader(tt.stream), func(Progress) { n++ }, Progress{})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want one saying %q", err, tt.want)
			}
		})
	}
}

// testdata/pull-podman.jsonl is the stream Podman 4.3.1's Docker-compatible
// API (podman system service) sent for a fresh pull of the four-layer test
// MariaDB image from a loopback registry behind a throttling proxy. Layers
// end with "Download complete", never "Pull complete"; the image config is
// announced like a layer, and the last message repeats its "Download
// complete" under the image ID.
func TestDecodeRecordedPodmanPull(t *testing.T) {
	f, err := os.Open("testdata/pull-podman.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var got []Progress
	totals, err := decodePull(f, func(p Progress) { got = append(got, p) }, Progress{Container: "c", Image: "img"})
	if err != nil {
		t.Fatalf("decodePull: %v", err)
	}
	// The two big layers show their sizes while downloading; the two
	// small ones and the config blob never do.
	const big = 9458212 + 7298049
	if totals.Layers != 5 || totals.LayersDone != 5 || !totals.Complete() || totals.Unknown != 0 {
		t.Errorf("totals = %+v, want 5 of 5 blobs done", totals)
	}
	if totals.Total != big || totals.Current != big || totals.Percent() != 100 {
		t.Errorf("totals bytes = %d/%d, want %d/%d", totals.Current, totals.Total, big, big)
	}
	var prev PullTotals
	downloading := 0
	for i, p := range got {
		if p.Step != StepPull || p.Layer == "" {
			t.Fatalf("report %d = %+v", i, p)
		}
		a := p.Aggregate
		if a.Current < prev.Current || a.Layers < prev.Layers {
			t.Errorf("report %d: aggregate went back from %+v to %+v", i, prev, a)
		}
		if p.Status == "Downloading" {
			downloading++
			if p.Total <= 0 || p.Current <= 0 || p.Current > p.Total {
				t.Errorf("report %d: Downloading %d/%d", i, p.Current, p.Total)
			}
		}
		prev = a
	}
	if downloading != 12 || len(got) != 23 {
		t.Errorf("%d reports, %d Downloading; want every one of the 23 messages, 12 Downloading", len(got), downloading)
	}
	if a := got[len(got)-1].Aggregate; a.Complete() {
		t.Errorf("the stream alone never says a Podman layer is extracted: %+v", a)
	}
}

// Newer Podman versions, or images whose config the engine does not report
// as a blob, end with a "Download complete" for the image ID that no
// "Pulling fs layer" announced: it is not a layer.
func TestDecodePodmanImageSummaryIsNotALayer(t *testing.T) {
	stream := `{"status":"Pulling fs layer","progressDetail":{},"id":"aaaaaaaaaaaa"}
{"status":"Downloading","progressDetail":{"current":50,"total":100},"progress":"[==>  ]","id":"aaaaaaaaaaaa"}
{"status":"Download complete","progressDetail":{},"id":"aaaaaaaaaaaa"}
{"status":"Already exists","progressDetail":{},"id":"bbbbbbbbbbbb"}
{"status":"Download complete","progressDetail":{},"id":"1234567890ab"}
`
	var layers []string
	totals, err := decodePull(strings.NewReader(stream), func(p Progress) { layers = append(layers, p.Layer) }, Progress{})
	if err != nil {
		t.Fatal(err)
	}
	if slices.Contains(layers, "1234567890ab") {
		t.Errorf("the image ID was reported as a layer: %v", layers)
	}
	if totals != (PullTotals{Layers: 2, LayersDone: 2, Current: 100, Total: 100}) {
		t.Errorf("totals = %+v", totals)
	}
}

// A stream that ends cleanly is a success, however far its layers got: the
// caller checks that the image is there (see TestEnsureImageConfirms).
func TestDecodePullEndsWithoutError(t *testing.T) {
	stream := `{"status":"Pulling fs layer","progressDetail":{},"id":"aaaaaaaaaaaa"}
{"status":"Downloading","progressDetail":{"current":1,"total":9},"id":"aaaaaaaaaaaa"}
`
	totals, err := decodePull(strings.NewReader(stream), func(Progress) {}, Progress{})
	if err != nil || !totals.Complete() || totals.Current != 9 {
		t.Errorf("decodePull = %+v, %v; want a success counting the layer done", totals, err)
	}
}

// Every layer message of the recorded Docker and Podman streams decodes to
// a known phase, the one its status names.
func TestRecordedPullPhases(t *testing.T) {
	want := map[string]LayerPhase{
		"Pulling fs layer":   PhaseWaiting,
		"Waiting":            PhaseWaiting,
		"Downloading":        PhaseDownloading,
		"Verifying Checksum": PhaseVerifying,
		"Download complete":  PhaseDownloaded,
		"Extracting":         PhaseExtracting,
		"Pull complete":      PhaseComplete,
		"Already exists":     PhaseExists,
	}
	for _, file := range []string{"testdata/pull-fresh.jsonl", "testdata/pull-podman.jsonl"} {
		t.Run(file, func(t *testing.T) {
			f, err := os.Open(file)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			seen := map[LayerPhase]int{}
			_, err = decodePull(f, func(p Progress) {
				seen[p.Phase]++
				if w, ok := want[p.Status]; p.Phase == PhaseUnknown || !ok || p.Phase != w {
					t.Errorf("layer %s status %q: phase %v, want %v", p.Layer, p.Status, p.Phase, w)
				}
			}, Progress{})
			if err != nil {
				t.Fatal(err)
			}
			if seen[PhaseWaiting] == 0 || seen[PhaseDownloading] == 0 || seen[PhaseDownloaded] == 0 {
				t.Errorf("phases seen %v: want at least waiting, downloading and downloaded", seen)
			}
		})
	}
}

func TestLayerPhase(t *testing.T) {
	tests := []struct {
		status string
		phase  LayerPhase
		name   string
		done   bool
	}{
		{"Pulling fs layer", PhaseWaiting, "waiting", false},
		{"Waiting", PhaseWaiting, "waiting", false},
		{"Downloading", PhaseDownloading, "downloading", false},
		{"Verifying Checksum", PhaseVerifying, "verifying", false},
		{"Download complete", PhaseDownloaded, "downloaded", false},
		{"Extracting", PhaseExtracting, "extracting", false},
		{"Pull complete", PhaseComplete, "complete", true},
		{"Already exists", PhaseExists, "exists", true},
		{"Retrying in 5 seconds", PhaseUnknown, "unknown", false},
		{"pull complete", PhaseUnknown, "unknown", false},
		{"", PhaseUnknown, "unknown", false},
	}
	for _, tt := range tests {
		got := phaseOf(tt.status)
		if got != tt.phase || got.String() != tt.name || got.Done() != tt.done {
			t.Errorf("phaseOf(%q) = %v (done %v), want %v (done %v)", tt.status, got, got.Done(), tt.name, tt.done)
		}
	}
	if s := LayerPhase(42).String(); s != "phase(42)" {
		t.Errorf("out-of-range phase = %q", s)
	}
}

// A status this package does not know is reported with PhaseUnknown and
// does not disturb the layer's progress.
func TestDecodePullUnknownStatus(t *testing.T) {
	stream := `{"status":"Pulling fs layer","progressDetail":{},"id":"aaaaaaaaaaaa"}
{"status":"Downloading","progressDetail":{"current":3,"total":9},"id":"aaaaaaaaaaaa"}
{"status":"Retrying in 5 seconds","progressDetail":{},"id":"aaaaaaaaaaaa"}
{"status":"Downloading","progressDetail":{"current":9,"total":9},"id":"aaaaaaaaaaaa"}
{"status":"Pull complete","progressDetail":{},"id":"aaaaaaaaaaaa"}
`
	var got []Progress
	totals, err := decodePull(strings.NewReader(stream), func(p Progress) { got = append(got, p) }, Progress{})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 5 || got[2].Phase != PhaseUnknown || got[2].Status != "Retrying in 5 seconds" || got[2].Aggregate.Current != 3 {
		t.Errorf("reports %+v: want the retry reported with PhaseUnknown, progress kept", got)
	}
	if got[4].Phase != PhaseComplete || totals != (PullTotals{Layers: 1, LayersDone: 1, Current: 9, Total: 9}) {
		t.Errorf("last %v, totals %+v", got[4].Phase, totals)
	}
}

// TestClassifyPull: the errdefs types decide where the daemon gives them;
// otherwise the daemon's text (a 5xx answer, an errorDetail in the stream),
// as Docker 20.10 (recorded), newer Docker and Podman word it. Text that
// did not come from the daemon is never read.
func TestClassifyPull(t *testing.T) {
	daemon := func(msg string) error { // a 500 answer, as the SDK returns it
		return fmt.Errorf("Error response from daemon: %s: %w", msg, cerrdefs.ErrInternal)
	}
	stream := func(msg string) error {
		_, err := decodePull(strings.NewReader(`{"errorDetail":{"message":`+fmt.Sprintf("%q", msg)+`}}`), func(Progress) {}, Progress{})
		return err
	}
	_, unreadable := decodePull(strings.NewReader("<html>connection refused</html>"), func(Progress) {}, Progress{})
	tests := []struct {
		name string
		err  error
		want PullFailure
	}{
		{"stall timeout", fmt.Errorf("%w: no message from the daemon for 1m0s", ErrPullStalled), PullStalled},
		{"caller's deadline", fmt.Errorf("%w: %w", context.DeadlineExceeded, errors.New("request canceled")), PullStalled},
		{"caller cancelled", fmt.Errorf("%w: %w", context.Canceled, daemon(`Get "http://127.0.0.1:1/v2/": dial tcp 127.0.0.1:1: connect: connection refused`)), PullOther},
		{"typed not found", fmt.Errorf("manifest for x:y not found: manifest unknown: %w", cerrdefs.ErrNotFound), PullNotFound},
		{"typed unauthorized", fmt.Errorf("x: %w", cerrdefs.ErrUnauthenticated), PullUnauthorized},
		{"typed permission denied", fmt.Errorf("x: %w", cerrdefs.ErrPermissionDenied), PullUnauthorized},
		{"typed unavailable", fmt.Errorf("x: %w", cerrdefs.ErrUnavailable), PullRegistryUnreachable},
		{"docker 20.10 connection refused", daemon(`Get "http://127.0.0.1:27099/v2/": dial tcp 127.0.0.1:27099: connect: connection refused`), PullRegistryUnreachable},
		{"docker 20.10 no such host", daemon(`Get "https://nosuchhost.invalid/v2/": dial tcp: lookup nosuchhost.invalid on 127.0.0.53:53: no such host`), PullRegistryUnreachable},
		{"docker 20.10 no credentials", daemon(`Head "http://127.0.0.1:15111/v2/k3test/etcd/manifests/none": no basic auth credentials`), PullUnauthorized},
		{"tls handshake timeout", daemon(`Get "https://registry.example/v2/": net/http: TLS handshake timeout`), PullRegistryUnreachable},
		{"unknown certificate", daemon(`Get "https://registry.example/v2/": x509: certificate signed by unknown authority`), PullRegistryUnreachable},
		{"plain http registry", daemon(`Get "https://127.0.0.1:5000/v2/": http: server gave HTTP response to HTTPS client`), PullRegistryUnreachable},
		{"awaiting headers", daemon(`Get "https://registry.example/v2/": net/http: request canceled (Client.Timeout exceeded while awaiting headers)`), PullStalled},
		{"hub: repository does not exist", daemon(`pull access denied for k3/none, repository does not exist or may require 'docker login': denied: requested access to the resource is denied`), PullNotFound},
		{"authentication required", daemon(`unauthorized: authentication required`), PullUnauthorized},
		{"local permission denied", daemon(`open /var/lib/docker/tmp/GetImageBlob1: permission denied`), PullOther},
		{"disk full", daemon(`write /var/lib/docker/tmp/x: no space left on device`), PullOther},
		{"podman refused", stream(`initializing source docker://127.0.0.1:1/x:y: pinging container registry 127.0.0.1:1: Get "https://127.0.0.1:1/v2/": dial tcp 127.0.0.1:1: connect: connection refused`), PullRegistryUnreachable},
		{"podman manifest unknown", stream(`reading manifest none in 127.0.0.1:5000/k3test/etcd: manifest unknown`), PullNotFound},
		{"stream: repository unknown", stream(`name unknown: repository name not known to registry`), PullNotFound},
		{"stream: broken image", stream(`layers from manifest don't match image configuration`), PullOther},
		{"stream: read timeout", stream(`read tcp 127.0.0.1:40000->127.0.0.1:5000: i/o timeout`), PullStalled},
		{"daemon connection failed", fmt.Errorf("x: %w", client.ErrorConnectionFailed("unix:///var/run/docker.sock")), PullOther},
		{"client-side text is not read", errors.New(`dial unix /var/run/docker.sock: connect: connection refused`), PullOther},
		{"stream: unrecognised text", stream("something else went wrong"), PullOther},
		{"unreadable stream", unreadable, PullOther},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.err == nil {
				t.Fatal("no error to classify")
			}
			if got := classifyPull(tt.err); got != tt.want {
				t.Errorf("classifyPull(%v) = %v, want %v", tt.err, got, tt.want)
			}
		})
	}
}

func TestPullFailureTexts(t *testing.T) {
	names, texts := map[string]bool{}, map[string]bool{}
	for f := PullOther; f <= PullStalled; f++ {
		name, text := f.String(), f.Description()
		if name == "" || text == "" || names[name] || texts[text] || strings.ContainsAny(name, " _ABCDEFGHIJKLMNOPQRSTUVWXYZ") {
			t.Errorf("%d: name %q, description %q: want distinct lower-case names and descriptions", int(f), name, text)
		}
		names[name], texts[text] = true, true
	}
	if PullRegistryUnreachable.String() != "registry-unreachable" || PullRegistryUnreachable.Description() != "registry 不可达" {
		t.Errorf("PullRegistryUnreachable = %s, %s", PullRegistryUnreachable, PullRegistryUnreachable.Description())
	}
	if f := PullFailure(42); f.String() != "pull-failure(42)" || f.Description() != PullOther.Description() {
		t.Errorf("out of range: %s, %s", f, f.Description())
	}
	var zero PullError
	if zero.Reason != PullOther {
		t.Errorf("zero Reason = %v, want PullOther", zero.Reason)
	}
}
