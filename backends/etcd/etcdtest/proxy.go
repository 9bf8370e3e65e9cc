package etcdtest

import (
	"net"
	"sync"

	"github.com/k3/k3-storage/internal/testnet"
)

// proxy forwards TCP connections from its own loopback port to a member's
// client port. Stopping it closes the port and every connection through it
// at once, which is what clients see when a member crashes. Blackhole
// holds all traffic back without closing anything, which is what they see
// when the network between them fails silently.
type proxy struct {
	addr   string // fixed for the proxy's life, kept across stop and start
	target string

	mu    sync.Mutex
	ln    net.Listener
	conns map[net.Conn]struct{}
	gate  *testnet.Gate
	quit  chan struct{} // closed by stop: held-back pipes give up
	wg    sync.WaitGroup
}

// newProxy reserves a loopback port for a proxy to target; start opens it.
func newProxy(target string) (*proxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := ln.Addr().String()
	ln.Close()
	return &proxy{addr: addr, target: target, conns: make(map[net.Conn]struct{}), gate: testnet.NewGate()}, nil
}

// blackhole holds back all traffic, both ways, on every connection present
// or new, until heal; nothing is closed, and nothing held back is lost.
func (p *proxy) blackhole() { p.gate.Blackhole() }

// heal lets traffic flow again after blackhole.
func (p *proxy) heal() { p.gate.Heal() }

// start listens on the proxy's port and forwards connections until stop.
func (p *proxy) start() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		return nil
	}
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		return err
	}
	p.ln = ln
	p.quit = make(chan struct{})
	p.wg.Add(1)
	go p.accept(ln, p.quit)
	return nil
}

func (p *proxy) accept(ln net.Listener, quit <-chan struct{}) {
	defer p.wg.Done()
	for {
		in, err := ln.Accept()
		if err != nil {
			return // closed by stop
		}
		out, err := net.Dial("tcp", p.target)
		if err != nil {
			in.Close()
			continue
		}
		if !p.track(in, out) {
			return
		}
		p.wg.Add(2)
		go p.pipe(in, out, quit)
		go p.pipe(out, in, quit)
	}
}

// track registers a connection pair, or closes it and reports false if the
// proxy was stopped meanwhile.
func (p *proxy) track(in, out net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln == nil {
		in.Close()
		out.Close()
		return false
	}
	p.conns[in] = struct{}{}
	p.conns[out] = struct{}{}
	return true
}

// pipe copies one direction; when either side ends, both are closed.
func (p *proxy) pipe(dst, src net.Conn, quit <-chan struct{}) {
	defer p.wg.Done()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 && (!p.gate.Pass(quit) || !write(dst, buf[:n])) {
			break
		}
		if err != nil {
			break
		}
	}
	dst.Close()
	src.Close()
	p.mu.Lock()
	delete(p.conns, dst)
	delete(p.conns, src)
	p.mu.Unlock()
}

// stop closes the port and every forwarded connection, and waits for the
// proxy's goroutines.
func (p *proxy) stop() {
	p.mu.Lock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
		close(p.quit)
	}
	for c := range p.conns {
		c.Close()
	}
	p.mu.Unlock()
	p.wg.Wait()
}

func write(dst net.Conn, b []byte) bool {
	_, err := dst.Write(b)
	return err == nil
}
