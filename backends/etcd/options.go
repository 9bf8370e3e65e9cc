package etcd

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/k3/k3-storage/backends"
)

// Defaults applied by Open to zero Options fields.
const (
	DefaultDialTimeout    = 5 * time.Second
	DefaultRequestTimeout = 5 * time.Second
)

// ServerMaxRequestBytes is the --max-request-bytes that etcd servers run by
// k3 (containers, embedded test servers) are given. etcd's default (1.5 MiB)
// equals backends.MaxValueSize, so a request carrying a maximal value plus
// its key and envelope exceeds it; 2 MiB leaves room. A user's own cluster
// needs --max-request-bytes of at least about 1.6 MiB for maximal values;
// with the default, such writes fail with backends.ErrValueTooLarge.
const ServerMaxRequestBytes = 2 << 20

// maxCallSendMsgSize bounds the gRPC messages the client sends; it only has
// to exceed the largest request the Store makes (one maximal value).
const maxCallSendMsgSize = ServerMaxRequestBytes + 512<<10

// Options configures a connection to an etcd cluster.
type Options struct {
	// Endpoints are the client URLs of the cluster's members, such as
	// "http://127.0.0.1:2379". Requests are balanced over all of them and
	// move to another when one fails. The list is used as given: it is not
	// replaced by the members' advertised URLs, which may not be reachable
	// from here (a container's internal address, say).
	Endpoints []string
	// DialTimeout bounds one connection attempt in Open: dialing,
	// authenticating and the readiness call. 0 means DefaultDialTimeout.
	DialTimeout time.Duration
	// RequestTimeout bounds each Store call (a Watch only while it starts),
	// on top of the caller's context. 0 means DefaultRequestTimeout.
	RequestTimeout time.Duration

	// Username and Password authenticate with etcd's auth when Username is
	// set. The password never appears in errors.
	Username string
	Password string

	// TLS is used when an endpoint has the https scheme or any of the fields
	// below is set; all endpoints must then be https or scheme-less.
	//
	// CAFile is a PEM bundle of the CAs that sign the servers' certificates
	// ("" = the system roots).
	CAFile string
	// CertFile and KeyFile are a PEM client certificate and its key, for
	// clusters that require client certificates. Both or neither.
	CertFile string
	KeyFile  string
	// ServerName overrides the name checked in the servers' certificates
	// ("" = the endpoint's host).
	ServerName string
	// InsecureSkipVerify accepts any server certificate. For tests only.
	InsecureSkipVerify bool
}

// withDefaults returns o with zero durations replaced by the defaults.
func (o Options) withDefaults() Options {
	if o.DialTimeout <= 0 {
		o.DialTimeout = DefaultDialTimeout
	}
	if o.RequestTimeout <= 0 {
		o.RequestTimeout = DefaultRequestTimeout
	}
	return o
}

// usesTLS reports whether connections are to use TLS.
func (o Options) usesTLS() bool {
	if o.CAFile != "" || o.CertFile != "" || o.KeyFile != "" || o.ServerName != "" || o.InsecureSkipVerify {
		return true
	}
	for _, ep := range o.Endpoints {
		if strings.HasPrefix(ep, "https://") || strings.HasPrefix(ep, "unixs://") {
			return true
		}
	}
	return false
}

// validate checks the options that need no I/O.
func (o Options) validate() error {
	if len(o.Endpoints) == 0 {
		return errors.New("no endpoints")
	}
	for _, ep := range o.Endpoints {
		if strings.TrimSpace(ep) == "" {
			return errors.New("empty endpoint")
		}
	}
	if o.Password != "" && o.Username == "" {
		return errors.New("password given without a username")
	}
	if (o.CertFile == "") != (o.KeyFile == "") {
		return errors.New("client certificate and key must be given together")
	}
	if o.usesTLS() {
		for _, ep := range o.Endpoints {
			if strings.HasPrefix(ep, "http://") || strings.HasPrefix(ep, "unix://") {
				return fmt.Errorf("endpoint %s is not TLS but TLS is configured (use https://)", ep)
			}
		}
	}
	return nil
}

// tlsConfig builds the client TLS configuration, or nil without TLS.
func (o Options) tlsConfig() (*tls.Config, error) {
	if !o.usesTLS() {
		return nil, nil
	}
	cfg := &tls.Config{
		MinVersion:         tls.VersionTLS12,
		ServerName:         o.ServerName,
		InsecureSkipVerify: o.InsecureSkipVerify, //nolint:gosec // documented as test-only
	}
	if o.CAFile != "" {
		pem, err := os.ReadFile(o.CAFile)
		if err != nil {
			return nil, fmt.Errorf("read CA file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("CA file %s holds no PEM certificate", o.CAFile)
		}
		cfg.RootCAs = pool
	}
	if o.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(o.CertFile, o.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("load client certificate: %w", err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	return cfg, nil
}

// redact hides the secrets in err's text, keeping its chain.
func redact(err error, secrets ...string) error { return backends.RedactError(err, secrets...) }
