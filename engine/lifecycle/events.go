// Package lifecycle holds the types the engine reports its lifecycle in:
// Event and its payloads (stages, image pull progress, connect attempts,
// log lines) and the sentinel a requested stop returns. It is a leaf: it
// imports only the standard library, so a console or a log printer can
// read engine events without linking a database driver or the Docker SDK.
package lifecycle

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// ErrStopped is returned by the engine's Start when a stop was requested
// (Shutdown, or the end of Start's context) before the store was ready and
// everything startup created was cleaned up. It is not a failure: the final
// event carries no error.
var ErrStopped = errors.New("engine: stopped before ready")

// Kind says which payload an Event carries.
type Kind int

// Event kinds.
const (
	// KindStage marks a lifecycle stage starting, finishing, failing or
	// being skipped.
	KindStage Kind = iota + 1
	// KindPull carries image pull progress (Event.Pull).
	KindPull
	// KindAttempt reports one failed connect attempt (Event.Attempt).
	KindAttempt
	// KindLog is an informational line or a warning (Event.Level, Event.Detail).
	KindLog
	// KindHealth reports the backend becoming unreachable or reachable
	// again while the store is ready (Event.Health).
	KindHealth
)

var kindNames = map[Kind]string{KindStage: "stage", KindPull: "pull", KindAttempt: "attempt", KindLog: "log", KindHealth: "health"}

// String returns "stage", "pull", "attempt", "log" or "health".
func (k Kind) String() string {
	if s, ok := kindNames[k]; ok {
		return s
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// Stage is a step of the lifecycle, in the order they happen.
type Stage int

// Lifecycle stages. Container stages occur only when the engine provisions
// a database container, native stages only when it runs the database on
// this machine itself (see Path). Startup stages come before StageStopping,
// shutdown stages after it; the numbers are not stable, the names are.
const (
	StageConfig         Stage = iota + 1 // the config file in use (reported by the caller)
	StageStart                           // startup begins
	StageRuntime                         // container runtime discovery
	StageContainer                       // looking for an existing container
	StageImage                           // checking the image is present
	StagePull                            // pulling the image
	StageCreate                          // creating the container
	StageContainerStart                  // starting the container
	// StageProvision is one event (status Done, no Running before it)
	// saying how the database of a local backend is provided: Event.Path
	// and Event.Reason say which way and why, Event.Detail says it in a
	// sentence. The engine reports it once, when it commits to a path;
	// there is none for memory, for a remote host, or with provisioning
	// off.
	StageProvision
	StageNativeInit      // initialising a native server's data directory (first start)
	StageNativeStart     // starting a native server
	StageConnect         // connecting to the backend, with retries
	StageReady           // the store is ready
	StageStopping        // shutdown begins
	StageCloseStore      // closing the store's connections
	StageRemoveContainer // stopping and removing our container
	StageStopNative      // stopping the native server this process started or adopted
	StageStopped         // the lifecycle is over; the final event
)

var stageNames = map[Stage]string{
	StageConfig: "config", StageStart: "start", StageRuntime: "runtime", StageContainer: "container",
	StageImage: "image", StagePull: "pull", StageCreate: "create", StageContainerStart: "container-start",
	StageProvision: "provision", StageNativeInit: "native-init", StageNativeStart: "native-start",
	StageConnect: "connect", StageReady: "ready", StageStopping: "stopping", StageCloseStore: "close-store",
	StageRemoveContainer: "remove-container", StageStopNative: "stop-native", StageStopped: "stopped",
}

// String returns the stage's stable identifier, as used in JSON output
// (e.g. "connect", "remove-container").
func (s Stage) String() string {
	if n, ok := stageNames[s]; ok {
		return n
	}
	return fmt.Sprintf("Stage(%d)", int(s))
}

// Status is where a stage stands.
type Status int

// Stage statuses.
const (
	Running Status = iota + 1
	Done
	Failed
	Skipped
)

var statusNames = map[Status]string{Running: "running", Done: "done", Failed: "failed", Skipped: "skipped"}

// String returns "running", "done", "failed" or "skipped".
func (s Status) String() string {
	if n, ok := statusNames[s]; ok {
		return n
	}
	return fmt.Sprintf("Status(%d)", int(s))
}

// Level grades a KindLog event.
type Level int

// Log levels.
const (
	Info Level = iota + 1
	Warn
)

// String returns "info" or "warn".
func (l Level) String() string {
	switch l {
	case Info:
		return "info"
	case Warn:
		return "warn"
	}
	return fmt.Sprintf("Level(%d)", int(l))
}

// Event is one thing the engine reports. Events are plain values: the
// console turns them into view state, headless mode into log lines or JSON.
type Event struct {
	Time   time.Time
	Kind   Kind
	Stage  Stage  // the stage the event belongs to; none (0) for KindHealth and most KindLog
	Status Status // for KindStage
	Level  Level  // for KindLog
	// Text is a line of the original service's log (e.g. "存储服务启动完成"),
	// which scripts match exactly; "" for events that have none.
	Text string
	// Detail is a human-readable line about progress, in the same language,
	// that is not part of the original log; "" when there is none.
	Detail  string
	Pull    *Pull
	Attempt *Attempt
	// Path and Reason are set on the StageProvision event only: how the
	// database is provided and why (zero elsewhere).
	Path   Path
	Reason Reason
	Health *Health
	// Err is the failure of this stage or attempt, with secrets redacted
	// from its text; on a KindHealth event going down, the failed check's;
	// on the final event (StageStopped), the terminal error of the
	// lifecycle, nil after a clean stop.
	Err error
}

// Final reports whether this is the last event before the channel closes.
func (ev Event) Final() bool { return ev.Kind == KindStage && ev.Stage == StageStopped }

// LayerPhase is where one image layer stands in a pull, whatever words the
// container runtime used for it.
type LayerPhase int

// Layer phases, in the order a layer goes through them. PhaseUnknown is a
// status the runtime sent that has no phase here.
const (
	PhaseUnknown LayerPhase = iota
	PhaseWaiting
	PhaseDownloading
	PhaseVerifying
	PhaseDownloaded
	PhaseExtracting
	PhaseComplete
	PhaseExists // the layer was already present
)

var phaseNames = map[LayerPhase]string{
	PhaseUnknown: "unknown", PhaseWaiting: "waiting", PhaseDownloading: "downloading",
	PhaseVerifying: "verifying", PhaseDownloaded: "downloaded", PhaseExtracting: "extracting",
	PhaseComplete: "complete", PhaseExists: "exists",
}

// String returns the phase's stable identifier, as used in JSON output.
func (p LayerPhase) String() string {
	if n, ok := phaseNames[p]; ok {
		return n
	}
	return fmt.Sprintf("LayerPhase(%d)", int(p))
}

// Done reports a layer that needs nothing more.
func (p LayerPhase) Done() bool { return p == PhaseComplete || p == PhaseExists }

// Pull is image pull progress: one layer's state plus the aggregate.
type Pull struct {
	Image string
	Layer string     // layer ID; "" for an aggregate-only update
	Phase LayerPhase // the layer's phase; PhaseUnknown for an aggregate-only update
	// Status is the runtime's own words for the layer's state, e.g.
	// "Downloading"; for logs only (use Phase to decide).
	Status string
	// Current and Total are the layer's bytes; Total <= 0 means unknown.
	Current, Total int64
	// Done and Size are the bytes of all layers whose size is known so far.
	Done, Size int64
	// Unknown counts layers still to download whose size is not known yet;
	// while it is non-zero, Done/Size is not a reliable fraction.
	Unknown int
	// LayersDone of Layers are complete.
	LayersDone, Layers int
}

// Path is how the database of a local backend is provided (the
// StageProvision event). Its String is the JSON "path" field.
type Path int

// Paths, in the engine's order of preference.
const (
	// PathExisting: a database that already runs is used as it is and
	// never stopped: one that answered on the port (a user's, or a server
	// another k3-storage provided), or, with native mode never and no
	// usable container runtime, whatever may answer there ("existing").
	PathExisting Path = iota + 1
	// PathContainer: a container the engine created, adopted or reused
	// ("container").
	PathContainer
	// PathNative: a server the engine runs on this machine, the machine's
	// own mariadbd/mysqld or an embedded etcd ("native").
	PathNative
)

var pathNames = map[Path]string{PathExisting: "existing", PathContainer: "container", PathNative: "native"}

// String returns "existing", "container" or "native".
func (p Path) String() string {
	if n, ok := pathNames[p]; ok {
		return n
	}
	return fmt.Sprintf("Path(%d)", int(p))
}

// Reason says why the engine took a Path. Its String is the JSON "reason"
// field; the identifiers are stable.
type Reason int

// Reasons. Which go with which path is noted.
const (
	// ReasonAnswering (existing): a database answered on the port.
	ReasonAnswering Reason = iota + 1
	// ReasonShared (existing): another live k3-storage process runs the
	// native server of this data directory, or is starting it; this one
	// waits for it and never stops it.
	ReasonShared
	// ReasonCreated, ReasonReused, ReasonAdopted (container, and adopted
	// for native): how the container or server was obtained: this process
	// created it; it belongs to someone else (another k3-storage, a user);
	// it is the orphan of a k3-storage process that died, now this one's.
	ReasonCreated
	ReasonReused
	ReasonAdopted
	// ReasonConfigured (native): native mode always skips containers.
	ReasonConfigured
	// ReasonNoRuntime and ReasonRemoteRuntime (native; existing with
	// native mode never): no container runtime answered, or the one that
	// did runs on another machine, where its containers' ports are out of
	// reach.
	ReasonNoRuntime
	ReasonRemoteRuntime
	// ReasonPull... (native): the image is not present and could not be
	// pulled: the registry is unreachable (DNS, connection, TLS), the
	// image or tag does not exist, the registry wants credentials, the
	// pull stalled or timed out, or it failed otherwise.
	ReasonPullUnreachable
	ReasonPullNotFound
	ReasonPullUnauthorized
	ReasonPullStalled
	ReasonPullFailed
)

var reasonNames = map[Reason]string{
	ReasonAnswering: "answering", ReasonShared: "shared", ReasonCreated: "created", ReasonReused: "reused",
	ReasonAdopted: "adopted", ReasonConfigured: "configured", ReasonNoRuntime: "no-runtime",
	ReasonRemoteRuntime: "remote-runtime", ReasonPullUnreachable: "pull-unreachable",
	ReasonPullNotFound: "pull-not-found", ReasonPullUnauthorized: "pull-unauthorized",
	ReasonPullStalled: "pull-stalled", ReasonPullFailed: "pull-failed",
}

// String returns the reason's stable identifier, e.g. "pull-unreachable".
func (r Reason) String() string {
	if n, ok := reasonNames[r]; ok {
		return n
	}
	return fmt.Sprintf("Reason(%d)", int(r))
}

// Attempt describes a failed connect attempt.
type Attempt struct {
	N       int           // 1 for the first attempt
	Address string        // what was dialled, e.g. localhost:3306/k3
	Elapsed time.Duration // since the first attempt began
	Budget  time.Duration // total time allowed for connecting
	// NextDelay is the wait before the next attempt; 0 when this was the
	// last one.
	NextDelay time.Duration
}

// Health checks while ready.

// HealthState is whether the backend answers the engine's checks.
type HealthState int

// Health states. A ready store starts up, and KindHealth events report
// every change from then on, alternating: down, up, down, ...
const (
	HealthUp HealthState = iota + 1
	HealthDown
)

// String returns "up" or "down", the event's status in JSON output.
func (h HealthState) String() string {
	switch h {
	case HealthUp:
		return "up"
	case HealthDown:
		return "down"
	}
	return fmt.Sprintf("HealthState(%d)", int(h))
}

// Health is a change in the backend's reachability while the store is
// ready (KindHealth). The engine checks the backend with a cheap round
// trip every health interval. One failed check (an error, or no answer
// within the check's timeout) makes the backend down; the next answered
// check makes it up again. Stores reconnect by themselves meanwhile: a
// KindHealth event tells, it does not mean the store was reopened.
type Health struct {
	// State is the new state.
	State HealthState
	// Address is what the store connects to, as configured (as in
	// Attempt.Address).
	Address string
	// Since is when the outage began, as the engine saw it: the start of
	// the first check that failed (the backend last answered at most one
	// interval before). The same on the down event and the up event that
	// ends the outage, so a view can show "down for <now - Since>".
	Since time.Time
	// Outage is how long the backend was unreachable: from Since to the
	// answer of the check that found it back. Zero on a down event.
	Outage time.Duration
}

// MarshalJSON writes the event as one flat JSON object with stable field
// names; errors become their (redacted) text. The fields: time, kind,
// stage, status, level, text, detail, pull, attempt, path and reason (the
// StageProvision event: Path.String, Reason.String), error; empty ones are
// left out.
func (ev Event) MarshalJSON() ([]byte, error) {
	type attempt struct {
		N           int    `json:"n"`
		Address     string `json:"address,omitempty"`
		ElapsedMS   int64  `json:"elapsed_ms"`
		BudgetMS    int64  `json:"budget_ms"`
		NextDelayMS int64  `json:"next_delay_ms"`
	}
	type pull struct {
		Image      string `json:"image,omitempty"`
		Layer      string `json:"layer,omitempty"`
		Phase      string `json:"phase,omitempty"`
		Status     string `json:"status,omitempty"`
		Current    int64  `json:"current"`
		Total      int64  `json:"total"`
		Done       int64  `json:"done"`
		Size       int64  `json:"size"`
		Unknown    int    `json:"unknown_layers,omitempty"`
		LayersDone int    `json:"layers_done"`
		Layers     int    `json:"layers"`
	}
	type health struct {
		Address  string    `json:"address,omitempty"`
		Since    time.Time `json:"since"`
		OutageMS int64     `json:"outage_ms"`
	}
	out := struct {
		Time    time.Time `json:"time"`
		Kind    string    `json:"kind"`
		Stage   string    `json:"stage,omitempty"`
		Status  string    `json:"status,omitempty"`
		Level   string    `json:"level,omitempty"`
		Text    string    `json:"text,omitempty"`
		Detail  string    `json:"detail,omitempty"`
		Pull    *pull     `json:"pull,omitempty"`
		Attempt *attempt  `json:"attempt,omitempty"`
		Path    string    `json:"path,omitempty"`
		Reason  string    `json:"reason,omitempty"`
		Health  *health   `json:"health,omitempty"`
		Error   string    `json:"error,omitempty"`
	}{Time: ev.Time, Kind: ev.Kind.String(), Text: ev.Text, Detail: ev.Detail}
	if ev.Path != 0 {
		out.Path = ev.Path.String()
	}
	if ev.Reason != 0 {
		out.Reason = ev.Reason.String()
	}
	if ev.Stage != 0 {
		out.Stage = ev.Stage.String()
	}
	if ev.Status != 0 {
		out.Status = ev.Status.String()
	}
	if ev.Level != 0 {
		out.Level = ev.Level.String()
	}
	if ev.Err != nil {
		out.Error = ev.Err.Error()
	}
	if p := ev.Pull; p != nil {
		phase := ""
		if p.Layer != "" {
			phase = p.Phase.String()
		}
		out.Pull = &pull{p.Image, p.Layer, phase, p.Status, p.Current, p.Total, p.Done, p.Size, p.Unknown, p.LayersDone, p.Layers}
	}
	if a := ev.Attempt; a != nil {
		out.Attempt = &attempt{a.N, a.Address, a.Elapsed.Milliseconds(), a.Budget.Milliseconds(), a.NextDelay.Milliseconds()}
	}
	if h := ev.Health; h != nil {
		// A health event's status is the backend's: "down" or "up".
		out.Status = h.State.String()
		out.Health = &health{h.Address, h.Since, h.Outage.Milliseconds()}
	}
	return json.Marshal(out)
}
