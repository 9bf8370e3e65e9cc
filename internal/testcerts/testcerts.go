// Package testcerts writes throw-away certificates for tests of TLS
// connections (etcd, MariaDB): a CA, a server and a client certificate it
// signed, and a second CA that vouches for nothing the first one signed.
package testcerts

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// Certs are PEM files of a throw-away CA and the certificates it signed:
// a server certificate for 127.0.0.1, ::1 and localhost, and a client
// certificate; and of a second CA with a server certificate of its own, for
// a member whose certificate the first CA does not vouch for.
type Certs struct {
	CAFile                        string
	ServerCertFile, ServerKeyFile string
	ClientCertFile, ClientKeyFile string
	// OtherCAFile is a second CA; it signed only the Other server
	// certificate, which is valid for the same names as ServerCertFile.
	OtherCAFile                             string
	OtherServerCertFile, OtherServerKeyFile string
}

// New writes a fresh set of certificates into the test's temporary
// directory.
func New(tb testing.TB) Certs {
	tb.Helper()
	dir := tb.TempDir()
	write := func(name, typ string, der []byte) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
			tb.Fatal(err)
		}
		return path
	}
	newKey := func() *ecdsa.PrivateKey {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			tb.Fatal(err)
		}
		return k
	}
	serial := int64(1)
	sign := func(tmpl, parent *x509.Certificate, key *ecdsa.PrivateKey, parentKey *ecdsa.PrivateKey) []byte {
		serial++
		tmpl.SerialNumber = big.NewInt(serial)
		tmpl.NotBefore = time.Now().Add(-time.Hour)
		tmpl.NotAfter = time.Now().Add(24 * time.Hour)
		der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, parentKey)
		if err != nil {
			tb.Fatal(err)
		}
		return der
	}
	keyDER := func(k *ecdsa.PrivateKey) []byte {
		der, err := x509.MarshalECPrivateKey(k)
		if err != nil {
			tb.Fatal(err)
		}
		return der
	}
	newCA := func(name string) (*x509.Certificate, *ecdsa.PrivateKey, []byte) {
		key := newKey()
		tmpl := &x509.Certificate{
			Subject:               pkix.Name{CommonName: name},
			IsCA:                  true,
			BasicConstraintsValid: true,
			KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		}
		der := sign(tmpl, tmpl, key, key)
		cert, err := x509.ParseCertificate(der)
		if err != nil {
			tb.Fatal(err)
		}
		return cert, key, der
	}

	ca, caKey, caDER := newCA("k3-storage test CA")
	otherCA, otherKey, otherDER := newCA("k3-storage other CA")
	var c Certs
	c.CAFile = write("ca.pem", "CERTIFICATE", caDER)
	c.OtherCAFile = write("other-ca.pem", "CERTIFICATE", otherDER)

	serverCert := func() *x509.Certificate {
		return &x509.Certificate{
			Subject:     pkix.Name{CommonName: "k3-storage test server"},
			DNSNames:    []string{"localhost"},
			IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
			KeyUsage:    x509.KeyUsageDigitalSignature,
			ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		}
	}
	serverKey := newKey()
	c.ServerCertFile = write("server.pem", "CERTIFICATE", sign(serverCert(), ca, serverKey, caKey))
	c.ServerKeyFile = write("server-key.pem", "EC PRIVATE KEY", keyDER(serverKey))
	otherServerKey := newKey()
	c.OtherServerCertFile = write("other-server.pem", "CERTIFICATE", sign(serverCert(), otherCA, otherServerKey, otherKey))
	c.OtherServerKeyFile = write("other-server-key.pem", "EC PRIVATE KEY", keyDER(otherServerKey))

	clientKey := newKey()
	c.ClientCertFile = write("client.pem", "CERTIFICATE", sign(&x509.Certificate{
		Subject:     pkix.Name{CommonName: "k3-storage"},
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}, ca, clientKey, caKey))
	c.ClientKeyFile = write("client-key.pem", "EC PRIVATE KEY", keyDER(clientKey))
	return c
}
