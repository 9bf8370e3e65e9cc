package engine

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/k3/k3-storage/backends"
	"github.com/k3/k3-storage/engine/lifecycle"
)

// connect opens the backend, retrying failed attempts with capped backoff
// until the backend's budget is spent or an error is permanent. Each failed
// attempt is reported as a KindAttempt event.
func (e *Engine) connect(ctx context.Context) (backends.Store, error) {
	b := e.backend
	budget := b.budget()
	addr := b.address()
	if budget > 0 {
		e.begin(lifecycle.StageConnect, "", fmt.Sprintf(detailConnecting, addr, roundDuration(budget)))
	} else {
		e.begin(lifecycle.StageConnect, "", "")
	}
	start := time.Now()
	delay := e.opts.Retry.Initial
	for n := 1; ; n++ {
		attemptCtx, cancel := context.WithTimeout(ctx, e.attemptTimeout(budget, time.Since(start)))
		store, err := b.open(attemptCtx)
		cancel()
		if err == nil {
			e.end(lifecycle.StageConnect, lifecycle.Done, b.readyText(), "", nil)
			return store, nil
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		elapsed := time.Since(start)
		last := errors.Is(err, backends.ErrPermanent) || budget <= 0 || elapsed+delay >= budget
		a := &lifecycle.Attempt{N: n, Address: addr, Elapsed: elapsed, Budget: budget}
		if !last {
			a.NextDelay = delay
		}
		rerr := e.redact(err)
		e.progressAttempt(a, rerr)
		if last {
			switch why := b.explain(err); {
			case why != nil:
				err = why
			case errors.Is(err, backends.ErrPermanent) || budget <= 0:
				err = fmt.Errorf(errConnect, addr, err)
			default:
				err = fmt.Errorf(errConnectBudget+hintConnect, roundDuration(budget), addr, err, addr)
			}
			return nil, err
		}
		t := time.NewTimer(delay)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		}
		delay = min(delay*2, e.retryCap())
	}
}

// localPoll caps the wait between attempts on a database container or
// native server this process (or another k3-storage) just started or
// adopted: it is on this machine and expected to answer within seconds, so
// polling it often costs nothing and notices it sooner than the general
// cap.
const localPoll = 50 * time.Millisecond

func (e *Engine) retryCap() time.Duration {
	if e.handle.Owned || e.local {
		return min(e.opts.Retry.Max, localPoll)
	}
	return e.opts.Retry.Max
}

// attemptTimeout bounds one attempt by the policy and the budget left.
func (e *Engine) attemptTimeout(budget, elapsed time.Duration) time.Duration {
	d := e.opts.Retry.AttemptTimeout
	if budget > 0 {
		d = min(d, max(budget-elapsed, 100*time.Millisecond))
	}
	return d
}

// progressAttempt reports a failed attempt. Attempts are progress, but the
// last one is kept even when the reader is behind.
func (e *Engine) progressAttempt(a *lifecycle.Attempt, err error) {
	var detail string
	if a.NextDelay > 0 {
		detail = fmt.Sprintf(detailAttempt, a.N, a.Address, roundDuration(a.Elapsed), roundDuration(a.Budget), err, roundDuration(a.NextDelay))
		e.progress(lifecycle.Event{Kind: lifecycle.KindAttempt, Stage: lifecycle.StageConnect, Attempt: a, Detail: detail, Err: err})
		return
	}
	detail = fmt.Sprintf(detailLastAttempt, a.N, a.Address, roundDuration(a.Elapsed), roundDuration(a.Budget), err)
	e.emit(lifecycle.Event{Kind: lifecycle.KindAttempt, Stage: lifecycle.StageConnect, Attempt: a, Detail: detail, Err: err})
}
