// Package testnet holds what the tests' TCP proxies share: a gate that
// holds traffic back without closing anything, as a silent network does.
package testnet

import "sync"

// Gate lets traffic pass while open and holds it back while closed
// (Blackhole), until Heal. The zero Gate is not usable; NewGate returns
// an open one. Its methods are safe for concurrent use.
type Gate struct {
	mu   sync.Mutex
	open chan struct{} // closed while traffic flows
}

// NewGate returns an open gate.
func NewGate() *Gate {
	g := &Gate{open: make(chan struct{})}
	close(g.open)
	return g
}

// Blackhole closes the gate: Pass waits from now on. Closing a closed gate
// does nothing.
func (g *Gate) Blackhole() {
	g.mu.Lock()
	defer g.mu.Unlock()
	select {
	case <-g.open:
		g.open = make(chan struct{})
	default: // already
	}
}

// Heal opens the gate again: every waiting Pass returns true. Opening an
// open gate does nothing.
func (g *Gate) Heal() {
	g.mu.Lock()
	defer g.mu.Unlock()
	select {
	case <-g.open:
	default:
		close(g.open)
	}
}

// Pass waits while the gate is closed. It returns true once it is open,
// false when quit closes first.
func (g *Gate) Pass(quit <-chan struct{}) bool {
	g.mu.Lock()
	open := g.open
	g.mu.Unlock()
	select {
	case <-open:
		return true
	case <-quit:
		return false
	}
}
