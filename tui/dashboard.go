package tui

import (
	"time"

	"github.com/k3/k3-storage/engine/lifecycle"
)

// dashboard is the startup and shutdown view state, folded from engine
// events. It decides nothing: it only remembers what the engine said.
type dashboard struct {
	rows []stageRow
	pull *pullState
	// The last connect attempt, when it was reported, and its error.
	attempt    *lifecycle.Attempt
	attemptAt  time.Time
	attemptErr string
	warnings   []string
	info       string // the last informational line
	// health is the backend's reachability while the store is ready
	// (KindHealth events), which the browser shows.
	health backendHealth
	// log is the original service's log lines (Event.Text) in order,
	// printed after the console closes.
	log []logLine
}

type logLine struct {
	stage lifecycle.Stage
	text  string
}

// stageRow is one line of the checklist.
type stageRow struct {
	stage    lifecycle.Stage
	status   lifecycle.Status
	text     string
	began    time.Time
	duration time.Duration
	err      string
}

// maxWarnings bounds the warnings kept; a runaway engine must not grow the
// view without bound.
const maxWarnings = 20

// apply folds one engine event into the view state.
func (d *dashboard) apply(ev lifecycle.Event) {
	if ev.Text != "" {
		d.log = append(d.log, logLine{ev.Stage, ev.Text})
	}
	switch ev.Kind {
	case lifecycle.KindStage:
		d.applyStage(ev)
	case lifecycle.KindPull:
		if ev.Pull != nil {
			if d.pull == nil {
				d.pull = newPullState()
			}
			d.pull.apply(ev.Time, *ev.Pull)
		}
	case lifecycle.KindAttempt:
		if ev.Attempt != nil {
			a := *ev.Attempt
			d.attempt, d.attemptAt = &a, ev.Time
		}
		d.attemptErr = ""
		if ev.Err != nil {
			d.attemptErr = ev.Err.Error()
		}
	case lifecycle.KindHealth:
		d.health.apply(ev)
	case lifecycle.KindLog:
		line := ev.Detail
		if line == "" {
			line = ev.Text
		}
		if line == "" && ev.Err != nil {
			line = ev.Err.Error()
		}
		if ev.Level == lifecycle.Warn {
			if len(d.warnings) < maxWarnings {
				d.warnings = append(d.warnings, line)
			}
		} else {
			d.info = line
		}
	}
}

func (d *dashboard) applyStage(ev lifecycle.Event) {
	text := ev.Text
	if text == "" {
		text = ev.Detail
	}
	if ev.Stage == lifecycle.StageConnect && ev.Status != lifecycle.Running {
		d.attempt = nil
	}
	for i := range d.rows {
		r := &d.rows[i]
		if r.stage != ev.Stage || r.status != lifecycle.Running {
			continue
		}
		r.status = ev.Status
		r.duration = ev.Time.Sub(r.began)
		if text != "" {
			r.text = text
		}
		if ev.Err != nil {
			r.err = ev.Err.Error()
		}
		return
	}
	row := stageRow{stage: ev.Stage, status: ev.Status, text: text, began: ev.Time}
	if ev.Err != nil {
		row.err = ev.Err.Error()
	}
	d.rows = append(d.rows, row)
}

// running reports whether a stage is in progress.
func (d *dashboard) running(s lifecycle.Stage) bool {
	for _, r := range d.rows {
		if r.stage == s && r.status == lifecycle.Running {
			return true
		}
	}
	return false
}

// pullState tracks an image pull layer by layer, plus samples of the
// aggregate for the rate.
type pullState struct {
	image      string
	layers     []layerState
	index      map[string]int
	done, size int64
	layersDone int
	layerCount int
	samples    []pullSample
}

// layerState is one layer's last reported progress.
type layerState struct {
	id      string
	phase   lifecycle.LayerPhase
	status  string // the runtime's words, shown for an unknown phase
	current int64
	total   int64 // of the current phase; <= 0 unknown
	size    int64 // download size, once known
}

type pullSample struct {
	t    time.Time
	done int64
}

// rateWindow is how far back the pull rate looks.
const rateWindow = 5 * time.Second

func newPullState() *pullState { return &pullState{index: map[string]int{}} }

func (p *pullState) apply(t time.Time, pl lifecycle.Pull) {
	if pl.Image != "" {
		p.image = pl.Image
	}
	p.done, p.size, p.layersDone, p.layerCount = pl.Done, pl.Size, pl.LayersDone, pl.Layers
	if pl.Layer != "" {
		i, ok := p.index[pl.Layer]
		if !ok {
			i = len(p.layers)
			p.index[pl.Layer] = i
			p.layers = append(p.layers, layerState{id: pl.Layer})
		}
		l := &p.layers[i]
		l.phase, l.status, l.current, l.total = pl.Phase, pl.Status, pl.Current, pl.Total
		if pl.Phase == lifecycle.PhaseDownloading && pl.Total > 0 {
			l.size = pl.Total
		}
	}
	p.samples = append(p.samples, pullSample{t, pl.Done})
	// Keep one sample older than the window, so the rate spans it.
	cut := 0
	for cut+1 < len(p.samples) && t.Sub(p.samples[cut+1].t) > rateWindow {
		cut++
	}
	if cut > 0 {
		p.samples = append(p.samples[:0], p.samples[cut:]...)
	}
}

// rate returns the download rate in bytes per second over the recent
// samples; 0 when unknown.
func (p *pullState) rate() float64 {
	if len(p.samples) < 2 {
		return 0
	}
	first, last := p.samples[0], p.samples[len(p.samples)-1]
	dt := last.t.Sub(first.t)
	if dt < 200*time.Millisecond || last.done <= first.done {
		return 0
	}
	return float64(last.done-first.done) / dt.Seconds()
}

// unknownLayers counts layers downloading without a known size.
func (p *pullState) unknownLayers() int {
	n := 0
	for _, l := range p.layers {
		if l.phase == lifecycle.PhaseDownloading && l.total <= 0 {
			n++
		}
	}
	return n
}
