package configs

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/k3/k3-storage/internal/suggest"
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
		errs = append(errs, &Error{File: validateFileName, Field: fe.field, Msg: fe.msg})
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
		v.add("storage.type", msgUnknownType, s.Type, strings.Join([]string{TypeMemory, TypeMySQL, TypeEtcd}, valueSep))
	}
	v.atLeast("storage.health_interval", s.HealthInterval, 100*time.Millisecond)
	if s.Memory.History < 0 {
		v.add("storage.memory.history", msgNegHistory, s.Memory.History, defaultHistory)
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
		v.add(p+".user", msgEmpty)
	}
	if !databaseName.MatchString(m.Database) {
		v.add(p+".database", msgDatabaseName, m.Database)
	}
	if m.MaxOpenConns < 1 {
		v.add(p+".max_open_conns", msgTooSmall, m.MaxOpenConns, 1)
	}
	if m.MaxIdleConns < 0 {
		v.add(p+".max_idle_conns", msgIdleNegative, m.MaxIdleConns)
	} else if m.MaxOpenConns >= 1 && m.MaxIdleConns > m.MaxOpenConns {
		v.add(p+".max_idle_conns", msgIdleAboveOpen, m.MaxIdleConns, m.MaxOpenConns)
	}
	v.atLeast(p+".connect_timeout", m.ConnectTimeout, time.Second)
	v.atLeast(p+".poll_interval", m.PollInterval, 10*time.Millisecond)
	v.mysqlTLS(p+".tls", m.TLS)
	v.container(p+".container", m.Container)
	v.native(p, m.Native.Mode, m.Native.DataDir, m.Container.Auto)
	if b := m.Native.Binary; b != "" {
		v.program(p+".native.binary", b)
	}
}

func (v *validator) mysqlTLS(p string, t MySQLTLS) {
	tlsModes := []string{TLSDisabled, TLSPreferred, TLSRequired, TLSVerifyCA, TLSVerifyFull}
	switch {
	case slices.Contains(tlsModes, t.Mode):
	case suggest.Closest(t.Mode, tlsModes) != "":
		v.add(p+".mode", msgTLSModeGuess, t.Mode, suggest.Closest(t.Mode, tlsModes), strings.Join(tlsModes, valueSep))
		return
	default:
		v.add(p+".mode", msgUnknownMode, t.Mode, strings.Join(tlsModes, valueSep))
		return
	}
	verifies := t.Mode == TLSVerifyCA || t.Mode == TLSVerifyFull
	if t.CAFile != "" && !verifies {
		v.add(p+".ca_file", msgTLSOnlyVerify, t.Mode)
	}
	if t.ServerName != "" && t.Mode != TLSVerifyFull {
		v.add(p+".server_name", msgTLSOnlyFull, t.Mode)
	}
	if t.Mode == TLSDisabled && (t.CertFile != "" || t.KeyFile != "") {
		v.add(p+".cert_file", msgTLSCertDisabled)
	}
	if (t.CertFile == "") != (t.KeyFile == "") {
		v.add(p, msgCertWithoutKey)
	}
	v.files(p, []string{"ca_file", "cert_file", "key_file"}, []string{t.CAFile, t.CertFile, t.KeyFile})
}

// files reports each named file (field p.names[i], path files[i]; "" for
// none) that cannot be read.
func (v *validator) files(p string, names, files []string) {
	for i, file := range files {
		if file == "" {
			continue
		}
		if _, err := os.Stat(file); err != nil {
			v.add(p+"."+names[i], msgCannotReadFile, file, statProblem(err))
		}
	}
}

func (v *validator) etcd(p string, e Etcd) {
	if len(e.Endpoints) == 0 {
		v.add(p+".endpoints", msgNoEndpoints)
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
			v.add(p+".password", msgPasswordOnly)
		} else {
			v.add(p+".username", msgUsernameOnly, e.Username)
		}
	}
	t := e.TLS
	if (t.CertFile == "") != (t.KeyFile == "") {
		v.add(p+".tls", msgCertWithoutKey)
	}
	v.files(p+".tls", []string{"ca_file", "cert_file", "key_file"}, []string{t.CAFile, t.CertFile, t.KeyFile})
	v.container(p+".container", e.Container)
	v.native(p, e.Native.Mode, e.Native.DataDir, e.Container.Auto)
}

// statProblem says why os.Stat failed, in the package's language where
// the cause is common, else as the system says it.
func statProblem(err error) string {
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return msgFileMissing
	case errors.Is(err, fs.ErrPermission):
		return msgFileDenied
	case errors.Is(err, syscall.ENOTDIR):
		return msgFileNotDir
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

// checkEndpoint returns what is wrong with an etcd endpoint URL, or "".
func checkEndpoint(ep string) string {
	u, err := url.Parse(ep)
	if err != nil {
		return fmt.Sprintf(msgURLMalformed, ep)
	}
	switch u.Scheme {
	case "http", "https":
	case "unix", "unixs":
		if u.Host == "" && u.Path == "" {
			return fmt.Sprintf(msgURLNoSocket, ep)
		}
		return ""
	case "":
		return fmt.Sprintf(msgURLNoScheme, ep, ep)
	default:
		return fmt.Sprintf(msgURLScheme, ep, u.Scheme)
	}
	if u.Host == "" {
		return fmt.Sprintf(msgURLNoHost, ep)
	}
	if u.User != nil {
		return fmt.Sprintf(msgURLCredentials, redactURL(u))
	}
	if u.Path != "" && u.Path != "/" || u.RawQuery != "" || u.Fragment != "" {
		return fmt.Sprintf(msgURLExtra, ep)
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return fmt.Sprintf(msgURLPortRange, ep, p)
		}
	} else if strings.HasSuffix(u.Host, ":") {
		return fmt.Sprintf(msgURLEmptyPort, ep)
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
		v.add(field, msgHostEmpty)
	case strings.Contains(h, "://"):
		v.add(field, msgHostURL, h)
	case strings.HasPrefix(h, "["):
		v.add(field, msgHostBrackets, h)
	case strings.ContainsAny(h, " /\t"):
		v.add(field, msgHostInvalid, h)
	case net.ParseIP(h) == nil && strings.Contains(h, ":"):
		v.add(field, msgHostPort, h)
	}
}

func (v *validator) port(field string, p int) {
	if p < 1 || p > 65535 {
		v.add(field, msgPortRange, p)
	}
}

func (v *validator) atLeast(field string, d Duration, least time.Duration) {
	if time.Duration(d) < least {
		v.add(field, msgTooShort, time.Duration(d), least)
	}
}

// dockerName is what the Docker Engine accepts as a container or volume name.
var dockerName = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_.-]*$`)

func (v *validator) container(p string, c Container) {
	if strings.TrimSpace(c.Image) == "" || strings.ContainsAny(c.Image, " \t") {
		v.add(p+".image", msgImage, c.Image)
	}
	if !dockerName.MatchString(c.Name) {
		v.add(p+".name", msgContainerName, c.Name)
	}
	if c.Volume != "" && !dockerName.MatchString(c.Volume) {
		v.add(p+".volume", msgVolumeName, c.Volume)
	}
}

// native checks the native section of the backend p.
func (v *validator) native(p, mode, dataDir string, auto bool) {
	switch mode {
	case NativeAuto, NativeNever:
	case NativeAlways:
		if !auto {
			v.add(p+".native.mode", msgAlwaysNeedsAuto, p)
		}
	default:
		v.add(p+".native.mode", msgUnknownMode, mode, strings.Join([]string{NativeAuto, NativeAlways, NativeNever}, valueSep))
	}
	if dataDir != "" && !filepath.IsAbs(dataDir) {
		v.add(p+".native.data_dir", msgNotAbsolute, dataDir)
	}
}

// program checks that path names an executable file.
func (v *validator) program(field, path string) {
	if !filepath.IsAbs(path) {
		v.add(field, msgNotAbsolute, path)
		return
	}
	st, err := os.Stat(path)
	switch {
	case err != nil:
		v.add(field, msgCannotReadFile, path, statProblem(err))
	case !st.Mode().IsRegular():
		v.add(field, msgNotProgram, path)
	case st.Mode().Perm()&0o111 == 0:
		v.add(field, msgNotExecutable, path)
	}
}
