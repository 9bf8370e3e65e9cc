package engine

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/k3/k3-storage/backends"
	"github.com/k3/k3-storage/containers"
	"github.com/k3/k3-storage/engine/lifecycle"
	"github.com/k3/k3-storage/internal/units"
)

// Container configures the database container the engine provisions when
// a backend's host is localhost, 127.0.0.1 or ::1.
type Container struct {
	// Auto enables provisioning; false means connect only.
	Auto bool
	// Image and Name of the container, required when provisioning.
	Image, Name string
	// Volume is the named volume holding the data, which outlives the
	// container; "" means none (the data goes with the container).
	Volume string
	// PurgeVolume removes the data volume too when the engine removes the
	// container it owns.
	PurgeVolume bool
	// StopTimeout is the database's grace period when stopped; 0 kills it
	// at once.
	StopTimeout time.Duration
}

// containerClient is what the engine needs from a container runtime;
// *containers.Client implements it.
type containerClient interface {
	Address() string
	Local() bool
	APIVersion() string
	Inspect(ctx context.Context, name string) (containers.State, error)
	Ensure(ctx context.Context, spec containers.Spec, report func(containers.Progress)) (containers.Handle, error)
	Remove(ctx context.Context, h containers.Handle, stopTimeout time.Duration, purgeVolume bool) error
	Close() error
}

// discoverFunc finds a container runtime, reporting each candidate tried.
type discoverFunc func(ctx context.Context, report func(containers.Candidate)) (containerClient, error)

func discoverWith(env containers.Env) discoverFunc {
	return func(ctx context.Context, report func(containers.Candidate)) (containerClient, error) {
		c, _, err := containers.Discover(ctx, env, report)
		if err != nil {
			return nil, err
		}
		return c, nil
	}
}

// probeTimeout bounds the check whether a database already answers on a
// local port before a container is created there.
const probeTimeout = 2 * time.Second

// removeGrace is added to the stop timeout to bound a container's removal.
const removeGrace = 30 * time.Second

// provision makes sure a local database runs when the backend asks for
// one, in this order: a server of ours in the native data directory (one
// another k3-storage runs, or an orphan), a container (unless native mode
// is always) — which includes a database already answering on the port —
// then a native server (unless native mode is never). It returns a store
// when a database already answered the probe (nothing to provision), nil
// when connecting comes next.
func (e *Engine) provision(ctx context.Context) (backends.Store, error) {
	spec, copts, ok := e.backend.container()
	if !ok {
		return nil, nil
	}
	e.containerOpts = copts
	mode := e.backend.nativeMode()
	var srv nativeServer
	var srvErr error
	if mode != NativeNever {
		srv, srvErr = e.backend.native(e.opts.DataHome)
		if srv != nil {
			if handled, err := e.nativeFirst(srv); handled || err != nil {
				return nil, err
			}
		}
	}
	reason, why := lifecycle.ReasonConfigured, whyConfigured
	if mode != NativeAlways {
		store, fb, err := e.provisionContainer(ctx, spec, mode)
		if err != nil || fb == nil {
			return store, err
		}
		reason, why = fb.reason, fb.why
	}
	return e.provisionNative(ctx, srv, srvErr, reason, why)
}

// fallback says why no container can provide the database.
type fallback struct {
	reason lifecycle.Reason
	why    string // for the user, e.g. "镜像 mysql:8.0 无法拉取 (registry 不可达)"
}

// provisionContainer provides the database as a container. A nil
// fallback and error mean it did, or that there is nothing to provision
// and connecting comes next; a fallback says why no container can be used
// (with native mode never, there is none: the engine then only connects,
// or fails).
func (e *Engine) provisionContainer(ctx context.Context, spec containers.Spec, mode NativeMode) (backends.Store, *fallback, error) {
	e.begin(lifecycle.StageRuntime, "", detailRuntimeProbe)
	client, err := e.discover(ctx, func(c containers.Candidate) {
		e.log(lifecycle.Info, fmt.Sprintf(detailCandidate, c.Source, c.Address, candidateStatus(c)))
	})
	if err != nil {
		if errors.Is(err, containers.ErrNoRuntime) {
			e.end(lifecycle.StageRuntime, lifecycle.Skipped, "", "", nil)
			if mode == NativeNever {
				// The original behaviour: the user may have started the
				// database by hand, so carry on and connect.
				e.log(lifecycle.Warn, fmt.Sprintf(warnNoRuntime, triedList(err)))
				e.path(lifecycle.PathExisting, lifecycle.ReasonNoRuntime, fmt.Sprintf(detailConnectOnly, e.backend.address()))
				return nil, nil, nil
			}
			return nil, &fallback{lifecycle.ReasonNoRuntime, fmt.Sprintf(whyNoRuntime, triedList(err))}, nil
		}
		return nil, nil, fmt.Errorf(errDiscover, err)
	}
	if !client.Local() {
		// Its containers would publish ports on another machine's
		// loopback: nothing to reach here.
		client.Close()
		e.end(lifecycle.StageRuntime, lifecycle.Skipped, "", "", nil)
		if mode == NativeNever {
			e.log(lifecycle.Warn, fmt.Sprintf(warnRemoteRuntime, client.Address()))
			e.path(lifecycle.PathExisting, lifecycle.ReasonRemoteRuntime, fmt.Sprintf(detailConnectOnly, e.backend.address()))
			return nil, nil, nil
		}
		return nil, &fallback{lifecycle.ReasonRemoteRuntime, fmt.Sprintf(whyRemoteRuntime, client.Address())}, nil
	}
	e.client = client
	e.runtimeFound = true
	e.end(lifecycle.StageRuntime, lifecycle.Done, "", fmt.Sprintf(detailRuntime, client.Address(), client.APIVersion()), nil)

	e.begin(lifecycle.StageContainer, "", fmt.Sprintf(detailInspect, spec.Name))
	st, err := client.Inspect(ctx, spec.Name)
	if err != nil {
		return nil, nil, err
	}
	if !st.Exists() && listening(ctx, spec) {
		// A database the user runs on the port needs no container.
		if store, err := e.useExisting(ctx, lifecycle.StageContainer); store != nil || err != nil {
			return store, nil, err
		}
	}
	p := &progressMapper{e: e, spec: spec}
	h, err := client.Ensure(ctx, spec, p.report)
	if err != nil {
		var pe *containers.PullError
		if !errors.As(err, &pe) || ctx.Err() != nil {
			return nil, nil, err
		}
		// The image cannot be had: no container at all.
		e.endContainerStages(err)
		e.client = nil
		client.Close()
		why := fmt.Sprintf(whyPull, pe.Image, pe.Reason.Description())
		if mode == NativeNever {
			return nil, nil, e.unavailable(pullReason(pe.Reason), why+": "+e.redact(pe.Err).Error(), nil)
		}
		return nil, &fallback{pullReason(pe.Reason), why}, nil
	}
	e.handle = h
	if h.Owned {
		e.hold(fmt.Sprintf(heldContainer, h.Name))
		e.local = true
	}
	// Close the container stage when Ensure reused or adopted without a
	// report that did so.
	e.end(lifecycle.StageContainer, lifecycle.Done, "", "", nil)
	e.path(lifecycle.PathContainer, outcomeReason(h.Outcome), fmt.Sprintf(detailUseContainer, h.Name))
	if e.nativeData {
		e.log(lifecycle.Info, fmt.Sprintf(detailNativeDataUnused, e.backend.kind()))
	}
	return nil, nil, nil
}

// endContainerStages ends the container stages still open after Ensure
// failed, err going to the innermost.
func (e *Engine) endContainerStages(err error) {
	stages := []lifecycle.Stage{lifecycle.StageContainerStart, lifecycle.StageCreate, lifecycle.StagePull, lifecycle.StageImage, lifecycle.StageContainer}
	for _, s := range stages {
		if e.isOpen(s) {
			e.end(s, lifecycle.Failed, "", "", err)
			err = nil
		}
	}
}

// pullReason is the provision reason for a failed pull.
func pullReason(f containers.PullFailure) lifecycle.Reason {
	switch f {
	case containers.PullRegistryUnreachable:
		return lifecycle.ReasonPullUnreachable
	case containers.PullNotFound:
		return lifecycle.ReasonPullNotFound
	case containers.PullUnauthorized:
		return lifecycle.ReasonPullUnauthorized
	case containers.PullStalled:
		return lifecycle.ReasonPullStalled
	}
	return lifecycle.ReasonPullFailed
}

// outcomeReason is the provision reason for how Ensure got the container.
func outcomeReason(o containers.Outcome) lifecycle.Reason {
	switch o {
	case containers.Adopted:
		return lifecycle.ReasonAdopted
	case containers.Reused:
		return lifecycle.ReasonReused
	}
	return lifecycle.ReasonCreated
}

// useExisting connects to a database that already answers on the local
// port, as the path taken (ending the stage skip, if open). It returns nil
// and no error when nothing usable answers there (and says so), and an
// error when a database answers but cannot be used: a refused login says
// that it was refused.
func (e *Engine) useExisting(ctx context.Context, skip lifecycle.Stage) (backends.Store, error) {
	store, err := e.probe(ctx)
	if err == nil {
		if e.isOpen(skip) {
			e.end(skip, lifecycle.Skipped, "", "", nil)
		}
		e.path(lifecycle.PathExisting, lifecycle.ReasonAnswering, fmt.Sprintf(detailExisting, e.backend.address()))
		e.begin(lifecycle.StageConnect, "", "")
		e.end(lifecycle.StageConnect, lifecycle.Done, e.backend.readyText(), "", nil)
		return store, nil
	}
	if why := e.backend.explain(err); why != nil {
		return nil, why // a database, but it refused our login
	}
	if errors.Is(err, backends.ErrPermanent) {
		return nil, fmt.Errorf(errPortAnswers, e.backend.address(), err)
	}
	e.log(lifecycle.Info, fmt.Sprintf(detailNoDatabase, e.backend.address(), e.redact(err)))
	return nil, nil
}

// listening reports whether anything accepts TCP connections on the
// spec's published host port. A refusal shows at once that no database
// runs there, without waiting for a driver's connect timeout; acceptance
// proves nothing yet (see probe).
func listening(ctx context.Context, spec containers.Spec) bool {
	if len(spec.Ports) == 0 {
		return false
	}
	p := spec.Ports[0]
	d := net.Dialer{Timeout: time.Second}
	conn, err := d.DialContext(ctx, "tcp", net.JoinHostPort(p.HostIP, strconv.Itoa(p.HostPort)))
	if err != nil {
		return false
	}
	conn.Close()
	return true
}

// probe makes one quick connect attempt.
func (e *Engine) probe(ctx context.Context) (backends.Store, error) {
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	return e.backend.open(ctx)
}

// releaseContainer stops and removes the container if this process owns
// it, reporting the original log lines, and closes the runtime client; ctx
// should carry no deadline of its own (removal is bounded here). When the
// store never became ready, a volume this start created is removed too:
// it holds at most a half-initialised database (the image would not
// initialise it again on the next start), and a failed start leaves
// nothing behind.
func (e *Engine) releaseContainer(ctx context.Context, neverReady bool) error {
	if e.client == nil {
		return nil
	}
	defer e.client.Close()
	if !e.handle.Owned {
		return nil
	}
	stop := e.containerOpts.StopTimeout
	e.begin(lifecycle.StageRemoveContainer, msgRemoving, fmt.Sprintf(detailRemoving, e.handle.Name))
	ctx, cancel := context.WithTimeout(ctx, stop+removeGrace)
	defer cancel()
	purge := e.containerOpts.PurgeVolume || (neverReady && e.handle.NewVolume)
	if err := e.client.Remove(ctx, e.handle, stop, purge); err != nil {
		err = fmt.Errorf(errRemoveContainer, e.handle.Name, err)
		e.end(lifecycle.StageRemoveContainer, lifecycle.Failed, "", "", err)
		return err
	}
	e.release(fmt.Sprintf(heldContainer, e.handle.Name))
	detail := fmt.Sprintf(detailRemoved, e.handle.Name, e.handle.Volume)
	if purge {
		detail = fmt.Sprintf(detailPurged, e.handle.Name, e.handle.Volume)
	}
	e.end(lifecycle.StageRemoveContainer, lifecycle.Done, msgRemoved, detail, nil)
	return nil
}

// progressMapper turns Ensure's reports into engine stages and pull
// progress.
type progressMapper struct {
	e         *Engine
	spec      containers.Spec
	pullStart time.Time
}

func (p *progressMapper) report(pr containers.Progress) {
	e := p.e
	switch pr.Step {
	case containers.StepReuse:
		p.settle(fmt.Sprintf(detailReuse, pr.Container) + suffix(pr.Message))
	case containers.StepAdopt:
		p.settle(fmt.Sprintf(detailAdopt, pr.Container) + suffix(pr.Message))
	case containers.StepWait:
		p.skipCreation()
		e.log(lifecycle.Info, fmt.Sprintf(detailWait, pr.Container))
	case containers.StepRemoveStale:
		e.log(lifecycle.Info, fmt.Sprintf(detailRemoveStale, pr.Container)+suffix(pr.Message))
	case containers.StepImageCheck:
		e.end(lifecycle.StageContainer, lifecycle.Done, "", fmt.Sprintf(detailNoContainer, pr.Container), nil)
		e.begin(lifecycle.StageImage, "", fmt.Sprintf(detailImageCheck, pr.Image))
	case containers.StepImagePresent:
		e.end(lifecycle.StageImage, lifecycle.Done, "", fmt.Sprintf(detailImagePresent, pr.Image), nil)
	case containers.StepPull:
		if !e.isOpen(lifecycle.StagePull) {
			e.end(lifecycle.StageImage, lifecycle.Done, "", fmt.Sprintf(detailImageMissing, pr.Image), nil)
			e.begin(lifecycle.StagePull, "", fmt.Sprintf(detailPulling, pr.Image))
			p.pullStart = time.Now()
		}
		a := pr.Aggregate
		e.progress(lifecycle.Event{Kind: lifecycle.KindPull, Stage: lifecycle.StagePull, Pull: &lifecycle.Pull{
			Image: pr.Image, Layer: pr.Layer, Phase: layerPhase(pr.Phase), Status: pr.Status, Current: pr.Current, Total: pr.Total,
			Done: a.Current, Size: a.Total, Unknown: a.Unknown, LayersDone: a.LayersDone, Layers: a.Layers,
		}})
	case containers.StepPullComplete:
		if !e.isOpen(lifecycle.StagePull) { // the image arrived without layer messages
			e.end(lifecycle.StageImage, lifecycle.Done, "", fmt.Sprintf(detailImageMissing, pr.Image), nil)
			e.begin(lifecycle.StagePull, "", fmt.Sprintf(detailPulling, pr.Image))
			p.pullStart = time.Now()
		}
		a := pr.Aggregate
		e.emit(lifecycle.Event{Kind: lifecycle.KindPull, Stage: lifecycle.StagePull, Pull: &lifecycle.Pull{
			Image: pr.Image, Done: a.Current, Size: a.Total, LayersDone: a.LayersDone, Layers: a.Layers,
		}})
		e.end(lifecycle.StagePull, lifecycle.Done, "", fmt.Sprintf(detailPulled, pr.Image, units.Bytes(a.Total), roundDuration(time.Since(p.pullStart))), nil)
	case containers.StepVolume:
		e.log(lifecycle.Info, fmt.Sprintf(detailVolume, p.spec.Volume))
	case containers.StepCreate:
		e.end(lifecycle.StageContainer, lifecycle.Done, "", "", nil) // after a wait or a stale removal
		e.begin(lifecycle.StageCreate, "", fmt.Sprintf(detailCreating, pr.Container, p.spec.Image, portsOf(p.spec), p.spec.Volume))
	case containers.StepStart:
		e.end(lifecycle.StageCreate, lifecycle.Done, "", fmt.Sprintf(detailCreated, pr.Container), nil)
		e.begin(lifecycle.StageContainerStart, "", fmt.Sprintf(detailStarting, pr.Container))
	case containers.StepRunning:
		e.end(lifecycle.StageContainerStart, lifecycle.Done, "", fmt.Sprintf(detailStarted, pr.Container), nil)
	case containers.StepCleanup:
		e.log(lifecycle.Info, fmt.Sprintf(detailCleanup, pr.Container)+suffix(pr.Message))
	}
}

// settle reports how the container was obtained when it was not created:
// as the end of the container stage when that is still open, else (a race
// lost after creation began, or a wait for another creator) as a log line
// after closing the creation stages it made moot.
func (p *progressMapper) settle(detail string) {
	e := p.e
	if e.isOpen(lifecycle.StageContainer) {
		e.end(lifecycle.StageContainer, lifecycle.Done, "", detail, nil)
		return
	}
	p.skipCreation()
	e.log(lifecycle.Info, detail)
}

// skipCreation ends the image and creation stages that are open because
// another process is providing the container after all.
func (p *progressMapper) skipCreation() {
	for _, s := range []lifecycle.Stage{lifecycle.StagePull, lifecycle.StageImage, lifecycle.StageCreate, lifecycle.StageContainerStart} {
		if p.e.isOpen(s) {
			p.e.end(s, lifecycle.Skipped, "", "", nil)
		}
	}
}

func suffix(msg string) string {
	if msg == "" {
		return ""
	}
	return " (" + msg + ")"
}

func portsOf(s containers.Spec) string {
	var ps []string
	for _, p := range s.Ports {
		ps = append(ps, p.String())
	}
	return strings.Join(ps, ", ")
}

func candidateStatus(c containers.Candidate) string {
	switch c.Status {
	case containers.Usable:
		return fmt.Sprintf(statusUsable, c.APIVersion)
	case containers.Absent:
		return statusAbsent
	case containers.NoDockerAPI:
		return statusNoDockerAPI
	}
	if c.Err != nil {
		return fmt.Sprintf(statusUnreachable, c.Err)
	}
	return c.Status.String()
}

func triedList(err error) string {
	var nr *containers.NoRuntimeError
	if !errors.As(err, &nr) || len(nr.Tried) == 0 {
		return "-"
	}
	var parts []string
	for _, c := range nr.Tried {
		parts = append(parts, fmt.Sprintf("%s (%s)", c.Address, candidateStatus(c)))
	}
	return strings.Join(parts, ", ")
}

// layerPhase is the event's name for a layer phase of the container
// runtime.
func layerPhase(p containers.LayerPhase) lifecycle.LayerPhase {
	switch p {
	case containers.PhaseWaiting:
		return lifecycle.PhaseWaiting
	case containers.PhaseDownloading:
		return lifecycle.PhaseDownloading
	case containers.PhaseVerifying:
		return lifecycle.PhaseVerifying
	case containers.PhaseDownloaded:
		return lifecycle.PhaseDownloaded
	case containers.PhaseExtracting:
		return lifecycle.PhaseExtracting
	case containers.PhaseComplete:
		return lifecycle.PhaseComplete
	case containers.PhaseExists:
		return lifecycle.PhaseExists
	}
	return lifecycle.PhaseUnknown
}
