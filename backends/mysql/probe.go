package mysql

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"syscall"
)

// errNotMySQL is what a probed connection's Read returns when the peer's
// first bytes are not a MySQL greeting. The driver reports any read failure
// as ErrInvalidConn, so the probe also keeps what it saw for Open.
var errNotMySQL = errors.New("peer does not speak the MySQL protocol")

// probe recognises a peer that is not a MySQL server from the first bytes
// it sends. Without it, a banner such as "SSH-2.0-..." reads as the header of
// a multi-megabyte packet and the driver waits for the rest until the
// attempt times out, reporting a retryable timeout for what is a permanent
// misconfiguration.
type probe struct {
	mu    sync.Mutex
	first []byte // the first bytes of the rejected greeting
}

// mismatch returns the error Open reports when a connection was rejected.
func (p *probe) mismatch(addr string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.first == nil {
		return nil
	}
	return fmt.Errorf("%s is not a MySQL server (it sent %q first): %w", addr, p.first, errNotMySQL)
}

func (p *probe) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	return &probeConn{Conn: c, probe: p}, nil
}

// probeConn checks the greeting, then passes reads through.
type probeConn struct {
	net.Conn
	probe   *probe
	head    []byte
	checked bool
}

// greetingHead is how many bytes decide: the packet header (3-byte length,
// sequence number) and the first payload byte.
const greetingHead = 5

func (c *probeConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	if c.checked || n == 0 {
		return n, err
	}
	c.head = append(c.head, b[:min(n, greetingHead-len(c.head))]...)
	if len(c.head) < greetingHead {
		return n, err
	}
	c.checked = true
	if !isGreeting(c.head) {
		c.probe.mu.Lock()
		first := b[:min(n, 32)]
		if n < greetingHead {
			first = c.head
		}
		c.probe.first = append([]byte(nil), first...)
		c.probe.mu.Unlock()
		return 0, errNotMySQL
	}
	return n, err
}

// isGreeting reports whether head starts a MySQL server's first packet: a
// small packet with sequence number 0 holding either a handshake (protocol
// version 10) or an error (0xff, e.g. too many connections).
func isGreeting(head []byte) bool {
	length := int(head[0]) | int(head[1])<<8 | int(head[2])<<16
	return length > 0 && length <= 16<<10 && head[3] == 0 && (head[4] == 10 || head[4] == 0xff)
}

// SyscallConn exposes the socket, so the driver's liveness check of pooled
// connections keeps working through the wrapper.
func (c *probeConn) SyscallConn() (syscall.RawConn, error) {
	sc, ok := c.Conn.(syscall.Conn)
	if !ok {
		return nil, errors.New("not a syscall.Conn")
	}
	return sc.SyscallConn()
}
