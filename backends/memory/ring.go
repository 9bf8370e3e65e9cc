package memory

import "github.com/k3/k3-storage/backends"

// eventRing is the bounded event log: a ring that grows by doubling up to
// its limit and then overwrites its oldest event, so that a write costs no
// copy of the history (a slice trimmed at the front would be reallocated
// and copied every few writes once full).
type eventRing struct {
	buf   []backends.Event
	start int // index in buf of the oldest event
	n     int // events held
	limit int // most events held
}

func newEventRing(limit int) eventRing { return eventRing{limit: limit} }

// len returns how many events the ring holds.
func (r *eventRing) len() int { return r.n }

// at returns the i-th oldest event, 0 <= i < len().
func (r *eventRing) at(i int) backends.Event { return r.buf[(r.start+i)%len(r.buf)] }

// push appends ev, dropping the oldest event when the ring is at its limit;
// it reports whether one was dropped.
func (r *eventRing) push(ev backends.Event) (dropped bool) {
	if r.n == len(r.buf) {
		if len(r.buf) < r.limit {
			r.grow()
		} else {
			r.dropFront(1)
			dropped = true
		}
	}
	r.buf[(r.start+r.n)%len(r.buf)] = ev
	r.n++
	return dropped
}

// grow doubles the ring's capacity (up to its limit), oldest event first.
func (r *eventRing) grow() {
	size := min(max(2*len(r.buf), 64), r.limit)
	buf := make([]backends.Event, size)
	for i := range r.n {
		buf[i] = r.at(i)
	}
	r.buf, r.start = buf, 0
}

// dropFront forgets the k oldest events, letting the garbage collector
// take their values.
func (r *eventRing) dropFront(k int) {
	for range min(k, r.n) {
		r.buf[r.start] = backends.Event{}
		r.start = (r.start + 1) % len(r.buf)
		r.n--
	}
}

// reset forgets everything.
func (r *eventRing) reset() { *r = eventRing{limit: r.limit} }
