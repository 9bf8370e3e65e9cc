package main

import (
	"context"
	"os"
	"sync"
	"time"
)

// sameRequest is how long after the first stop request another signal
// counts as the same request: GNU timeout, systemd and a terminal's ctrl+c
// deliver one signal to the process and to its group, so it can arrive
// twice in the same instant.
const sameRequest = time.Second

// requests turns the signals arriving on sigs into the two requests the
// program serves: stop (the returned context ends on the first signal) and
// force (the channel closes on a later signal, more than sameRequest after
// the first). Whether a force request still forces anything is for the
// caller to decide: once cleanup has finished there is nothing to force.
// Requests stop being read when parent ends.
func requests(parent context.Context, sigs <-chan os.Signal, now func() time.Time) (stop context.Context, force <-chan struct{}) {
	stop, cancel := context.WithCancel(parent)
	forced := make(chan struct{})
	var once sync.Once
	go func() {
		var first time.Time
		for {
			select {
			case <-sigs:
			case <-parent.Done():
				return
			}
			t := now()
			switch {
			case first.IsZero():
				first = t
				cancel()
			case t.Sub(first) > sameRequest:
				once.Do(func() { close(forced) })
				return
			}
		}
	}()
	return stop, forced
}
