package engine

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/k3/k3-storage/engine/lifecycle"
	"github.com/k3/k3-storage/internal/units"
)

// LogPrinter renders events for headless mode. The original service's log
// lines (Event.Text) go to Out, exactly and nothing else between them, so
// scripts can match them; progress, warnings and errors (Event.Detail,
// Event.Err) go to Err. Pull progress is throttled to one line per
// PullEvery. The zero PullEvery means 2s.
//
// Failed connect attempts print each distinct error once, when first seen;
// repeats only show in a summary line, at most one per RetryEvery (zero
// means 5s); the last attempt prints nothing, as the final error carries
// its error. Health changes print one line each.
type LogPrinter struct {
	Out, Err   io.Writer
	PullEvery  time.Duration
	RetryEvery time.Duration

	lastPull time.Time
	retry    retryLog
}

// Print writes the lines for one event.
func (p *LogPrinter) Print(ev lifecycle.Event) {
	if ev.Text != "" {
		fmt.Fprintln(p.Out, ev.Text)
	}
	switch {
	case ev.Kind == lifecycle.KindPull:
		p.pull(ev)
	case ev.Kind == lifecycle.KindAttempt && ev.Attempt != nil:
		p.attempt(ev)
	case ev.Kind == lifecycle.KindStage && ev.Stage == lifecycle.StageConnect && ev.Status == lifecycle.Running:
		p.retry = retryLog{} // a new connect stage: every error is news again
		if ev.Detail != "" {
			fmt.Fprintln(p.Err, ev.Detail)
		}
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

// retryLog is what a LogPrinter remembers of the current connect stage's
// failed attempts.
type retryLog struct {
	seen map[string]bool // error texts printed
	last time.Time       // when the last attempt line was printed
}

// attempt prints a failed connect attempt: its line when its error is new,
// else a summary when RetryEvery has passed since the last line.
func (p *LogPrinter) attempt(ev lifecycle.Event) {
	a := ev.Attempt
	if a.NextDelay == 0 {
		return // the last attempt: the final error says it
	}
	text := ""
	if ev.Err != nil {
		text = ev.Err.Error()
	}
	if !p.retry.seen[text] {
		if p.retry.seen == nil {
			p.retry.seen = make(map[string]bool)
		}
		p.retry.seen[text] = true
		p.retry.last = ev.Time
		fmt.Fprintln(p.Err, ev.Detail)
		return
	}
	every := p.RetryEvery
	if every == 0 {
		every = 5 * time.Second
	}
	if ev.Time.Sub(p.retry.last) < every {
		return
	}
	p.retry.last = ev.Time
	fmt.Fprintf(p.Err, detailStillWaiting+"\n", a.Address, a.N,
		a.Elapsed.Round(time.Second), a.Budget.Round(time.Second), cause(ev.Err))
}

// cause is the innermost of err's single chain of wrapped errors, the
// short form of a failure already printed in full ("connection refused"),
// for a summary line. It stops at an error that wraps several. Only a text
// that err's own shows is returned: the chain below a redacted error
// holds the unredacted one, whose parts may show a secret (err's text then
// shows "****" in its place, so a part with the secret is not in it).
func cause(err error) string {
	if err == nil {
		return "-"
	}
	full := err.Error()
	for inner := errors.Unwrap(err); inner != nil; inner = errors.Unwrap(inner) {
		err = inner
	}
	if leaf := err.Error(); leaf != "" && strings.Contains(full, leaf) {
		return leaf
	}
	return full
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
