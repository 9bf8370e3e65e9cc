package etcd

import (
	"crypto/x509"
	"errors"
	"fmt"
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
