package etcd

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"sync"

	"google.golang.org/grpc/credentials"
)

// connLog remembers the last failure to connect to each member address, so
// that a call that ran out of time can say why ("connection refused", "x509:
// certificate signed by unknown authority") instead of only "context
// deadline exceeded", and so that Open can tell a TLS misconfiguration
// (permanent) from a member that is not up yet (retryable). gRPC reports
// these only as text, so the log hooks the dialer and the TLS handshake,
// where they are still typed errors.
type connLog struct {
	mu   sync.Mutex
	errs map[string]error // address -> last dial or handshake error
	// onTLSFailure, if set, is called (once) when a TLS failure is
	// recorded: Open uses it to give up at once rather than wait out its
	// deadline on a handshake that will never succeed.
	onTLSFailure func()
}

func newConnLog() *connLog { return &connLog{errs: make(map[string]error)} }

// record notes the outcome of a dial or handshake with addr.
func (l *connLog) record(addr string, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if err == nil {
		delete(l.errs, addr)
		return
	}
	l.errs[addr] = err
	if f := l.onTLSFailure; f != nil && isTLSFailure(err) {
		l.onTLSFailure = nil
		f()
	}
}

// notifyTLSFailure sets or (with nil) clears the TLS failure callback.
func (l *connLog) notifyTLSFailure(f func()) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.onTLSFailure = f
}

// dial is the gRPC dialer: a plain net.Dialer whose failures are recorded.
// Addresses are host:port, or "unix:path" for unix endpoints.
func (l *connLog) dial(ctx context.Context, addr string) (net.Conn, error) {
	network, address := "tcp", addr
	if path, ok := strings.CutPrefix(addr, "unix:"); ok {
		network, address = "unix", strings.TrimPrefix(path, "//")
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, network, address)
	switch {
	case err == nil:
		// A handshake error was recorded under the remote address.
		l.record(addr, nil)
		l.record(conn.RemoteAddr().String(), nil)
	case ctx.Err() == nil:
		l.record(addr, err)
	}
	return conn, err
}

// last returns the recorded failures as one error (addresses sorted), or
// nil when every address last connected fine.
func (l *connLog) last() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.errs) == 0 {
		return nil
	}
	addrs := make([]string, 0, len(l.errs))
	for a := range l.errs {
		addrs = append(addrs, a)
	}
	slices.Sort(addrs)
	errs := make([]error, len(addrs))
	for i, a := range addrs {
		errs[i] = fmt.Errorf("%s: %w", a, l.errs[a])
	}
	return &connErrors{errs}
}

// tlsFailure returns a recorded TLS handshake error that retrying cannot
// fix (an untrusted or mismatched certificate, a server that does not speak
// TLS, a rejected client certificate), or nil.
func (l *connLog) tlsFailure() error {
	err := l.last()
	var ce *connErrors
	if !errors.As(err, &ce) {
		return nil
	}
	for _, e := range ce.errs {
		if isTLSFailure(e) {
			return e
		}
	}
	return nil
}

func isTLSFailure(err error) bool {
	var (
		unknownAuthority x509.UnknownAuthorityError
		hostname         x509.HostnameError
		invalid          x509.CertificateInvalidError
		verification     *tls.CertificateVerificationError
		header           tls.RecordHeaderError
		alert            tls.AlertError
		op               *net.OpError
	)
	return errors.As(err, &unknownAuthority) || errors.As(err, &hostname) ||
		errors.As(err, &invalid) || errors.As(err, &verification) ||
		errors.As(err, &header) || errors.As(err, &alert) ||
		// crypto/tls reports an alert from the peer (such as "certificate
		// required" when the server wants a client certificate) this way.
		errors.As(err, &op) && op.Op == "remote error"
}

// connErrors is the last connection failure of each address.
type connErrors struct{ errs []error }

func (e *connErrors) Error() string {
	msgs := make([]string, len(e.errs))
	for i, err := range e.errs {
		msgs[i] = err.Error()
	}
	return strings.Join(msgs, "; ")
}

func (e *connErrors) Unwrap() []error { return e.errs }

// recordingCreds wraps gRPC's TLS credentials to record handshake results
// and to check certificates for serverName ("" = the endpoint's host):
// gRPC itself always checks for the host, whatever tls.Config says.
type recordingCreds struct {
	credentials.TransportCredentials
	serverName string
	log        *connLog
}

func (c recordingCreds) ClientHandshake(ctx context.Context, authority string, conn net.Conn) (net.Conn, credentials.AuthInfo, error) {
	if c.serverName != "" {
		authority = c.serverName
	}
	addr := conn.RemoteAddr().String()
	tc, info, err := c.TransportCredentials.ClientHandshake(ctx, authority, conn)
	if err != nil {
		if ctx.Err() == nil {
			c.log.record(addr, fmt.Errorf("TLS handshake: %w", err))
		}
		return nil, nil, err
	}
	c.log.record(addr, nil)
	// With TLS 1.3 the server checks the client certificate after the
	// client's handshake is done, so its refusal arrives on the first read.
	return &readRecorder{Conn: tc, addr: addr, log: c.log}, info, nil
}

// readRecorder records TLS failures reported by reads on a connection.
type readRecorder struct {
	net.Conn
	addr string
	log  *connLog
}

func (r *readRecorder) Read(b []byte) (int, error) {
	n, err := r.Conn.Read(b)
	if err != nil && isTLSFailure(err) {
		r.log.record(r.addr, fmt.Errorf("TLS: %w", err))
	}
	return n, err
}

func (c recordingCreds) Clone() credentials.TransportCredentials {
	return recordingCreds{c.TransportCredentials.Clone(), c.serverName, c.log}
}
