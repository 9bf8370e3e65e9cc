package containers

import (
	"context"
	"errors"
	"net"
	"strconv"
	"syscall"
	"time"
)

// checkPorts fails with *PortInUseError if a host port is already bound on
// this host. The database is reached through these ports from this host, so
// whoever holds one would answer in its place.
func (e *ensurer) checkPorts() error {
	for _, p := range e.spec.Ports {
		if err := probePort(p.HostIP, p.HostPort); err != nil {
			return &PortInUseError{Name: e.spec.Name, HostIP: p.HostIP, Port: p.HostPort, Err: err}
		}
	}
	return nil
}

// portSettle bounds how long a busy host port is re-checked before it is
// reported as taken: a racing k3-storage's own probe holds it for an
// instant, a program that really uses it holds it for good.
const portSettle = time.Second

// checkPortsSettled is checkPorts, re-checked every 50ms for up to
// portSettle while the port is busy and no container has our name yet.
func (e *ensurer) checkPortsSettled(ctx context.Context) error {
	deadline := time.Now().Add(portSettle)
	for {
		err := e.checkPorts()
		if err == nil || e.nameTaken(ctx) || time.Now().After(deadline) {
			return err
		}
		t := time.NewTimer(50 * time.Millisecond)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return err
		}
	}
}

// probePort returns the listen error if ip:port is in use. Other listen
// failures (no IPv6, no permission) are left for the daemon to judge.
func probePort(ip string, port int) error {
	l, err := net.Listen("tcp", net.JoinHostPort(ip, strconv.Itoa(port)))
	if err != nil {
		if errors.Is(err, syscall.EADDRINUSE) {
			return err
		}
		return nil
	}
	return l.Close()
}
