package mysqltest

import (
	"bytes"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/k3/k3-storage/backends/mysql"
	"github.com/k3/k3-storage/internal/testnet"
)

// Proxy forwards TCP connections from a loopback port to a MySQL server,
// and can freeze a connection when a statement passes: from then on nothing
// passes either way, yet both sockets stay open, so the server sees a
// client that went silent in the middle of what it was doing (a network
// partition, a hung or killed process) and the client sees a server that
// no longer answers. Blackhole does that to all traffic, until Heal. The
// test's Cleanup closes it.
type Proxy struct {
	target string
	ln     net.Listener
	done   chan struct{} // closed by Cleanup: frozen connections let go

	mu      sync.Mutex
	gate    *testnet.Gate
	trigger []byte        // armed by FreezeOn; nil when disarmed
	frozen  chan struct{} // closed when a connection froze on trigger
	conns   map[net.Conn]struct{}
	wg      sync.WaitGroup
}

// NewProxy starts a proxy to the server of opts.
func NewProxy(tb testing.TB, opts mysql.Options) *Proxy {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	p := &Proxy{
		target: net.JoinHostPort(opts.Host, strconv.Itoa(opts.Port)),
		ln:     ln,
		done:   make(chan struct{}),
		conns:  make(map[net.Conn]struct{}),
		gate:   testnet.NewGate(),
	}
	p.wg.Add(1)
	go p.accept()
	tb.Cleanup(p.close)
	return p
}

// Options returns opts pointed at the proxy.
func (p *Proxy) Options(opts mysql.Options) mysql.Options {
	addr := p.ln.Addr().(*net.TCPAddr)
	opts.Host, opts.Port = addr.IP.String(), addr.Port
	return opts
}

// FreezeOn arms the proxy: the next connection that sends statement (as
// text; the Store interpolates parameters client-side) forwards it to the
// server and then freezes. The returned channel is closed when that has
// happened. Other connections, and new ones, are not affected.
func (p *Proxy) FreezeOn(statement string) <-chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.trigger = []byte(statement)
	p.frozen = make(chan struct{})
	return p.frozen
}

// Blackhole holds back all traffic through the proxy, both ways, on every
// connection, present or new, without closing any: what a network
// partition (or a frozen server) looks like from either end. New
// connections are still accepted, as a server's kernel does while the
// server hangs. Heal lets the traffic flow again; nothing held back is
// lost.
func (p *Proxy) Blackhole() { p.gate.Blackhole() }

// Heal ends a Blackhole.
func (p *Proxy) Heal() { p.gate.Heal() }

func (p *Proxy) accept() {
	defer p.wg.Done()
	for {
		in, err := p.ln.Accept()
		if err != nil {
			return // closed
		}
		out, err := net.Dial("tcp", p.target)
		if err != nil {
			in.Close()
			continue
		}
		p.mu.Lock()
		p.conns[in], p.conns[out] = struct{}{}, struct{}{}
		p.mu.Unlock()
		var frozen atomic.Bool
		p.wg.Add(2)
		go p.pipe(out, in, &frozen, true)
		go p.pipe(in, out, &frozen, false)
	}
}

// pipe copies src to dst until either ends, or until the pair freezes;
// then it waits for Cleanup. Only the client-to-server direction looks
// for the trigger.
func (p *Proxy) pipe(dst, src net.Conn, frozen *atomic.Bool, fromClient bool) {
	defer p.wg.Done()
	buf := make([]byte, 64<<10)
	var tail []byte // the end of the previous read, for a split trigger
	for {
		n, err := src.Read(buf)
		if frozen.Load() {
			<-p.done
			return
		}
		if n > 0 && !p.gate.Pass(p.done) {
			return
		}
		if n > 0 {
			chunk := buf[:n]
			if fromClient && p.fires(append(tail, chunk...), frozen) {
				dst.Write(chunk) // the statement reaches the server...
				<-p.done         // ...its answer never reaches the client
				return
			}
			if fromClient {
				tail = append(tail[:0], chunk[max(0, n-256):]...)
			}
			if _, err := dst.Write(chunk); err != nil {
				src.Close()
				return
			}
		}
		if err != nil {
			dst.Close()
			return
		}
	}
}

// fires reports whether data holds the armed trigger, and if so freezes
// the pair (before the statement is forwarded, so that no answer slips
// through) and disarms the proxy.
func (p *Proxy) fires(data []byte, frozen *atomic.Bool) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.trigger == nil || !bytes.Contains(data, p.trigger) {
		return false
	}
	frozen.Store(true)
	p.trigger = nil
	close(p.frozen)
	return true
}

// close stops the proxy, cuts every connection and waits for its
// goroutines.
func (p *Proxy) close() {
	p.ln.Close()
	close(p.done)
	p.mu.Lock()
	for c := range p.conns {
		c.Close()
	}
	p.mu.Unlock()
	p.wg.Wait()
}
