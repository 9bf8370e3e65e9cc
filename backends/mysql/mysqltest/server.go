package mysqltest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/k3/k3-storage/backends/mysql"
	"github.com/k3/k3-storage/internal/proc"
)

// Credentials of the TCP user that every private server has, with all
// privileges (WITH GRANT OPTION).
const (
	User     = "k3test"
	Password = "k3test-pw"
)

// Server is a private MariaDB server for one test: its own data directory
// (a copy of an initialised template, cached under os.TempDir() per
// MariaDB version, so only the first server of a machine runs
// mariadb-install-db), listening on 127.0.0.1:Port only. It needs Debian's
// mariadb-server (mariadbd and mariadb-install-db); durability is relaxed
// (innodb_flush_log_at_trx_commit=2) for speed.
type Server struct {
	// Port is chosen by NewServer and stays the same across restarts.
	Port int

	dir string // data directory, config, socket, logs
	tls *serverTLS

	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan struct{} // closed when cmd has exited
}

// NewServer prepares a server (data directory and free port) without
// starting it; the test's Cleanup stops it and removes its files. It skips
// the test (or fails it, see Required) when MariaDB is not installed.
func NewServer(tb testing.TB) *Server {
	tb.Helper()
	mariadbd, installDB := binaries(tb)
	// Not tb.TempDir(): the Unix socket path must stay short.
	dir, err := os.MkdirTemp("", "k3my")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { os.RemoveAll(dir) })
	template, err := templateDir(mariadbd, installDB)
	if err != nil {
		tb.Fatalf("mysqltest: %v", err)
	}
	if err := copyDir(template, filepath.Join(dir, "data")); err != nil {
		tb.Fatalf("mysqltest: copy data directory: %v", err)
	}
	s := &Server{Port: FreePort(tb), dir: dir}
	if err := s.writeConfig(); err != nil {
		tb.Fatalf("mysqltest: %v", err)
	}
	tb.Cleanup(func() {
		if err := s.Stop(); err != nil {
			tb.Errorf("mysqltest: stop server: %v", err)
		}
	})
	return s
}

// StartServer starts a private MariaDB on a free 127.0.0.1 port and
// returns once it answers queries as User/Password over TCP. stop stops it
// (idempotent; also run at Cleanup).
func StartServer(tb testing.TB) (port int, stop func()) {
	tb.Helper()
	s := NewServer(tb)
	s.MustStart(tb)
	return s.Port, func() {
		if err := s.Stop(); err != nil {
			tb.Errorf("mysqltest: stop server: %v", err)
		}
	}
}

// MustStart starts the server and returns once it answers queries, or
// fails the test (within two minutes at most).
func (s *Server) MustStart(tb testing.TB) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(tb.Context(), 2*time.Minute)
	defer cancel()
	if err := s.Start(ctx); err != nil {
		tb.Fatalf("mysqltest: %v", err)
	}
}

// FreePort returns a TCP port on 127.0.0.1 that nothing listened on a
// moment ago.
func FreePort(tb testing.TB) int {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// Options returns Options for this server as User, with no database; for
// a server with TLS (UseTLS), over TLS without checking the certificate.
func (s *Server) Options() mysql.Options {
	o := withPool(mysql.Options{Host: "127.0.0.1", Port: s.Port, User: User, Password: Password})
	if s.tls != nil {
		o.TLS.Mode = mysql.TLSRequired
	}
	return o
}

type serverTLS struct {
	ca, cert, key string
	require       bool
}

// UseTLS makes the server accept TLS connections with the given PEM files
// (its CA, certificate and key) from its next Start on; require refuses
// plain connections over TCP (require_secure_transport).
func (s *Server) UseTLS(caFile, certFile, keyFile string, require bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tls = &serverTLS{caFile, certFile, keyFile, require}
	return s.writeConfig()
}

// Pause freezes the server (SIGSTOP), as a hung server or host: its port
// still accepts TCP connections, but nothing answers on them until Resume.
func (s *Server) Pause() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return errors.New("server not running")
	}
	return proc.Freeze(s.cmd.Process, 10*time.Second)
}

// Resume lets a paused server go on (SIGCONT).
func (s *Server) Resume() error { return s.signal(syscall.SIGCONT) }

func (s *Server) signal(sig syscall.Signal) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return errors.New("server not running")
	}
	return s.cmd.Process.Signal(sig)
}

// Kill ends the server at once (SIGKILL), as a crash would, and waits for
// it to exit; Start runs it again on the same data. Killing a stopped
// server does nothing.
func (s *Server) Kill() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return
	}
	s.cmd.Process.Kill()
	<-s.exited
	s.cmd = nil
}

// DSN returns the server's DSN in the K3_TEST_MYSQL_DSN format.
func (s *Server) DSN() string {
	return fmt.Sprintf("%s:%s@tcp(127.0.0.1:%d)/", User, Password, s.Port)
}

// Start runs mariadbd and returns once a real query over TCP succeeds, or
// with an error (and the end of the server's log) when ctx ends or the
// server exits first. It may be called again after Stop. It is safe to call
// from any goroutine.
func (s *Server) Start(ctx context.Context) error {
	s.mu.Lock()
	if s.cmd != nil {
		s.mu.Unlock()
		return errors.New("server already started")
	}
	mariadbd, _, err := lookBinaries()
	if err != nil {
		s.mu.Unlock()
		return err
	}
	logf, err := os.OpenFile(filepath.Join(s.dir, "server.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		s.mu.Unlock()
		return err
	}
	args := []string{"--defaults-file=" + filepath.Join(s.dir, "my.cnf")}
	if os.Geteuid() == 0 {
		args = append(args, "--user=root")
	}
	cmd := exec.Command(mariadbd, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // no terminal signals
	if err := cmd.Start(); err != nil {
		logf.Close()
		s.mu.Unlock()
		return fmt.Errorf("start mariadbd: %w", err)
	}
	exited := make(chan struct{})
	go func() {
		cmd.Wait()
		logf.Close()
		close(exited)
	}()
	s.cmd, s.exited = cmd, exited
	s.mu.Unlock()

	opts := s.Options()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	var last error
	for {
		pctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		last = Ping(pctx, opts)
		cancel()
		if last == nil {
			return nil
		}
		select {
		case <-exited:
			s.mu.Lock()
			s.cmd = nil
			s.mu.Unlock()
			return fmt.Errorf("mariadbd exited before answering (%v); log:\n%s", last, s.logTail())
		case <-ctx.Done():
			s.Stop()
			return fmt.Errorf("mariadbd did not answer %s: %w (last error: %v); log:\n%s", describe(opts), ctx.Err(), last, s.logTail())
		case <-tick.C:
		}
	}
}

// Stop stops the server (SIGTERM, then SIGKILL after 30s) and waits for it
// to exit. Stopping a stopped server does nothing.
func (s *Server) Stop() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return nil
	}
	cmd, exited := s.cmd, s.exited
	s.cmd = nil
	cmd.Process.Signal(syscall.SIGTERM)
	cmd.Process.Signal(syscall.SIGCONT) // a paused server must run to stop
	select {
	case <-exited:
		return nil
	case <-time.After(30 * time.Second):
	}
	cmd.Process.Kill()
	<-exited
	return fmt.Errorf("mariadbd did not stop within 30s of SIGTERM; killed")
}

func (s *Server) logTail() string {
	b, _ := os.ReadFile(filepath.Join(s.dir, "server.log"))
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

// writeConfig writes the server's own option file: nothing of the system's
// /etc/mysql applies (--defaults-file is the only file read).
func (s *Server) writeConfig() error {
	init := fmt.Sprintf("CREATE USER IF NOT EXISTS '%s'@'%%' IDENTIFIED BY '%s';\n"+
		"GRANT ALL ON *.* TO '%s'@'%%' WITH GRANT OPTION;\n", User, Password, User)
	if err := os.WriteFile(filepath.Join(s.dir, "init.sql"), []byte(init), 0o644); err != nil {
		return err
	}
	cnf := serverConfig(filepath.Join(s.dir, "data")) + fmt.Sprintf(
		"port=%d\nsocket=%s\npid-file=%s\ninit-file=%s\nmax-connections=500\n",
		s.Port, filepath.Join(s.dir, "mysqld.sock"), filepath.Join(s.dir, "mysqld.pid"), filepath.Join(s.dir, "init.sql"))
	if t := s.tls; t != nil {
		cnf += fmt.Sprintf("ssl-ca=%s\nssl-cert=%s\nssl-key=%s\n", t.ca, t.cert, t.key)
		if t.require {
			cnf += "require-secure-transport=ON\n"
		}
	}
	return os.WriteFile(filepath.Join(s.dir, "my.cnf"), []byte(cnf), 0o644)
}

// serverConfig is the option file shared by mariadb-install-db (template)
// and each server; the InnoDB sizes must agree between them.
func serverConfig(datadir string) string {
	return "[mariadbd]\n" +
		"datadir=" + datadir + "\n" +
		"bind-address=127.0.0.1\n" +
		"skip-name-resolve\n" +
		"skip-log-bin\n" +
		"innodb-buffer-pool-size=128M\n" +
		"innodb-log-file-size=32M\n" +
		"innodb-flush-log-at-trx-commit=2\n" +
		"max-allowed-packet=16M\n"
}

// binaries returns the MariaDB server and installer, skipping (or failing)
// the test when they are missing.
func binaries(tb testing.TB) (mariadbd, installDB string) {
	tb.Helper()
	mariadbd, installDB, err := lookBinaries()
	if err != nil {
		SkipOrFail(tb, fmt.Sprintf("cannot start a private MariaDB: %v (apt-get install mariadb-server)", err))
	}
	return mariadbd, installDB
}

func lookBinaries() (mariadbd, installDB string, err error) {
	mariadbd, err = lookPath("mariadbd", "/usr/sbin/mariadbd", "/usr/libexec/mariadbd")
	if err != nil {
		return "", "", err
	}
	installDB, err = lookPath("mariadb-install-db", "/usr/bin/mariadb-install-db")
	return mariadbd, installDB, err
}

func lookPath(name string, fallbacks ...string) (string, error) {
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	for _, p := range fallbacks {
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s not found in PATH or %s", name, strings.Join(fallbacks, ", "))
}

// templateDir returns an initialised data directory for this MariaDB
// version, creating it once per machine: built in a temporary directory
// and renamed into place, so concurrent test processes never see a partial
// one.
func templateDir(mariadbd, installDB string) (string, error) {
	version, err := exec.Command(mariadbd, "--version").Output()
	if err != nil {
		return "", fmt.Errorf("%s --version: %w", mariadbd, err)
	}
	sum := sha256.Sum256(append(version, serverConfig("")...))
	final := filepath.Join(os.TempDir(), fmt.Sprintf("k3-mysqltest-%d-%s", os.Geteuid(), hex.EncodeToString(sum[:6])))
	if _, err := os.Stat(filepath.Join(final, "ok")); err == nil {
		return filepath.Join(final, "data"), nil
	}
	build, err := os.MkdirTemp(os.TempDir(), "k3-mysqltest-build")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(build)
	cnf := filepath.Join(build, "my.cnf")
	if err := os.WriteFile(cnf, []byte(serverConfig(filepath.Join(build, "data"))), 0o644); err != nil {
		return "", err
	}
	args := []string{"--defaults-file=" + cnf, "--skip-test-db", "--auth-root-authentication-method=socket"}
	if os.Geteuid() == 0 {
		args = append(args, "--user=root")
	}
	var out bytes.Buffer
	cmd := exec.Command(installDB, args...)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("mariadb-install-db: %w\n%s", err, out.String())
	}
	if err := os.WriteFile(filepath.Join(build, "ok"), nil, 0o644); err != nil {
		return "", err
	}
	os.Remove(cnf)
	if err := os.Rename(build, final); err != nil {
		// Another process won the race; use its template.
		if _, statErr := os.Stat(filepath.Join(final, "ok")); statErr != nil {
			return "", fmt.Errorf("install template: %w", err)
		}
	}
	return filepath.Join(final, "data"), nil
}

// copyDir copies the regular files and directories of src to dst.
func copyDir(src, dst string) error {
	return filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		if !d.Type().IsRegular() {
			return nil
		}
		in, err := os.Open(path)
		if err != nil {
			return err
		}
		defer in.Close()
		out, err := os.OpenFile(target, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
		if err != nil {
			return err
		}
		if _, err := io.Copy(out, in); err != nil {
			out.Close()
			return err
		}
		return out.Close()
	})
}
