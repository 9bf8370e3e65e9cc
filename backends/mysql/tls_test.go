package mysql_test

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	driver "github.com/go-sql-driver/mysql"

	"github.com/k3/k3-storage/backends"
	"github.com/k3/k3-storage/backends/mysql"
	"github.com/k3/k3-storage/backends/mysql/mysqltest"
	"github.com/k3/k3-storage/internal/testcerts"
)

// tlsServer starts a private MariaDB that serves TLS with certificates of
// certs and refuses plain connections over TCP (require_secure_transport).
func tlsServer(t *testing.T, certs testcerts.Certs) mysql.Options {
	t.Helper()
	srv := mysqltest.NewServer(t)
	if err := srv.UseTLS(certs.CAFile, certs.ServerCertFile, certs.ServerKeyFile, true); err != nil {
		t.Fatal(err)
	}
	srv.MustStart(t)
	opts := srv.Options()
	opts.Database = "k3"
	return opts
}

// TestTLS connects to a server that requires TLS in every mode, with the
// right and the wrong CA and server name, and with and without a client
// certificate.
func TestTLS(t *testing.T) {
	certs := testcerts.New(t)
	base := tlsServer(t, certs)
	// Before anything created the database: the diagnosis must not
	// depend on it.
	plain := base
	plain.TLS = mysql.TLS{}
	if err, _ := openErr(t, plain); !errors.Is(err, mysql.ErrTLSRequired) {
		t.Fatalf("plain connection to a fresh server: %v, want ErrTLSRequired", err)
	}
	with := func(tl mysql.TLS) mysql.Options {
		o := base
		o.TLS = tl
		return o
	}
	// Connections that must work, and the TLS version the server sees.
	for _, tt := range []struct {
		name string
		tls  mysql.TLS
	}{
		{"preferred", mysql.TLS{Mode: mysql.TLSPreferred}},
		{"required", mysql.TLS{Mode: mysql.TLSRequired}},
		{"verify-ca", mysql.TLS{Mode: mysql.TLSVerifyCA, CAFile: certs.CAFile}},
		{"verify-full", mysql.TLS{Mode: mysql.TLSVerifyFull, CAFile: certs.CAFile}},
		{"verify-full localhost", mysql.TLS{Mode: mysql.TLSVerifyFull, CAFile: certs.CAFile, ServerName: "localhost"}},
		{"client certificate", mysql.TLS{Mode: mysql.TLSVerifyFull, CAFile: certs.CAFile, CertFile: certs.ClientCertFile, KeyFile: certs.ClientKeyFile}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := open(t, with(tt.tls))
			version, err := mysql.SessionTLS(s)
			if err != nil || !strings.HasPrefix(version, "TLSv1.") {
				t.Fatalf("session TLS version %q, %v; want TLS", version, err)
			}
			pctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
			defer cancel()
			if err := s.Ping(pctx); err != nil {
				t.Fatalf("Ping over TLS: %v", err)
			}
		})
	}
	// Connections that must fail at once, for good, saying why.
	for _, tt := range []struct {
		name string
		tls  mysql.TLS
		want func(error) bool
		what string
	}{
		{"plain", mysql.TLS{Mode: mysql.TLSDisabled}, isSecureTransportRequired, "the server's demand for a secure transport"},
		{"verify-ca other CA", mysql.TLS{Mode: mysql.TLSVerifyCA, CAFile: certs.OtherCAFile}, isUnknownAuthority, "an unknown authority"},
		{"verify-full other CA", mysql.TLS{Mode: mysql.TLSVerifyFull, CAFile: certs.OtherCAFile}, isUnknownAuthority, "an unknown authority"},
		{"verify-full wrong name", mysql.TLS{Mode: mysql.TLSVerifyFull, CAFile: certs.CAFile, ServerName: "db.example.com"}, isHostname, "a name mismatch"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err, took := openErr(t, with(tt.tls))
			if !errors.Is(err, backends.ErrPermanent) {
				t.Fatalf("%v: want a permanent error", err)
			}
			if errors.Is(err, backends.ErrAccessDenied) {
				t.Fatalf("%v: is ErrAccessDenied, but the credentials were never refused", err)
			}
			if !tt.want(err) {
				t.Fatalf("%v: want %s", err, tt.what)
			}
			if took > 5*time.Second {
				t.Fatalf("failed after %v, want at once", took)
			}
			if strings.Contains(err.Error(), base.Password) {
				t.Fatalf("error shows the password: %v", err)
			}
		})
	}
}

func isSecureTransportRequired(err error) bool { return errors.Is(err, mysql.ErrTLSRequired) }

func isUnknownAuthority(err error) bool {
	var ua x509.UnknownAuthorityError
	return errors.As(err, &ua)
}

func isHostname(err error) bool {
	var he x509.HostnameError
	return errors.As(err, &he)
}

// TestTLSClientCertificateRequired: an account that requires a client
// certificate logs in with one and is refused without.
func TestTLSClientCertificateRequired(t *testing.T) {
	certs := testcerts.New(t)
	base := tlsServer(t, certs)
	user := "x509u" + randomHex(t)
	mysqltest.Exec(t, base,
		fmt.Sprintf("CREATE USER '%s'@'%%' IDENTIFIED BY 'pw' REQUIRE X509", user),
		fmt.Sprintf("GRANT ALL ON *.* TO '%s'@'%%'", user))
	opts := base
	opts.User, opts.Password = user, "pw"
	opts.TLS = mysql.TLS{Mode: mysql.TLSVerifyFull, CAFile: certs.CAFile, CertFile: certs.ClientCertFile, KeyFile: certs.ClientKeyFile}
	open(t, opts)

	opts.TLS.CertFile, opts.TLS.KeyFile = "", ""
	err, _ := openErr(t, opts)
	if !errors.Is(err, backends.ErrPermanent) {
		t.Fatalf("without the client certificate: %v, want a permanent refusal", err)
	}
}

// TestTLSPlainServer: preferred falls back to a plain connection to a
// server that offers no TLS; required and the verify modes fail at once.
func TestTLSPlainServer(t *testing.T) {
	srv := mysqltest.NewServer(t)
	srv.MustStart(t)
	base := srv.Options()
	base.Database = "k3"
	opts := base
	opts.TLS.Mode = mysql.TLSPreferred
	s := open(t, opts)
	if version, err := mysql.SessionTLS(s); err != nil || version != "" {
		t.Fatalf("preferred against a server without TLS: session TLS %q, %v; want a plain connection", version, err)
	}
	// Connections opened at once each fall back on their own (the driver
	// clears TLS in the configuration it connects with: were that shared,
	// the race detector would see it).
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			if _, err := s.Put(t.Context(), fmt.Sprintf("/k%d", i), []byte("v")); err != nil {
				t.Errorf("Put: %v", err)
			}
		})
	}
	wg.Wait()
	for _, mode := range []mysql.TLSMode{mysql.TLSRequired, mysql.TLSVerifyCA, mysql.TLSVerifyFull} {
		opts.TLS.Mode = mode
		err, took := openErr(t, opts)
		if !errors.Is(err, backends.ErrPermanent) || !errors.Is(err, driver.ErrNoTLS) || took > 5*time.Second {
			t.Fatalf("%s against a server without TLS: %v after %v, want a permanent ErrNoTLS at once", mode, err, took)
		}
	}
}

// TestTLSOptions: inconsistent TLS options fail before any connection, for
// good.
func TestTLSOptions(t *testing.T) {
	base := mysql.Options{Host: "127.0.0.1", Port: 1, Database: "k3", PollInterval: time.Second}
	for _, tt := range []struct {
		name string
		tls  mysql.TLS
	}{
		{"unknown mode", mysql.TLS{Mode: "verify"}},
		{"CA without verification", mysql.TLS{Mode: mysql.TLSRequired, CAFile: "ca.pem"}},
		{"server name without verify-full", mysql.TLS{Mode: mysql.TLSVerifyCA, ServerName: "db"}},
		{"certificate without key", mysql.TLS{Mode: mysql.TLSRequired, CertFile: "c.pem"}},
		{"certificate without TLS", mysql.TLS{CertFile: "c.pem", KeyFile: "k.pem"}},
		{"missing CA file", mysql.TLS{Mode: mysql.TLSVerifyFull, CAFile: "/nonexistent/ca.pem"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			opts := base
			opts.TLS = tt.tls
			err, took := openErr(t, opts)
			if !errors.Is(err, backends.ErrPermanent) || took > time.Second {
				t.Fatalf("%v after %v, want a permanent error at once", err, took)
			}
		})
	}
}
