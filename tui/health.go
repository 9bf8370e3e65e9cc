package tui

import (
	"fmt"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/k3/k3-storage/engine/lifecycle"
)

// The backend's health while the store is ready, as the engine reports it
// (lifecycle.KindHealth): the console shows an outage in the header, stops
// claiming the view is live, refuses writes it knows cannot reach the
// backend, and on recovery says so and restarts a broken watch at once.
// The engine decides up and down; the console only shows it.

// backendHealth is the backend's reachability as the engine last reported
// it. The zero value is up: a ready store starts up.
type backendHealth struct {
	down    bool
	address string // what the engine checks, as configured
	// since is when the outage began (the start of the first failed
	// check), on the down event and on the up event that ends it.
	since time.Time
	// outage is how long the outage that just ended lasted; zero while
	// down.
	outage time.Duration
	// err is the failed check's error (unescaped); "" when up.
	err string
}

// apply folds a KindHealth event into h. An event without a Health
// payload changes nothing.
func (h *backendHealth) apply(ev lifecycle.Event) {
	p := ev.Health
	if p == nil {
		return
	}
	*h = backendHealth{
		down:    p.State == lifecycle.HealthDown,
		address: p.Address,
		since:   p.Since,
		outage:  p.Outage,
	}
	if h.down && ev.Err != nil {
		h.err = ev.Err.Error()
	}
}

// recoveredFor is how long the status line says the backend is back.
const recoveredFor = 5 * time.Second

// setHealth takes the backend's health from the model. Going down, it
// only records it: the header shows the outage, the live badge stops
// saying live, the watch's retries wait (they would only fail) and writes
// are refused. Coming back up, it says so in the status line (unless a
// question waits for its answer there) and retries a broken watch at once
// instead of waiting out its backoff, whose failures were the outage's.
func (b *browser) setHealth(h backendHealth, now time.Time) tea.Cmd {
	was := b.health.down
	b.health = h
	if h.down || !was {
		return nil
	}
	if !b.prompting() {
		b.setStatus(statusOK, fmt.Sprintf(txtBackendUp, formatDuration(h.outage)), now, recoveredFor)
	}
	w := &b.watch
	if w.live || w.retryAt.IsZero() {
		return nil // live all along, or a read in flight restarts it
	}
	w.backoff = 0
	if b.list.busy {
		// The tick retries once the read lands (see tick).
		w.retryAt = now
		return nil
	}
	w.retryAt = time.Time{}
	return b.refresh(false)
}

// outagePart is the header's part for a backend that does not answer:
// what is unreachable and for how long, counting with the clock. "" while
// the backend is up.
func (b *browser) outagePart(now time.Time) string {
	h := b.health
	if !h.down {
		return ""
	}
	text := "✗ " + txtBackendDown
	if h.address != "" {
		text += " " + Escape(h.address)
	}
	return b.st.fail.Render(text + " · " + formatSeconds(max(now.Sub(h.since), 0)))
}

// outageError is the failed check's error for the header, escaped, on one
// line and shortened to at most room cells (and maxErrCells). "" while the
// backend is up, when the engine gave no error, or when room is too small
// to say anything (under minErrCells).
func (b *browser) outageError(room int) string {
	h := b.health
	if !h.down || h.err == "" || room < minErrCells {
		return ""
	}
	return b.st.errText.Render(clip(Escape(oneLine(h.err)), min(room, maxErrCells)))
}

// The failed check's error in the header: at most maxErrCells, and only
// when at least minErrCells are left for it.
const (
	minErrCells = 12
	maxErrCells = 60
)
