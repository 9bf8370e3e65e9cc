package engine

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/k3/k3-storage/engine/lifecycle"
)

// TestStopJustAfterReady: a stop requested after the ready event went out
// but before Start handed the store over (scripts stop as soon as they read
// the ready line) shuts down as a stop after ready does: the store's close
// is reported before the final event, and Start says it was stopped.
func TestStopJustAfterReady(t *testing.T) {
	opts := Options{Retry: Retry{Initial: time.Millisecond, Max: 4 * time.Millisecond}}.withDefaults()
	opts.EventBuffer = 0 // each event waits for the reader, which cancels between two of them
	e := newEngine(opts, &fakeBackend{})
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	got := make(chan []string, 1)
	go func() {
		var seq []string
		for ev := range e.Events() {
			if ev.Kind != lifecycle.KindStage {
				continue
			}
			seq = append(seq, ev.Stage.String()+"/"+ev.Status.String())
			if ev.Stage == lifecycle.StageStart && ev.Status == lifecycle.Done {
				cancel() // before Start can send the ready event and check ctx
			}
		}
		got <- seq
	}()
	if _, err := e.Start(ctx); !errors.Is(err, lifecycle.ErrStopped) {
		t.Fatalf("Start = %v, want ErrStopped", err)
	}
	seq := strings.Join(<-got, " ")
	want := "ready/done stopping/running close-store/done stopping/done stopped/done"
	if !strings.HasSuffix(seq, want) {
		t.Fatalf("stages\n got %s\nwant it to end with %s", seq, want)
	}
	if err := e.Shutdown(t.Context()); err != nil {
		t.Fatalf("Shutdown after the stop: %v", err)
	}
}
