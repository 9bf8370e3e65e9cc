package containers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/image"
)

// pullMessage is one object of the daemon's JSON message stream, as written
// by its jsonmessage package (only the fields used here).
type pullMessage struct {
	Status         string `json:"status"`
	ID             string `json:"id"`
	ProgressDetail struct {
		Current int64 `json:"current"`
		Total   int64 `json:"total"`
	} `json:"progressDetail"`
	ErrorDetail *struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"errorDetail"`
	Error string `json:"error"` // older daemons: the message alone
}

// Layer statuses the daemon sends (docker/distribution/xfer; Podman's
// compat API sends a subset). Matching them is matching the protocol, not
// error text.
const (
	statusPullingFrom   = "Pulling from "
	statusPullingLayer  = "Pulling fs layer"
	statusWaiting       = "Waiting"
	statusDownloading   = "Downloading"
	statusVerifying     = "Verifying Checksum"
	statusDownloadDone  = "Download complete"
	statusExtracting    = "Extracting"
	statusPullComplete  = "Pull complete"
	statusAlreadyExists = "Already exists"
)

// phaseOf decodes a layer status; unknown statuses give PhaseUnknown.
func phaseOf(status string) LayerPhase {
	switch status {
	case statusPullingLayer, statusWaiting:
		return PhaseWaiting
	case statusDownloading:
		return PhaseDownloading
	case statusVerifying:
		return PhaseVerifying
	case statusDownloadDone:
		return PhaseDownloaded
	case statusExtracting:
		return PhaseExtracting
	case statusPullComplete:
		return PhaseComplete
	case statusAlreadyExists:
		return PhaseExists
	}
	return PhaseUnknown
}

type layerState struct {
	downloaded, size int64 // download phase; size 0 = unknown
	downloadDone     bool
	done             bool // extracted or already present
	present          bool // "Already exists": nothing to download
}

// pullTracker folds the message stream into per-layer state and totals.
type pullTracker struct {
	layers map[string]*layerState
	order  []string
}

func newPullTracker() *pullTracker {
	return &pullTracker{layers: map[string]*layerState{}}
}

func (t *pullTracker) layer(id string) *layerState {
	l, ok := t.layers[id]
	if !ok {
		l = &layerState{}
		t.layers[id] = l
		t.order = append(t.order, id)
	}
	return l
}

// apply records m, whose status decodes to phase, and reports whether it
// concerns a layer.
func (t *pullTracker) apply(m pullMessage, phase LayerPhase) bool {
	if m.ID == "" || strings.HasPrefix(m.Status, statusPullingFrom) {
		return false
	}
	if _, known := t.layers[m.ID]; !known && phase == PhaseDownloaded {
		// Podman's last message names the image, not a layer:
		// {"status":"Download complete","id":"<image ID[:12]>"}. Layers
		// are always announced before their download completes.
		return false
	}
	l := t.layer(m.ID)
	switch phase {
	case PhaseDownloading:
		l.downloaded = m.ProgressDetail.Current
		if m.ProgressDetail.Total > 0 {
			l.size = m.ProgressDetail.Total
		}
	case PhaseVerifying, PhaseDownloaded:
		l.downloadDone = true
	case PhaseExtracting:
		l.downloadDone = true
		if l.size <= 0 && m.ProgressDetail.Total > 0 {
			l.size = m.ProgressDetail.Total
		}
	case PhaseComplete:
		l.downloadDone, l.done = true, true
	case PhaseExists:
		l.downloadDone, l.done, l.present = true, true, true
	}
	return true
}

func (t *pullTracker) totals() PullTotals {
	var a PullTotals
	for _, id := range t.order {
		l := t.layers[id]
		a.Layers++
		if l.done {
			a.LayersDone++
		}
		if l.present {
			continue
		}
		if l.size <= 0 {
			if !l.downloadDone {
				a.Unknown++
			}
			a.Current += l.downloaded
			continue
		}
		a.Total += l.size
		if l.downloadDone {
			a.Current += l.size
		} else {
			a.Current += min(l.downloaded, l.size)
		}
	}
	return a
}

// finish records that the pull succeeded: every layer is done, and a layer
// whose size never showed counts at the bytes seen.
func (t *pullTracker) finish() {
	for _, l := range t.layers {
		if l.size <= 0 {
			l.size = l.downloaded
		}
		l.downloadDone, l.done = true, true
	}
}

// streamError is a failure the daemon reported inside the pull stream (an
// errorDetail): it has nothing but its text.
type streamError struct{ msg string }

func (e *streamError) Error() string { return e.msg }

// decodePull reads the daemon's pull stream to its end, calling report for
// every layer message, with its phase decoded (PhaseUnknown for a status
// it does not know, which is no error). An errorDetail (or error) in the stream is returned
// as an error. A stream that ends cleanly is a success whatever its layers
// said last: Docker ends each layer with "Pull complete", Podman with
// "Download complete"; the returned totals then count every layer done.
// Whether the image really arrived is for the caller to check.
func decodePull(r io.Reader, report func(Progress), base Progress) (PullTotals, error) {
	t := newPullTracker()
	dec := json.NewDecoder(r)
	for {
		var m pullMessage
		err := dec.Decode(&m)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return t.totals(), fmt.Errorf(errReadPull, err)
		}
		if m.ErrorDetail != nil && m.ErrorDetail.Message != "" {
			return t.totals(), &streamError{msg: m.ErrorDetail.Message}
		}
		if m.Error != "" {
			return t.totals(), &streamError{msg: m.Error}
		}
		phase := phaseOf(m.Status)
		if !t.apply(m, phase) {
			continue
		}
		p := base
		p.Step = StepPull
		p.Layer = m.ID
		p.Phase = phase
		p.Status = m.Status
		p.Current = m.ProgressDetail.Current
		p.Total = m.ProgressDetail.Total
		p.Aggregate = t.totals()
		report(p)
	}
	t.finish()
	return t.totals(), nil
}

func (e *ensurer) ensureImage(ctx context.Context) error {
	ref := e.spec.Image
	e.emit(StepImageCheck, "")
	_, err := e.c.api.ImageInspect(ctx, ref)
	if err == nil {
		e.emit(StepImagePresent, "")
		return nil
	}
	if !cerrdefs.IsNotFound(err) {
		return fmt.Errorf(errInspectImage, ref, err)
	}
	totals, err := e.pull(ctx)
	if err != nil {
		return &PullError{Image: ref, Reason: classifyPull(err), Err: err}
	}
	// Engines differ in how a pull ends (Docker: "Pull complete" per layer;
	// Podman: "Download complete" per layer and for the image): the stream
	// ended without an error, and the image must now be there.
	if _, err := e.c.api.ImageInspect(ctx, ref); err != nil {
		return &PullError{Image: ref, Reason: PullOther, Err: fmt.Errorf(errPullNoImage, err)}
	}
	done := Progress{Step: StepPullComplete, Container: e.spec.Name, Image: ref, Aggregate: totals}
	e.report(done)
	return nil
}

// pull runs the daemon's pull of the spec's image to the end of its message
// stream, reporting every layer message, and cancels it when no message
// arrives for the client's stall timeout.
func (e *ensurer) pull(ctx context.Context) (PullTotals, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	stall := e.c.pullStall
	var timer *time.Timer
	if stall > 0 {
		// The daemon answers the request only with its first message, so
		// the clock runs from before the request.
		timer = time.AfterFunc(stall, func() { cancel(ErrPullStalled) })
		defer timer.Stop()
	}
	explain := func(err error) error {
		if errors.Is(context.Cause(ctx), ErrPullStalled) {
			return fmt.Errorf(errPullStalled, ErrPullStalled, stall)
		}
		if ctx.Err() != nil {
			return fmt.Errorf("%w: %w", context.Cause(ctx), err)
		}
		return err
	}
	rc, err := e.c.api.ImagePull(ctx, e.spec.Image, image.PullOptions{})
	if err != nil {
		return PullTotals{}, explain(err)
	}
	defer rc.Close()
	var body io.Reader = rc
	if timer != nil {
		body = &activityReader{r: rc, active: func() { timer.Reset(stall) }}
	}
	totals, err := decodePull(body, e.report, Progress{Container: e.spec.Name, Image: e.spec.Image})
	if err != nil {
		return totals, explain(err)
	}
	if ctx.Err() != nil { // stalled just as the stream ended
		return totals, explain(ctx.Err())
	}
	return totals, nil
}

// activityReader calls active whenever data arrives.
type activityReader struct {
	r      io.Reader
	active func()
}

func (a *activityReader) Read(p []byte) (int, error) {
	n, err := a.r.Read(p)
	if n > 0 {
		a.active()
	}
	return n, err
}

// classifyPull says why a pull failed. The Docker API types some failures
// (errdefs NotFound for a manifest the registry does not know,
// Unauthorized, Unavailable), but Docker Engine 20.10 answers an
// unreachable registry or missing credentials with a bare 500 whose only
// content is text, and a failure in the middle of the stream is an
// errorDetail with nothing but text. So here, and nowhere else in the
// module, the daemon's text is matched against the phrases that Docker,
// containerd and Podman use (pullPhrases); only the daemon's own answers
// are read that way, never an error of the connection to the daemon.
// Anything not recognised is PullOther.
func classifyPull(err error) PullFailure {
	var se *streamError
	switch {
	case errors.Is(err, ErrPullStalled), cerrdefs.IsDeadlineExceeded(err):
		return PullStalled
	case errors.Is(err, context.Canceled): // the caller gave up, whatever the daemon said
		return PullOther
	case cerrdefs.IsNotFound(err):
		return PullNotFound
	case cerrdefs.IsUnauthorized(err), cerrdefs.IsPermissionDenied(err):
		return PullUnauthorized
	case cerrdefs.IsUnavailable(err):
		return PullRegistryUnreachable
	case errors.As(err, &se):
		return classifyPullText(se.msg)
	case cerrdefs.IsInternal(err), cerrdefs.IsUnknown(err): // the daemon's 5xx answer
		return classifyPullText(err.Error())
	}
	return PullOther
}

// pullPhrases are what the daemons say, lower-cased, in the order they are
// tried: a message naming a dial failure and a timeout is unreachable.
var pullPhrases = []struct {
	phrase string
	reason PullFailure
}{
	{"manifest unknown", PullNotFound},          // distribution: the tag
	{"name unknown", PullNotFound},              // distribution: the repository
	{"repository does not exist", PullNotFound}, // Docker Hub
	{"no basic auth credentials", PullUnauthorized},
	{"authentication required", PullUnauthorized},
	{"unauthorized", PullUnauthorized},
	{"access to the resource is denied", PullUnauthorized},
	{"access denied", PullUnauthorized},
	{"dial tcp", PullRegistryUnreachable}, // DNS, refused, dial timeout
	{"connection refused", PullRegistryUnreachable},
	{"connection reset", PullRegistryUnreachable},
	{"no such host", PullRegistryUnreachable},
	{"name resolution", PullRegistryUnreachable},
	{"network is unreachable", PullRegistryUnreachable},
	{"no route to host", PullRegistryUnreachable},
	{"tls handshake", PullRegistryUnreachable},
	{"x509: ", PullRegistryUnreachable},
	{"tls: ", PullRegistryUnreachable},
	{"server gave http response to https client", PullRegistryUnreachable},
	{"timeout", PullStalled}, // i/o timeout, Client.Timeout exceeded
	{"deadline exceeded", PullStalled},
}

// classifyPullText classifies the daemon's message by pullPhrases.
func classifyPullText(msg string) PullFailure {
	msg = strings.ToLower(msg)
	for _, p := range pullPhrases {
		if strings.Contains(msg, p.phrase) {
			return p.reason
		}
	}
	return PullOther
}
