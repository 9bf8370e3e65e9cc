// Package engine runs k3-storage's headless lifecycle: plan, provision a
// database container when the backend is local, connect with retries,
// hand out the Store, and shut down. It reports every step as an Event on
// a channel it owns and closes, so a console, a log printer or another k3
// command embedding it can show what happens. It imports no UI code.
package engine

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/k3/k3-storage/backends"
	"github.com/k3/k3-storage/containers"
	"github.com/k3/k3-storage/engine/lifecycle"
)

// ErrStarted is returned by a second call to Start.
var ErrStarted = errors.New("engine: already started")

// DefaultEventBuffer is the events channel's capacity when
// Options.EventBuffer is zero.
const DefaultEventBuffer = 256

// reserve is the part of the event buffer kept free of progress events, so
// that stage events never wait on a reader that is merely slow.
const reserve = 64

type state int

const (
	stateNew state = iota
	stateStarting
	stateReady
	stateStopping
	stateStopped
)

// Engine runs one backend's lifecycle. Create it with New, read Events
// until the channel closes, call Start once and Shutdown once.
type Engine struct {
	opts    Options
	backend backend
	events  chan lifecycle.Event

	mu          sync.Mutex
	state       state
	cancelStart context.CancelFunc
	startDone   chan struct{}
	store       backends.Store
	stopDone    chan struct{}
	stopErr     error
	holding     []string     // see Holding
	health      *healthCheck // running health checks; nil when none

	// abandoned is closed when a Shutdown gave up waiting (its context
	// ended): from then on nobody is known to read the events, and emit
	// drops what does not fit instead of blocking.
	abandoned   chan struct{}
	abandonOnce sync.Once

	// Owned by the goroutine running Start, then by the one running stop,
	// which never overlap.
	open          []lifecycle.Stage // stages begun and not yet ended, in order
	discover      discoverFunc
	client        containerClient
	handle        containers.Handle
	containerOpts Container
	runtimeFound  bool // a local container runtime answered
	// local: the database is one on this machine that this process or
	// another k3-storage just started, so it is polled often (localPoll).
	local bool
	// The native server this process started or adopted (nil when none),
	// its Holding entry ("" until it runs), and whether its data
	// directory existed before this start looked.
	nativeSrv  nativeServer
	nativeHeld string
	nativeData bool
}

// New checks opts and returns an engine that has not started. The events
// channel exists from here on; the config event (if opts.ConfigFile is set)
// is already in it.
func New(opts Options) (*Engine, error) {
	opts = opts.withDefaults()
	b, err := newBackend(opts)
	if err != nil {
		return nil, err
	}
	return newEngine(opts, b), nil
}

func newEngine(opts Options, b backend) *Engine {
	e := &Engine{
		opts:      opts,
		backend:   b,
		discover:  discoverWith(opts.ContainerEnv),
		events:    make(chan lifecycle.Event, opts.EventBuffer),
		stopDone:  make(chan struct{}),
		abandoned: make(chan struct{}),
	}
	if opts.ConfigFile != "" {
		e.emit(lifecycle.Event{Kind: lifecycle.KindStage, Stage: lifecycle.StageConfig, Status: lifecycle.Done, Text: fmt.Sprintf(msgConfig, opts.ConfigFile)})
	}
	for _, w := range opts.ConfigWarnings {
		e.emit(lifecycle.Event{Kind: lifecycle.KindLog, Stage: lifecycle.StageConfig, Level: lifecycle.Warn, Detail: w})
	}
	return e
}

// Events returns the channel of lifecycle events. The engine closes it
// after the final event (StageStopped), which follows a failed Start or a
// Shutdown. Readers should drain it: stage events wait for buffer space,
// while progress events are dropped when the reader falls far behind.
func (e *Engine) Events() <-chan lifecycle.Event { return e.events }

// Backend returns the backend type: "memory", "mysql" or "etcd".
func (e *Engine) Backend() string { return e.backend.kind() }

// Address returns the backend's address as configured ("" for memory).
func (e *Engine) Address() string { return e.backend.address() }

// Holding lists, for a person, what the engine provisioned and has not
// released yet — a container this process owns, a native server it
// started or adopted — that is, what a forced exit would leave behind (an
// embedded etcd ends with the process, its data safe on disk, and is
// listed as such). It is empty when nothing would be. Safe to call from
// any goroutine at any time.
func (e *Engine) Holding() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.holding)
}

// hold records a resource the engine now owns; release forgets it.
func (e *Engine) hold(what string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.holding = append(e.holding, what)
}

func (e *Engine) release(what string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.holding = slices.DeleteFunc(e.holding, func(h string) bool { return h == what })
}

// Start brings the backend up and returns its Store once it answers. It
// blocks until then, until a failure (after cleaning up what it created,
// and closing the events channel), or until ctx ends or Shutdown is called
// (ErrStopped). The engine owns the Store: close it with Shutdown, not
// Store.Close.
func (e *Engine) Start(ctx context.Context) (backends.Store, error) {
	e.mu.Lock()
	if e.state != stateNew {
		e.mu.Unlock()
		return nil, ErrStarted
	}
	e.state = stateStarting
	ctx, cancel := context.WithCancel(ctx)
	e.cancelStart = cancel
	e.startDone = make(chan struct{})
	e.mu.Unlock()
	defer close(e.startDone)
	defer cancel()

	e.begin(lifecycle.StageStart, fmt.Sprintf(msgStarting, e.backend.kind()), "")
	store, err := e.provision(ctx)
	if err == nil && store == nil {
		wctx, stopWatch := e.nativeWatch(ctx)
		store, err = e.connect(wctx)
		if errors.Is(context.Cause(wctx), errNativeExited) {
			err = e.nativeSrv.exitError()
		}
		stopWatch()
		err = e.connected(err)
	}
	if err == nil {
		// The ready events go out while the state is still "starting", so
		// a concurrent Shutdown waits for Start instead of sending
		// stopping events first; then, under the lock, the store is handed
		// out unless a stop was requested meanwhile.
		e.end(lifecycle.StageStart, lifecycle.Done, "", "", nil)
		e.end(lifecycle.StageReady, lifecycle.Done, msgReady, "", nil)
		e.mu.Lock()
		if ctx.Err() == nil {
			e.store, e.state = store, stateReady
			e.startHealth(ctx, store)
			e.mu.Unlock()
			return store, nil
		}
		// A stop was requested just as the store answered, after the
		// ready line went out: shut down as from ready, so that the
		// lines that follow it are those of any stop (scripts wait for
		// the ready line and stop at once).
		e.state = stateStopping
		e.mu.Unlock()
		e.stop(context.WithoutCancel(ctx), store)
		e.mu.Lock()
		stopErr := e.stopErr
		e.mu.Unlock()
		if stopErr != nil {
			return nil, stopErr
		}
		return nil, fmt.Errorf("%w: %s", lifecycle.ErrStopped, errStopped)
	}
	if store != nil {
		store.Close() // a stop was requested just as the store answered
	}
	e.mu.Lock()
	e.state = stateStopped
	e.mu.Unlock()
	cleanup := context.WithoutCancel(ctx)
	if ctx.Err() != nil {
		// A requested stop: not a failure, so the final event is clean
		// unless the cleanup fails.
		e.closeOpen(lifecycle.Skipped, nil)
		e.begin(lifecycle.StageStopping, msgStopping, "")
		rerr := errors.Join(e.releaseContainer(cleanup, true), e.releaseNative(true))
		e.end(lifecycle.StageStopping, statusOf(rerr), "", "", rerr)
		e.complete(rerr, msgStopped, nil)
		if rerr != nil {
			return nil, e.redact(rerr)
		}
		return nil, fmt.Errorf("%w: %s", lifecycle.ErrStopped, errStopped)
	}
	e.closeOpen(lifecycle.Failed, err)
	if rerr := errors.Join(e.releaseContainer(cleanup, true), e.releaseNative(true)); rerr != nil {
		err = errors.Join(err, rerr)
	}
	e.complete(err, "", nil)
	return nil, e.redact(err)
}

func statusOf(err error) lifecycle.Status {
	if err != nil {
		return lifecycle.Failed
	}
	return lifecycle.Done
}

// complete sends the final event, closes the channel and records the
// outcome for Shutdown.
// After a failed start there is no "stopped" line: the service never ran.
// Shutdown returns shutdownErr (a failed start is Start's error, not
// Shutdown's).
func (e *Engine) complete(err error, text string, shutdownErr error) {
	status := lifecycle.Done
	if err != nil {
		status = lifecycle.Failed
	}
	e.emit(lifecycle.Event{Kind: lifecycle.KindStage, Stage: lifecycle.StageStopped, Status: status, Text: text, Err: e.redact(err)})
	close(e.events)
	e.mu.Lock()
	e.stopErr = e.redact(shutdownErr)
	e.mu.Unlock()
	close(e.stopDone)
}

// Shutdown stops the engine: it ends a Start in progress, closes the
// store, removes a container this process created or adopted, stops a
// native server this process started or adopted, sends the final event
// and closes the channel. It returns when all that is done or ctx ends,
// whichever is first; in the latter case it returns ctx's error and the
// remaining steps still run. Calling it again waits for the first call's
// result.
func (e *Engine) Shutdown(ctx context.Context) error {
	for {
		e.mu.Lock()
		switch e.state {
		case stateNew:
			e.state = stateStopped
			e.mu.Unlock()
			e.begin(lifecycle.StageStopping, msgStopping, "")
			e.end(lifecycle.StageStopping, lifecycle.Done, "", "", nil)
			e.complete(nil, msgStopped, nil)
			return nil
		case stateStarting:
			cancel, done := e.cancelStart, e.startDone
			e.mu.Unlock()
			cancel()
			select {
			case <-done: // Start has stopped, or became ready just before
			case <-ctx.Done():
				e.abandon()
				return ctx.Err()
			}
			continue
		case stateReady:
			e.state = stateStopping
			store := e.store
			e.mu.Unlock()
			go e.stop(context.WithoutCancel(ctx), store)
		default:
			e.mu.Unlock()
		}
		return e.wait(ctx)
	}
}

// wait returns the lifecycle's outcome once it is complete, or ctx's error.
func (e *Engine) wait(ctx context.Context) error {
	select {
	case <-e.stopDone:
		e.mu.Lock()
		defer e.mu.Unlock()
		return e.stopErr
	case <-ctx.Done():
		e.abandon()
		return ctx.Err()
	}
}

// abandon records that the caller of Shutdown stopped waiting, and with
// it, presumably, reading the events.
func (e *Engine) abandon() { e.abandonOnce.Do(func() { close(e.abandoned) }) }

// stop runs the shutdown steps of a ready engine. ctx carries the
// caller's values but no deadline: the steps run to completion even when
// Shutdown stops waiting.
func (e *Engine) stop(ctx context.Context, store backends.Store) {
	e.stopHealth()
	e.begin(lifecycle.StageStopping, msgStopping, "")
	var errs []error
	if err := store.Close(); err != nil {
		err = fmt.Errorf(errCloseStore, err)
		errs = append(errs, err)
		e.end(lifecycle.StageCloseStore, lifecycle.Failed, "", "", err)
	} else {
		e.end(lifecycle.StageCloseStore, lifecycle.Done, msgStoreClosed, "", nil)
	}
	if err := e.releaseContainer(ctx, false); err != nil {
		errs = append(errs, err)
	}
	if err := e.releaseNative(false); err != nil {
		errs = append(errs, err)
	}
	err := errors.Join(errs...)
	e.end(lifecycle.StageStopping, statusOf(err), "", "", err)
	e.mu.Lock()
	e.state = stateStopped
	e.mu.Unlock()
	e.complete(err, msgStopped, err)
}

// begin emits a stage's Running event and records it as open.
func (e *Engine) begin(s lifecycle.Stage, text, detail string) {
	e.open = append(e.open, s)
	e.emit(lifecycle.Event{Kind: lifecycle.KindStage, Stage: s, Status: lifecycle.Running, Text: text, Detail: detail})
}

// end emits a stage's final status; a stage that was not begun is
// reported with that status alone. Ending a stage that is not open with
// Done and no text or detail is a no-op, so callers may end defensively.
func (e *Engine) end(s lifecycle.Stage, st lifecycle.Status, text, detail string, err error) {
	if e.isOpen(s) {
		e.open = slices.DeleteFunc(e.open, func(o lifecycle.Stage) bool { return o == s })
	} else if st == lifecycle.Done && text == "" && detail == "" && err == nil {
		return
	}
	e.emit(lifecycle.Event{Kind: lifecycle.KindStage, Stage: s, Status: st, Text: text, Detail: detail, Err: e.redact(err)})
}

// isOpen reports whether stage s has begun and not ended.
func (e *Engine) isOpen(s lifecycle.Stage) bool { return slices.Contains(e.open, s) }

// closeOpen ends every open stage, innermost first, with st; err goes to
// the innermost only.
func (e *Engine) closeOpen(st lifecycle.Status, err error) {
	for i := len(e.open) - 1; i >= 0; i-- {
		s := e.open[i]
		e.open = e.open[:i]
		e.emit(lifecycle.Event{Kind: lifecycle.KindStage, Stage: s, Status: st, Err: e.redact(err)})
		err = nil
	}
}

// log emits a KindLog event.
func (e *Engine) log(l lifecycle.Level, detail string) {
	e.emit(lifecycle.Event{Kind: lifecycle.KindLog, Level: l, Detail: detail})
}

// emit sends a stage or log event, waiting for buffer space — but never
// past a Shutdown that stopped waiting: the events' reader is then
// presumed gone, and the event is dropped.
func (e *Engine) emit(ev lifecycle.Event) {
	ev.Time = time.Now()
	select {
	case e.events <- ev:
	case <-e.abandoned:
	}
}

// progress sends a progress event unless the reader is far behind, in
// which case it is dropped: later progress supersedes it.
func (e *Engine) progress(ev lifecycle.Event) {
	if len(e.events) >= cap(e.events)-reserve {
		return
	}
	ev.Time = time.Now()
	select {
	case e.events <- ev:
	default:
	}
}

// redact hides the backend's secrets in err's text, keeping errors.Is.
func (e *Engine) redact(err error) error { return backends.RedactError(err, e.backend.secrets()...) }
