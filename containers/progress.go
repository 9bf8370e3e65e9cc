package containers

import (
	"fmt"
	"strings"
)

// Step is a stage of Ensure, reported through Progress.
type Step int

const (
	StepInspect      Step = iota // looking for an existing container with the spec's name
	StepReuse                    // a running container is reused as it is (Owned false)
	StepAdopt                    // an orphan of a dead k3-storage process is taken over (Owned true)
	StepWait                     // another process is creating the container; waiting for it to run
	StepRemoveStale              // removing our own orphan that is stopped or built from another spec
	StepImageCheck               // checking whether the image is present locally
	StepImagePresent             // the image is present: no pull
	StepPull                     // one message of the pull stream: Layer, Status, Current, Total, Aggregate
	StepPullComplete             // the pull finished; Aggregate holds the totals
	StepVolume                   // creating the named volume (reported only when it did not exist)
	StepCreate                   // creating the container
	StepStart                    // starting the container
	StepRunning                  // the container runs (the database inside may not answer yet)
	StepCleanup                  // removing what this failed Ensure created
)

var stepNames = [...]string{
	StepInspect:      "inspect",
	StepReuse:        "reuse",
	StepAdopt:        "adopt",
	StepWait:         "wait",
	StepRemoveStale:  "remove-stale",
	StepImageCheck:   "image-check",
	StepImagePresent: "image-present",
	StepPull:         "pull",
	StepPullComplete: "pull-complete",
	StepVolume:       "volume",
	StepCreate:       "create",
	StepStart:        "start",
	StepRunning:      "running",
	StepCleanup:      "cleanup",
}

// String is a stable lower-case identifier, fit for JSON output.
func (s Step) String() string {
	if s >= 0 && int(s) < len(stepNames) {
		return stepNames[s]
	}
	return fmt.Sprintf("step(%d)", int(s))
}

// PullTotals aggregates a pull over all layers announced so far.
type PullTotals struct {
	Layers     int   // layers announced by the daemon
	LayersDone int   // layers extracted ("Pull complete") or already present ("Already exists")
	Current    int64 // bytes downloaded, counting finished downloads at their full size
	Total      int64 // sum of the sizes known so far (layers already present count 0)
	Unknown    int   // layers still to download whose size is not known yet
}

// Complete reports whether every announced layer is done.
func (t PullTotals) Complete() bool { return t.Layers > 0 && t.LayersDone == t.Layers }

// Percent is Current/Total in percent, or -1 while any size is unknown.
func (t PullTotals) Percent() float64 {
	if t.Unknown > 0 || t.Total <= 0 {
		return -1
	}
	return 100 * float64(t.Current) / float64(t.Total)
}

// LayerPhase is where one layer of a pull stands, decoded from the daemon's
// status text so that callers switch on it instead of matching the text.
// Docker goes Waiting, Downloading, Verifying, Downloaded, Extracting,
// Complete (or Exists at once); Podman goes Waiting, Downloading, Downloaded
// (or Exists) and extracts without saying so, so a Podman layer is never
// Done by its own messages: the pull's end (StepPullComplete) says that.
// The zero value, PhaseUnknown, is a status this package does not know
// (such as Docker's "Retrying in 5 seconds"); the message is reported all
// the same.
type LayerPhase int

const (
	PhaseUnknown     LayerPhase = iota // a status this package does not know
	PhaseWaiting                       // announced or queued: "Pulling fs layer", "Waiting"
	PhaseDownloading                   // "Downloading": Current/Total count bytes downloaded
	PhaseVerifying                     // "Verifying Checksum": downloaded, being checked
	PhaseDownloaded                    // "Download complete": Docker extracts next; Podman's last word
	PhaseExtracting                    // "Extracting": Current/Total count bytes extracted
	PhaseComplete                      // "Pull complete": extracted and registered
	PhaseExists                        // "Already exists": present locally, nothing to download
)

var phaseNames = [...]string{
	PhaseUnknown:     "unknown",
	PhaseWaiting:     "waiting",
	PhaseDownloading: "downloading",
	PhaseVerifying:   "verifying",
	PhaseDownloaded:  "downloaded",
	PhaseExtracting:  "extracting",
	PhaseComplete:    "complete",
	PhaseExists:      "exists",
}

// String is a stable lower-case identifier, fit for JSON output.
func (p LayerPhase) String() string {
	if p >= 0 && int(p) < len(phaseNames) {
		return phaseNames[p]
	}
	return fmt.Sprintf("phase(%d)", int(p))
}

// Done reports whether the phase is a layer's last: extracted (Complete) or
// already present (Exists).
func (p LayerPhase) Done() bool { return p == PhaseComplete || p == PhaseExists }

// Progress is one report from Ensure. It never holds env values.
type Progress struct {
	Step      Step
	Container string // container name
	Image     string // image reference
	// Layer, Phase, Status, Current and Total describe one layer for
	// StepPull: the layer ID as the daemon prints it, the phase decoded
	// from the status, the daemon's raw status text for logs ("Pulling fs
	// layer", "Downloading", "Extracting", "Pull complete", "Already
	// exists", ...), and bytes of the current phase; Total <= 0 means
	// unknown.
	Layer   string
	Phase   LayerPhase
	Status  string
	Current int64
	Total   int64
	// Aggregate sums the pull over all layers (StepPull, StepPullComplete).
	Aggregate PullTotals
	// Message is a Chinese detail for the user (the reused container's
	// owner, why a stale container is removed, ...).
	Message string
}

// String renders the report as one Chinese log line, with the daemon's raw
// layer status.
func (p Progress) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, txtProgress, p.Step, p.Container)
	if p.Step == StepPull || p.Step == StepPullComplete || p.Step == StepImageCheck || p.Step == StepImagePresent {
		fmt.Fprintf(&b, txtProgressImage, p.Image)
	}
	if p.Layer != "" {
		fmt.Fprintf(&b, txtProgressLayer, p.Layer, p.Status)
		if p.Total > 0 {
			fmt.Fprintf(&b, " %d/%d", p.Current, p.Total)
		} else if p.Current > 0 {
			fmt.Fprintf(&b, " %d", p.Current)
		}
	}
	if a := p.Aggregate; a.Layers > 0 {
		fmt.Fprintf(&b, txtProgressBytes, a.LayersDone, a.Layers, a.Current, a.Total)
		if pct := a.Percent(); pct >= 0 {
			fmt.Fprintf(&b, " %.0f%%", pct)
		}
		b.WriteString("]")
	}
	if p.Message != "" {
		fmt.Fprintf(&b, ": %s", p.Message)
	}
	return b.String()
}

// Outcome says how Ensure obtained the container.
type Outcome int

const (
	Created Outcome = iota + 1 // this call created and started it
	Adopted                    // an orphan of a dead k3-storage process, now ours
	Reused                     // someone else's running container (another k3-storage or not)
)

func (o Outcome) String() string {
	switch o {
	case Created:
		return "created"
	case Adopted:
		return "adopted"
	case Reused:
		return "reused"
	}
	return fmt.Sprintf("outcome(%d)", int(o))
}
