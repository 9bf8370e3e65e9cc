package etcd

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/url"
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
//
// Failures are kept per dial address (an endpoint's host:port, or
// "unix:path"), the address gRPC dials for one endpoint, so that the log
// can tell when every endpoint has failed TLS.
type connLog struct {
	mu   sync.Mutex
	errs map[string]error // dial address -> last dial or handshake error
	// dialed maps the remote address of each dialed connection to the
	// address it was dialed at: the TLS handshake sees only the former.
	dialed map[string]string
	// endpoints is the number of distinct dial addresses of the cluster.
	endpoints int
	// onTLSFailure, if set, is called (once) when every endpoint has
	// recorded a TLS failure: Open uses it to give up at once rather than
	// wait out its deadline on handshakes that will never succeed. One bad
	// member alone does not call it; the others may have a quorum.
	onTLSFailure func()
}

// newConnLog returns a log for a cluster at the given endpoints.
func newConnLog(endpoints []string) *connLog {
	addrs := make(map[string]bool)
	for _, ep := range endpoints {
		addrs[dialAddress(ep)] = true
	}
	return &connLog{errs: make(map[string]error), dialed: make(map[string]string), endpoints: len(addrs)}
}

// dialAddress returns the address gRPC dials for an endpoint, as clientv3
// translates it: host:port of an http(s) URL, "unix:path" for unix
// endpoints, anything else as given. Two endpoints that it maps to one
// address count once; were it to map them to two, Open would merely not
// give up early.
func dialAddress(ep string) string {
	for _, scheme := range []string{"unix://", "unixs://", "unix:", "unixs:"} {
		if path, ok := strings.CutPrefix(ep, scheme); ok {
			if strings.HasPrefix(path, "/") && strings.HasSuffix(scheme, "//") {
				return "unix:///" + strings.TrimLeft(path, "/")
			}
			return "unix:" + path
		}
	}
	if u, err := url.Parse(ep); err == nil && (u.Scheme == "http" || u.Scheme == "https") {
		return u.Host
	}
	return ep
}

// record notes the outcome of a dial or handshake with the member at dial
// address addr.
func (l *connLog) record(addr string, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if err == nil {
		delete(l.errs, addr)
		return
	}
	l.errs[addr] = err
	if f := l.onTLSFailure; f != nil && l.tlsFailuresLocked() != nil {
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

// dialAddr returns the dial address of a connection with the given remote
// address (the remote address itself if it was not dialed here).
func (l *connLog) dialAddr(remote string) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	if addr, ok := l.dialed[remote]; ok {
		return addr
	}
	return remote
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
		l.mu.Lock()
		l.dialed[conn.RemoteAddr().String()] = addr
		// The member is reachable, which answers an earlier dial failure
		// but not a TLS one: that stands until a handshake succeeds, so
		// a reconnect still in its handshake when a call times out does
		// not hide why the last one failed.
		if !isTLSFailure(l.errs[addr]) {
			delete(l.errs, addr)
		}
		l.mu.Unlock()
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

// tlsFailure returns the recorded TLS failures (untrusted or mismatched
// certificates, a server that does not speak TLS, a rejected client
// certificate) if every endpoint's last failure is one, or nil. Retrying
// cannot fix those; but as long as one member is merely down or has not
// been tried, it may come up and serve, so nothing is permanent yet.
func (l *connLog) tlsFailure() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.tlsFailuresLocked()
}

func (l *connLog) tlsFailuresLocked() error {
	var addrs []string
	for a, err := range l.errs {
		if isTLSFailure(err) {
			addrs = append(addrs, a)
		}
	}
	if len(addrs) == 0 || len(addrs) < l.endpoints {
		return nil
	}
	slices.Sort(addrs)
	errs := make([]error, len(addrs))
	for i, a := range addrs {
		errs[i] = fmt.Errorf("%s: %w", a, l.errs[a])
	}
	return &connErrors{errs}
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
	addr := c.log.dialAddr(conn.RemoteAddr().String())
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
