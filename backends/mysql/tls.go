package mysql

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
)

// TLSMode says whether connections are encrypted and what of the server's
// certificate is checked, as the mysql client's --ssl-mode does.
type TLSMode string

// TLS modes. The empty mode is TLSDisabled.
const (
	// TLSDisabled connects without TLS.
	TLSDisabled TLSMode = "disabled"
	// TLSPreferred encrypts when the server offers TLS and connects
	// without it only when the server does not offer it (a failed
	// handshake is an error, not a reason to fall back). The certificate
	// is not checked: this guards against eavesdropping, not against an
	// impostor.
	TLSPreferred TLSMode = "preferred"
	// TLSRequired encrypts or fails; the certificate is not checked.
	TLSRequired TLSMode = "required"
	// TLSVerifyCA encrypts and checks that the server's certificate was
	// issued by a trusted CA (TLS.CAFile, or the system's roots), whatever
	// name it is for.
	TLSVerifyCA TLSMode = "verify-ca"
	// TLSVerifyFull checks what TLSVerifyCA does and that the certificate
	// is for TLS.ServerName (or Host).
	TLSVerifyFull TLSMode = "verify-full"
)

// verifies reports whether the mode checks the server's certificate.
func (m TLSMode) verifies() bool { return m == TLSVerifyCA || m == TLSVerifyFull }

// TLS configures the encryption of the Store's connections. The zero value
// is no encryption.
type TLS struct {
	// Mode is one of the TLS modes; "" means TLSDisabled.
	Mode TLSMode
	// CAFile is a PEM bundle of the CAs trusted to sign the server's
	// certificate; "" means the system's roots. Only the verify modes use
	// it; with another mode it is an error.
	CAFile string
	// CertFile and KeyFile are a PEM client certificate and its key, for
	// servers that require one: both or neither. Not with TLSDisabled.
	CertFile, KeyFile string
	// ServerName is the name the server's certificate must be for; ""
	// means Host. Only TLSVerifyFull uses it; with another mode it is an
	// error.
	ServerName string
}

// validate checks the options that need no I/O.
func (t TLS) validate() error {
	switch t.Mode {
	case "", TLSDisabled:
		if t.CertFile != "" || t.KeyFile != "" {
			return errors.New("a client certificate needs TLS (Mode is disabled)")
		}
	case TLSPreferred, TLSRequired, TLSVerifyCA, TLSVerifyFull:
	default:
		return fmt.Errorf("unknown TLS mode %q (want disabled, preferred, required, verify-ca or verify-full)", t.Mode)
	}
	if (t.CertFile == "") != (t.KeyFile == "") {
		return errors.New("TLS client certificate and key must be given together")
	}
	if t.CAFile != "" && !t.Mode.verifies() {
		return fmt.Errorf("a TLS CA file is used only by modes verify-ca and verify-full, not %q", t.Mode)
	}
	if t.ServerName != "" && t.Mode != TLSVerifyFull {
		return fmt.Errorf("a TLS server name is checked only by mode verify-full, not %q", t.Mode)
	}
	return nil
}

// config returns the driver's TLS configuration for a server at host, nil
// without TLS, and whether the driver may fall back to a plain connection
// when the server offers no TLS. Errors (unreadable files) are for the
// user to fix.
func (t TLS) config(host string) (cfg *tls.Config, fallback bool, err error) {
	if t.Mode == "" || t.Mode == TLSDisabled {
		return nil, false, nil
	}
	cfg = &tls.Config{MinVersion: tls.VersionTLS12}
	if t.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(t.CertFile, t.KeyFile)
		if err != nil {
			return nil, false, fmt.Errorf("load TLS client certificate: %w", err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	var roots *x509.CertPool // nil: the system's
	if t.CAFile != "" {
		pem, err := os.ReadFile(t.CAFile)
		if err != nil {
			return nil, false, fmt.Errorf("read TLS CA file: %w", err)
		}
		roots = x509.NewCertPool()
		if !roots.AppendCertsFromPEM(pem) {
			return nil, false, fmt.Errorf("TLS CA file %s holds no PEM certificate", t.CAFile)
		}
	}
	switch t.Mode {
	case TLSPreferred, TLSRequired:
		cfg.InsecureSkipVerify = true //nolint:gosec // the modes are documented not to check the certificate
	case TLSVerifyCA:
		// The chain is checked here instead of by crypto/tls, which would
		// check the name too.
		cfg.InsecureSkipVerify = true //nolint:gosec // VerifyConnection checks the chain
		cfg.VerifyConnection = func(cs tls.ConnectionState) error { return verifyChain(cs, roots) }
	case TLSVerifyFull:
		cfg.RootCAs = roots
		cfg.ServerName = t.ServerName
		if cfg.ServerName == "" {
			cfg.ServerName = host
		}
	}
	return cfg, t.Mode == TLSPreferred, nil
}

// verifyChain checks that the server's certificate chains to roots (nil:
// the system's) for server authentication, whatever name it is for.
func verifyChain(cs tls.ConnectionState, roots *x509.CertPool) error {
	if len(cs.PeerCertificates) == 0 {
		return errors.New("the server sent no certificate")
	}
	opts := x509.VerifyOptions{Roots: roots, Intermediates: x509.NewCertPool()}
	for _, c := range cs.PeerCertificates[1:] {
		opts.Intermediates.AddCert(c)
	}
	if _, err := cs.PeerCertificates[0].Verify(opts); err != nil {
		return &tls.CertificateVerificationError{UnverifiedCertificates: cs.PeerCertificates, Err: err}
	}
	return nil
}
