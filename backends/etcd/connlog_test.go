package etcd

import (
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"syscall"
	"testing"
)

func TestDialAddress(t *testing.T) {
	for ep, want := range map[string]string{
		"http://127.0.0.1:2379":  "127.0.0.1:2379",
		"https://etcd-0:2379":    "etcd-0:2379",
		"10.0.0.4:2379":          "10.0.0.4:2379",
		"unix:///run/etcd.sock":  "unix:///run/etcd.sock",
		"unixs:///run/etcd.sock": "unix:///run/etcd.sock",
		"unix://etcd.sock":       "unix:etcd.sock",
		"unix:etcd.sock":         "unix:etcd.sock",
	} {
		if got := dialAddress(ep); got != want {
			t.Errorf("dialAddress(%q) = %q, want %q", ep, got, want)
		}
	}
}

// TestTLSFailureNeedsEveryEndpoint: one member's TLS failure is not
// permanent while another member may answer; all members' are.
func TestTLSFailureNeedsEveryEndpoint(t *testing.T) {
	l := newConnLog([]string{"https://a:1", "https://b:1", "b:1"}) // two addresses
	called := 0
	l.notifyTLSFailure(func() { called++ })
	untrusted := fmt.Errorf("TLS handshake: %w", x509.UnknownAuthorityError{})

	l.record("a:1", untrusted)
	if err := l.tlsFailure(); err != nil || called != 0 {
		t.Fatalf("one of two members untrusted: tlsFailure %v, callback called %d times", err, called)
	}
	l.record("b:1", syscall.ECONNREFUSED)
	if err := l.tlsFailure(); err != nil || called != 0 {
		t.Fatalf("one member untrusted, one refusing: tlsFailure %v, callback called %d times", err, called)
	}
	l.record("b:1", untrusted)
	err := l.tlsFailure()
	if !errors.As(err, new(x509.UnknownAuthorityError)) || called != 1 {
		t.Fatalf("every member untrusted: tlsFailure %v, callback called %d times", err, called)
	}
	l.record("a:1", nil) // a member came good
	if err := l.tlsFailure(); err != nil {
		t.Fatalf("after a good handshake: tlsFailure %v", err)
	}
}

// TestDialKeepsTLSFailure: a member that failed its TLS handshake and is
// dialed again keeps that failure in the log until a handshake succeeds, so
// a call timing out during the reconnect's handshake still says why; a
// successful dial does clear an earlier dial failure.
func TestDialKeepsTLSFailure(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	addr := ln.Addr().String()
	l := newConnLog([]string{"https://" + addr})
	dial := func() {
		t.Helper()
		conn, err := l.dial(t.Context(), addr)
		if err != nil {
			t.Fatal(err)
		}
		conn.Close()
	}

	l.record(addr, fmt.Errorf("TLS handshake: %w", x509.UnknownAuthorityError{}))
	dial()
	if err := l.last(); !errors.As(err, new(x509.UnknownAuthorityError)) {
		t.Fatalf("after a new dial of an untrusted member, last() = %v, want its TLS failure", err)
	}
	l.record(addr, nil) // a handshake succeeded
	if err := l.last(); err != nil {
		t.Fatalf("after a good handshake, last() = %v", err)
	}

	l.record(addr, syscall.ECONNREFUSED)
	dial()
	if err := l.last(); err != nil {
		t.Fatalf("after a good dial of a member that refused before, last() = %v", err)
	}
}
