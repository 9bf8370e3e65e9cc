package engine

import (
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/k3/k3-storage/engine/lifecycle"
	"github.com/k3/k3-storage/internal/units"
)

// LogPrinter renders events for headless mode. The original service's log
// lines (Event.Text) go to Out, exactly and nothing else between them, so
// scripts can match them; progress, warnings and errors (Event.Detail,
// Event.Err) go to Err. Pull progress is throttled to one line per
// PullEvery. The zero PullEvery means 2s.
type LogPrinter struct {
	Out, Err  io.Writer
	PullEvery time.Duration

	lastPull time.Time
}

// Print writes the lines for one event.
func (p *LogPrinter) Print(ev lifecycle.Event) {
	if ev.Text != "" {
		fmt.Fprintln(p.Out, ev.Text)
	}
	switch {
	case ev.Kind == lifecycle.KindPull:
		p.pull(ev)
	case ev.Kind == lifecycle.KindLog && ev.Level == lifecycle.Warn:
		fmt.Fprintln(p.Err, "警告: "+ev.Detail)
	case ev.Detail != "":
		fmt.Fprintln(p.Err, ev.Detail)
	case ev.Final() && ev.Err != nil:
		// Failed stages end the lifecycle with the same error; print it once.
		fmt.Fprintln(p.Err, "错误: "+ev.Err.Error())
	}
}

func (p *LogPrinter) pull(ev lifecycle.Event) {
	every := p.PullEvery
	if every == 0 {
		every = 2 * time.Second
	}
	pl := ev.Pull
	if pl == nil {
		return
	}
	complete := pl.Layers > 0 && pl.LayersDone == pl.Layers
	if !complete && ev.Time.Sub(p.lastPull) < every {
		return
	}
	p.lastPull = ev.Time
	if pl.Size > 0 {
		fmt.Fprintf(p.Err, detailPull+"\n", pl.Image, units.Bytes(pl.Done), units.Bytes(pl.Size), pl.Done*100/pl.Size, pl.LayersDone, pl.Layers)
		return
	}
	fmt.Fprintf(p.Err, detailPullUnknown+"\n", pl.Image, units.Bytes(pl.Done), pl.LayersDone, pl.Layers)
}

// JSONPrinter writes every event as one JSON object per line.
type JSONPrinter struct {
	Out io.Writer
}

// Print writes one event.
func (p JSONPrinter) Print(ev lifecycle.Event) error {
	line, err := json.Marshal(ev)
	if err != nil {
		return fmt.Errorf("engine: encode event: %w", err)
	}
	_, err = p.Out.Write(append(line, '\n'))
	return err
}
