package mysql

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"database/sql"
	"errors"
	"fmt"

	"github.com/go-sql-driver/mysql"

	"github.com/k3/k3-storage/backends"
)

// Server error numbers the adapter classifies (MySQL and MariaDB agree on
// them).
const (
	erDBAccessDenied       = 1044 // access denied for user to database
	erAccessDenied         = 1045 // access denied for user (wrong password)
	erBadDB                = 1049 // unknown database
	erDupEntry             = 1062 // duplicate entry for key
	erTableAccessDenied    = 1142 // command denied to user for table
	erHostNotPrivileged    = 1130 // host is not allowed to connect
	erSpecificAccessDenied = 1227 // access denied; you need a privilege
	erNotSupportedAuthMode = 1251 // client does not support the auth protocol
	erPluginNotLoaded      = 1524 // plugin is not loaded
	erAccessDeniedNoPass   = 1698 // access denied (no password, e.g. unix_socket user)
	erSecureTransportReq   = 3159 // MySQL: insecure transport prohibited
	erAccountLocked        = 3118 // MySQL: account is locked
	erMariaAccountLocked   = 4151 // MariaDB: account is locked
)

// ErrTLSRequired is the server refusing a plain connection: it accepts the
// user only over TLS (require_secure_transport, or an account that
// REQUIRE SSL). Open's error wraps it, with backends.ErrPermanent; the
// remedy is a TLS mode other than TLSDisabled.
var ErrTLSRequired = errors.New("the server accepts this user only over TLS")

// isAccessDenied reports a server refusal that only a change of
// credentials, grants or configuration can fix.
func isAccessDenied(err error) bool {
	var me *mysql.MySQLError
	if !errors.As(err, &me) {
		return false
	}
	switch me.Number {
	case erDBAccessDenied, erAccessDenied, erBadDB, erTableAccessDenied, erHostNotPrivileged,
		erSpecificAccessDenied, erNotSupportedAuthMode, erPluginNotLoaded, erAccessDeniedNoPass,
		erSecureTransportReq, erAccountLocked, erMariaAccountLocked:
		return true
	}
	return false
}

// isPermanent reports a connect failure that retrying cannot fix: a server
// refusal (isAccessDenied), a TLS failure, or a peer that does not speak the
// MySQL protocol. Everything else (refused, reset, timeout, EOF, too many
// connections, server shutting down or starting) is worth retrying.
func isPermanent(err error) bool {
	if errors.Is(err, backends.ErrPermanent) || errors.Is(err, ErrTLSRequired) || isAccessDenied(err) {
		return true
	}
	for _, target := range []error{
		mysql.ErrNoTLS, mysql.ErrOldProtocol, mysql.ErrUnknownPlugin, mysql.ErrNativePassword,
		mysql.ErrCleartextPassword, mysql.ErrOldPassword, mysql.ErrMalformPkt,
		mysql.ErrPktSync, mysql.ErrPktSyncMul,
	} {
		if errors.Is(err, target) {
			return true
		}
	}
	var (
		recordErr  tls.RecordHeaderError
		alertErr   tls.AlertError
		verifyErr  *tls.CertificateVerificationError
		authErr    x509.UnknownAuthorityError
		hostErr    x509.HostnameError
		invalidErr x509.CertificateInvalidError
	)
	return errors.As(err, &recordErr) || errors.As(err, &alertErr) || errors.As(err, &verifyErr) ||
		errors.As(err, &authErr) || errors.As(err, &hostErr) || errors.As(err, &invalidErr)
}

// isLoginRefused reports the server refusing the user's credentials: a
// wrong user name or password (1045), or a password given for an account
// that takes none (1698). Refusals for other reasons (the host, the
// database, a locked account, a plain connection where TLS is required)
// are not this.
func isLoginRefused(err error) bool {
	var me *mysql.MySQLError
	return errors.As(err, &me) && (me.Number == erAccessDenied || me.Number == erAccessDeniedNoPass) &&
		!errors.Is(err, ErrTLSRequired)
}

// openError wraps an Open failure: "mysql: open: ...", the password
// redacted, and marked permanent when retrying cannot help (and
// backends.ErrAccessDenied when the credentials were refused).
func openError(err error, password string) error {
	err = redact(fmt.Errorf("mysql: open: %w", err), password)
	if isLoginRefused(err) {
		return backends.AccessDenied(err)
	}
	if isPermanent(err) {
		return backends.Permanent(err)
	}
	return err
}

// opError wraps the failure of an operation: "mysql: op: ...", ErrClosed
// when the Store was closed under it, the password redacted.
func (s *Store) opError(op string, err error) error {
	if s.closed.Load() && !errors.Is(err, backends.ErrClosed) && !isContextErr(err) {
		err = fmt.Errorf("%w (%w)", backends.ErrClosed, err)
	}
	return redact(fmt.Errorf("mysql: %s: %w", op, err), s.password)
}

func isContextErr(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

// isDuplicate reports a duplicate-key error (1062).
func isDuplicate(err error) bool {
	var me *mysql.MySQLError
	return errors.As(err, &me) && me.Number == erDupEntry
}

// isNoRows reports sql.ErrNoRows.
func isNoRows(err error) bool { return errors.Is(err, sql.ErrNoRows) }

// redact hides the password in err's text, keeping its chain.
func redact(err error, password string) error { return backends.RedactError(err, password) }
