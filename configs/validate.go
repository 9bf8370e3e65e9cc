package configs

import (
	"fmt"
	"net"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"
)

type fieldError struct {
	field string
	msg   string
}

// Validate reports every setting that is out of range, as errors naming
// the field (no file or line; Load adds those).
func (c Config) Validate() error {
	var errs Errors
	for _, fe := range c.validate() {
		errs = append(errs, &Error{File: "config", Field: fe.field, Msg: fe.msg})
	}
	if len(errs) == 0 {
		return nil
	}
	return errs
}

func (c Config) validate() []fieldError {
	var v validator
	s := c.Storage
	switch s.Type {
	case TypeMemory, TypeMySQL, TypeEtcd:
	default:
		v.add("storage.type", "unknown type %q (want memory, mysql or etcd)", s.Type)
	}
	if s.Memory.History < 0 {
		v.add("storage.memory.history", "%d is negative (want 0 for the default of 100000, or a positive count)", s.Memory.History)
	}
	v.mysql("storage.mysql", s.MySQL)
	v.etcd("storage.etcd", s.Etcd)
	return v.errs
}

type validator struct{ errs []fieldError }

func (v *validator) add(field, format string, args ...any) {
	v.errs = append(v.errs, fieldError{field, fmt.Sprintf(format, args...)})
}

// databaseName is what k3-storage accepts as a MySQL database name: it may
// create the database, so the name must need no quoting.
var databaseName = regexp.MustCompile(`^[A-Za-z0-9_$]{1,64}$`)

func (v *validator) mysql(p string, m MySQL) {
	v.host(p+".host", m.Host)
	v.port(p+".port", m.Port)
	if m.User == "" {
		v.add(p+".user", "must not be empty")
	}
	if !databaseName.MatchString(m.Database) {
		v.add(p+".database", "invalid database name %q (want 1-64 letters, digits, _ or $)", m.Database)
	}
	if m.MaxOpenConns < 1 {
		v.add(p+".max_open_conns", "%d is too small (want at least 1)", m.MaxOpenConns)
	}
	if m.MaxIdleConns < 0 {
		v.add(p+".max_idle_conns", "%d is negative (want 0 to max_open_conns)", m.MaxIdleConns)
	} else if m.MaxOpenConns >= 1 && m.MaxIdleConns > m.MaxOpenConns {
		v.add(p+".max_idle_conns", "%d is more than max_open_conns (%d)", m.MaxIdleConns, m.MaxOpenConns)
	}
	v.atLeast(p+".connect_timeout", m.ConnectTimeout, time.Second)
	v.atLeast(p+".poll_interval", m.PollInterval, 10*time.Millisecond)
	v.container(p+".container", m.Container)
}

func (v *validator) etcd(p string, e Etcd) {
	if len(e.Endpoints) == 0 {
		v.add(p+".endpoints", "no endpoints (want at least one URL such as http://127.0.0.1:2379)")
	}
	for i, ep := range e.Endpoints {
		if msg := checkEndpoint(ep); msg != "" {
			v.add(fmt.Sprintf("%s.endpoints[%d]", p, i), "%s", msg)
		}
	}
	v.atLeast(p+".dial_timeout", e.DialTimeout, time.Millisecond)
	v.atLeast(p+".connect_timeout", e.ConnectTimeout, time.Second)
	if (e.Username == "") != (e.Password == "") {
		if e.Username == "" {
			v.add(p+".password", "set while username is empty (etcd authentication needs both)")
		} else {
			v.add(p+".username", "%q is set while password is empty (etcd authentication needs both)", e.Username)
		}
	}
	t := e.TLS
	if (t.CertFile == "") != (t.KeyFile == "") {
		v.add(p+".tls", "cert_file and key_file must be set together")
	}
	for name, file := range map[string]string{"ca_file": t.CAFile, "cert_file": t.CertFile, "key_file": t.KeyFile} {
		if file == "" {
			continue
		}
		if _, err := os.Stat(file); err != nil {
			v.add(p+".tls."+name, "cannot read %q: %v", file, unwrapPathError(err))
		}
	}
	v.container(p+".container", e.Container)
}

func unwrapPathError(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}

// checkEndpoint returns what is wrong with an etcd endpoint URL, or "".
func checkEndpoint(ep string) string {
	u, err := url.Parse(ep)
	if err != nil {
		return fmt.Sprintf("malformed URL %q (want e.g. http://127.0.0.1:2379)", ep)
	}
	switch u.Scheme {
	case "http", "https":
	case "unix", "unixs":
		if u.Host == "" && u.Path == "" {
			return fmt.Sprintf("malformed URL %q: no socket path", ep)
		}
		return ""
	case "":
		return fmt.Sprintf("malformed URL %q: no scheme (want http://%s)", ep, ep)
	default:
		return fmt.Sprintf("malformed URL %q: unsupported scheme %q (want http, https, unix or unixs)", ep, u.Scheme)
	}
	if u.Host == "" {
		return fmt.Sprintf("malformed URL %q: no host (want e.g. http://127.0.0.1:2379)", ep)
	}
	if u.User != nil {
		return fmt.Sprintf("malformed URL %q: credentials belong in username and password, not the URL", redactURL(u))
	}
	if u.Path != "" && u.Path != "/" || u.RawQuery != "" || u.Fragment != "" {
		return fmt.Sprintf("malformed URL %q: want only scheme, host and port", ep)
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return fmt.Sprintf("port %q in %q is out of range (want 1-65535)", p, ep)
		}
	} else if strings.HasSuffix(u.Host, ":") {
		return fmt.Sprintf("malformed URL %q: empty port", ep)
	}
	return ""
}

func redactURL(u *url.URL) string {
	c := *u
	c.User = url.User("****")
	return c.String()
}

func (v *validator) host(field, h string) {
	switch {
	case h == "":
		v.add(field, "must not be empty (want a host name or IP address such as localhost)")
	case strings.Contains(h, "://"):
		v.add(field, "%q is a URL (want a bare host name or IP address)", h)
	case strings.HasPrefix(h, "["):
		v.add(field, "%q has brackets (write an IPv6 address bare, e.g. ::1)", h)
	case strings.ContainsAny(h, " /\t"):
		v.add(field, "%q is not a host name or IP address", h)
	case net.ParseIP(h) == nil && strings.Contains(h, ":"):
		v.add(field, "%q includes a port (want the host only; the port goes in port)", h)
	}
}

func (v *validator) port(field string, p int) {
	if p < 1 || p > 65535 {
		v.add(field, "%d is out of range (want 1-65535)", p)
	}
}

func (v *validator) atLeast(field string, d Duration, least time.Duration) {
	if time.Duration(d) < least {
		v.add(field, "%v is too short (want at least %v)", time.Duration(d), least)
	}
}

// dockerName is what the Docker Engine accepts as a container or volume name.
var dockerName = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_.-]*$`)

func (v *validator) container(p string, c Container) {
	if strings.TrimSpace(c.Image) == "" || strings.ContainsAny(c.Image, " \t") {
		v.add(p+".image", "invalid image reference %q (want e.g. mysql:8.0)", c.Image)
	}
	if !dockerName.MatchString(c.Name) {
		v.add(p+".name", "invalid container name %q (want letters, digits, _ . -, starting with a letter or digit)", c.Name)
	}
	if c.Volume != "" && !dockerName.MatchString(c.Volume) {
		v.add(p+".volume", "invalid volume name %q (want letters, digits, _ . -, starting with a letter or digit)", c.Volume)
	}
}
