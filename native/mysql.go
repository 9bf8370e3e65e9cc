package native

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/k3/k3-storage/internal/proc"
)

// Files of a MySQL data directory besides k3-storage's own (see dir.go).
const (
	mysqlData     = "data"        // the server's datadir
	mysqlOptions  = "my.cnf"      // its only option file, rewritten at every start
	mysqlSocket   = "mysqld.sock" // its Unix socket
	mysqlPID      = "mysqld.pid"  // its pid file
	mysqlErrorLog = "error.log"   // its error log
	mysqlInitSQL  = "init.sql"    // the first start's setup, with secrets: 0600, removed once ready
)

// maxSocketPath is the longest Unix socket path this package puts in the
// data directory; sun_path holds 107 bytes and a NUL.
const maxSocketPath = 100

// logLines is how many lines of a server's log a failure quotes.
const logLines = 12

// MySQLConfig describes a MySQL server to run on this machine.
type MySQLConfig struct {
	// Binary is the server program, mariadbd or mysqld (see FindMySQL);
	// required.
	Binary string
	// DataDir is the server's own directory, absolute: data, option file,
	// socket, pid file and error log. It is created (mode 0700) when
	// missing and kept after Stop.
	DataDir string
	// HostIP is the loopback address the server listens on, 127.0.0.1 or
	// ::1, and Port its TCP port (1-65535); it listens nowhere else.
	HostIP string
	Port   int
	// User, Password and Database are set up at the first start as the
	// official image does from MYSQL_ROOT_PASSWORD, MYSQL_USER,
	// MYSQL_PASSWORD and MYSQL_DATABASE: root, from any host, gets
	// Password; Database ("" for none) is created; a User other than root
	// ("" means root) gets Password and all privileges on Database.
	// Password is required. It is written only to a file of mode 0600 in
	// DataDir that exists until the server first answered.
	User, Password, Database string
	// StopTimeout is how long the server has to stop after SIGTERM before
	// it is killed; 0 kills it at once.
	StopTimeout time.Duration
	// Path is the PATH in which to look for mariadb-install-db besides
	// the server program's own installation.
	Path string
}

// MySQL is a MySQL or MariaDB server run from the machine's own
// installation on a private data directory. Create it with NewMySQL, then
// Claim the directory; see the package documentation for the rules. Its
// methods are meant for one goroutine, except PID, Exited and ExitError.
type MySQL struct {
	cfg MySQLConfig
	dir dataDir

	mu  sync.Mutex
	srv *process // the server this process started or adopted; nil when none

	logOffset int64 // size of the error log when this start began
	account   account
	kind      string // flavor, once known
}

// NewMySQL checks cfg and returns a server that has not claimed its data
// directory yet.
func NewMySQL(cfg MySQLConfig) (*MySQL, error) {
	switch {
	case cfg.Binary == "":
		return nil, errors.New(txtNoBinary)
	case !filepath.IsAbs(cfg.DataDir):
		return nil, fmt.Errorf(errDataDirRelative, cfg.DataDir)
	case cfg.Port < 1 || cfg.Port > 65535:
		return nil, fmt.Errorf(errPort, cfg.Port)
	case cfg.Password == "":
		return nil, errors.New(txtNoPassword)
	}
	if cfg.HostIP == "" {
		cfg.HostIP = "127.0.0.1"
	}
	if cfg.User == "" {
		cfg.User = "root"
	}
	return &MySQL{cfg: cfg, dir: dataDir{path: filepath.Clean(cfg.DataDir)}}, nil
}

// Binary is the server program.
func (m *MySQL) Binary() string { return m.cfg.Binary }

// DataDir is the server's directory.
func (m *MySQL) DataDir() string { return m.dir.path }

// Address is where the server listens, HostIP:Port.
func (m *MySQL) Address() string {
	return net.JoinHostPort(m.cfg.HostIP, strconv.Itoa(m.cfg.Port))
}

// ErrorLog is the server's error log.
func (m *MySQL) ErrorLog() string { return m.dir.file(mysqlErrorLog) }

// Created reports whether this process created the data directory.
func (m *MySQL) Created() bool { return m.dir.created }

// PID is the server's process id while this process owns it, else 0.
func (m *MySQL) PID() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.srv == nil {
		return 0
	}
	return m.srv.pid
}

// Inspect looks at the data directory without taking anything: whether
// it exists, whether a live k3-storage process owns it, and whether an
// orphan server runs there.
func (m *MySQL) Inspect() (State, error) {
	ok, err := m.dir.exists()
	if err != nil || !ok {
		return State{}, err
	}
	st := State{Exists: true}
	if st.Busy, err = m.dir.busy(); err != nil || st.Busy {
		return st, err
	}
	if r, err := readRecord(m.dir.file(recordName)); err == nil && r.running() {
		st.Orphan, st.PID = true, r.PID
	}
	return st, nil
}

// Claim takes the data directory (see Claim's values). When it holds an
// orphan that was started with another binary, address or port than cfg,
// that server is stopped first (it is ours to stop) and the outcome is
// Claimed with stale set to its pid.
func (m *MySQL) Claim() (c Claim, stale int, err error) {
	ok, err := m.dir.claim()
	if err != nil {
		return 0, 0, err
	}
	if !ok {
		return Busy, 0, nil
	}
	r, err := readRecord(m.dir.file(recordName))
	if err != nil || !r.running() {
		os.Remove(m.dir.file(recordName))
		return Claimed, 0, nil
	}
	p := &process{pid: r.PID, start: r.StartTime}
	if r.Binary != m.cfg.Binary || r.OptionFile != m.dir.file(mysqlOptions) || r.Port != m.cfg.Port || r.HostIP != m.cfg.HostIP {
		if _, err := p.stop(m.cfg.StopTimeout); err != nil {
			m.dir.release()
			return 0, 0, err
		}
		os.Remove(m.dir.file(recordName))
		return Claimed, r.PID, nil
	}
	m.mu.Lock()
	m.srv = p
	m.mu.Unlock()
	return Adopted, 0, nil
}

// Release gives the data directory up without stopping anything: for a
// caller that claimed it and then found another way (a database already
// answering on the port). A directory this process created, still empty
// of data, is removed.
func (m *MySQL) Release() {
	if m.dir.created {
		if _, err := os.Stat(m.dir.file(mysqlData)); errors.Is(err, fs.ErrNotExist) {
			m.dir.purge()
			return
		}
	}
	m.dir.release()
}

// Initialised reports whether the data directory holds an initialised
// database (its system tables).
func (m *MySQL) Initialised() bool {
	st, err := os.Stat(filepath.Join(m.dir.file(mysqlData), "mysql"))
	return err == nil && st.IsDir()
}

// SetUp reports whether the database was set up from a config once (the
// first start answered): later starts do not touch users or passwords, so
// a config whose password differs from that one is refused by the server.
func (m *MySQL) SetUp() bool {
	_, err := os.Stat(m.dir.file(readyName))
	return err == nil
}

// RunAs names the account the server runs as when k3-storage runs as
// root ("mysql" when that user exists and can reach the data directory,
// else "root"), and why it is not "mysql"; "" when k3-storage does not
// run as root (the server runs as the same user). Valid after Claim.
func (m *MySQL) RunAs() (name, why string) {
	a := m.runAs()
	return a.name, a.why
}

// account is a user the server runs as.
type account struct {
	name     string // for --user; "" when not running as root
	uid, gid int
	why      string // why not mysql
	decided  bool
}

func (m *MySQL) runAs() account {
	if !m.account.decided {
		m.account = decideAccount(m.dir.path)
	}
	return m.account
}

// decideAccount picks the account a server on dir runs as: this
// process's, unless that is root; then mysql when it exists and can reach
// dir, else root (mariadbd refuses to run as root unless told so).
func decideAccount(dir string) account {
	a := account{decided: true}
	if os.Geteuid() != 0 {
		return a
	}
	a.name = "root"
	u, err := user.Lookup("mysql")
	if err != nil {
		a.why = txtNoMySQLUser
		return a
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	gids := []int{gid}
	if ids, err := u.GroupIds(); err == nil {
		for _, id := range ids {
			if g, err := strconv.Atoi(id); err == nil {
				gids = append(gids, g)
			}
		}
	}
	if blocked := unreachable(dir, uid, gids); blocked != "" {
		a.why = fmt.Sprintf(txtMySQLUserBlocked, blocked)
		return a
	}
	a.name, a.uid, a.gid = "mysql", uid, gid
	return a
}

// unreachable returns the first directory above dir that the user uid
// (with groups gids) may not enter, or "" when it can reach dir.
func unreachable(dir string, uid int, gids []int) string {
	for d := filepath.Dir(dir); ; d = filepath.Dir(d) {
		st, err := os.Stat(d)
		if err != nil {
			return d
		}
		sys, ok := st.Sys().(*syscall.Stat_t)
		if ok {
			mode := st.Mode().Perm()
			var bit fs.FileMode = 0o001
			switch {
			case int(sys.Uid) == uid:
				bit = 0o100
			case slices.Contains(gids, int(sys.Gid)):
				bit = 0o010
			}
			if mode&bit == 0 {
				return d
			}
		}
		if d == filepath.Dir(d) {
			return ""
		}
	}
}

// socketPath is the server's Unix socket: in the data directory, or, when
// that path is too long for a socket, in the temporary directory under a
// name derived from it.
func (m *MySQL) socketPath() string {
	p := m.dir.file(mysqlSocket)
	if len(p) <= maxSocketPath {
		return p
	}
	return filepath.Join(os.TempDir(), fmt.Sprintf("k3-storage-mysql-%08x.sock", fnv32(m.dir.path)))
}

func fnv32(s string) uint32 {
	h := fnv.New32a()
	h.Write([]byte(s))
	return h.Sum32()
}

// optionFile is the server's only option file: --defaults-file makes it
// read nothing else (none of the machine's /etc/mysql). It listens on
// HostIP:Port only; binary logs are off, and MySQL's X Protocol (which
// would listen on all addresses) too.
func (m *MySQL) optionFile(flavor string) string {
	q := func(s string) string { return `"` + strings.ReplaceAll(s, `\`, `\\`) + `"` }
	var b strings.Builder
	b.WriteString("# Written by k3-storage at every start of this server: edits are lost.\n[mysqld]\n")
	fmt.Fprintf(&b, "datadir=%s\n", q(m.dir.file(mysqlData)))
	fmt.Fprintf(&b, "port=%d\n", m.cfg.Port)
	fmt.Fprintf(&b, "bind-address=%s\n", m.cfg.HostIP)
	fmt.Fprintf(&b, "socket=%s\n", q(m.socketPath()))
	fmt.Fprintf(&b, "pid-file=%s\n", q(m.dir.file(mysqlPID)))
	fmt.Fprintf(&b, "log-error=%s\n", q(m.dir.file(mysqlErrorLog)))
	b.WriteString("skip-name-resolve\nskip-log-bin\n")
	if flavor == "MySQL" {
		b.WriteString("mysqlx=OFF\n")
	}
	return b.String()
}

// setupSQL is what the first start runs (--init-file), as the official
// image's entrypoint does; every statement may run again.
func (m *MySQL) setupSQL() string {
	lit := func(s string) string {
		return "'" + strings.ReplaceAll(strings.ReplaceAll(s, `\`, `\\`), "'", "''") + "'"
	}
	pw := lit(m.cfg.Password)
	var b strings.Builder
	// Root from 127.0.0.1 or ::1 would take precedence over root@'%'.
	b.WriteString("DROP USER IF EXISTS 'root'@'127.0.0.1', 'root'@'::1';\n")
	for _, host := range []string{"localhost", "%"} {
		acct := "'root'@" + lit(host)
		fmt.Fprintf(&b, "CREATE USER IF NOT EXISTS %s IDENTIFIED BY %s;\n", acct, pw)
		fmt.Fprintf(&b, "ALTER USER %s IDENTIFIED BY %s;\n", acct, pw)
		fmt.Fprintf(&b, "GRANT ALL PRIVILEGES ON *.* TO %s WITH GRANT OPTION;\n", acct)
	}
	if m.cfg.Database != "" {
		fmt.Fprintf(&b, "CREATE DATABASE IF NOT EXISTS `%s`;\n", strings.ReplaceAll(m.cfg.Database, "`", "``"))
	}
	if m.cfg.User != "root" {
		acct := lit(m.cfg.User) + "@'%'"
		fmt.Fprintf(&b, "CREATE USER IF NOT EXISTS %s IDENTIFIED BY %s;\n", acct, pw)
		fmt.Fprintf(&b, "ALTER USER %s IDENTIFIED BY %s;\n", acct, pw)
		if m.cfg.Database != "" {
			fmt.Fprintf(&b, "GRANT ALL PRIVILEGES ON `%s`.* TO %s;\n", strings.ReplaceAll(m.cfg.Database, "`", "``"), acct)
		}
	}
	b.WriteString("FLUSH PRIVILEGES;\n")
	return b.String()
}

// prepare writes the option file and hands the directory to the account
// the server runs as.
func (m *MySQL) prepare(ctx context.Context) error {
	flavor, err := m.flavor(ctx)
	if err != nil {
		return err
	}
	if err := os.WriteFile(m.dir.file(mysqlOptions), []byte(m.optionFile(flavor)), 0o644); err != nil {
		return fmt.Errorf(errWrite, m.dir.file(mysqlOptions), err)
	}
	return m.chown()
}

// chown gives the data directory to the server's account when it is not
// this process's: the whole tree when its data is not the account's yet
// (an installation run as another account), else the directory and
// k3-storage's files in it.
func (m *MySQL) chown() error {
	a := m.runAs()
	if a.name != "mysql" {
		return nil
	}
	owned := func(p string) bool {
		st, err := os.Lstat(p)
		if err != nil {
			return false
		}
		sys, ok := st.Sys().(*syscall.Stat_t)
		return ok && int(sys.Uid) == a.uid && int(sys.Gid) == a.gid
	}
	if owned(m.dir.file(mysqlData)) {
		for _, name := range []string{"", mysqlOptions, mysqlErrorLog, mysqlInitSQL} {
			p := m.dir.file(name)
			if _, err := os.Lstat(p); err != nil || owned(p) {
				continue
			}
			if err := os.Lchown(p, a.uid, a.gid); err != nil {
				return fmt.Errorf(errChown, p, err)
			}
		}
		return nil
	}
	return filepath.WalkDir(m.dir.path, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		if sys, ok := info.Sys().(*syscall.Stat_t); ok && int(sys.Uid) == a.uid && int(sys.Gid) == a.gid {
			return nil
		}
		if err := os.Lchown(p, a.uid, a.gid); err != nil {
			return fmt.Errorf(errChown, p, err)
		}
		return nil
	})
}

// flavor is "MariaDB" or "MySQL": MariaDB for a program named mariadbd,
// else as its --version says (mysqld may be either).
func (m *MySQL) flavor(ctx context.Context) (string, error) {
	if m.kind != "" {
		return m.kind, nil
	}
	if filepath.Base(m.cfg.Binary) == "mariadbd" {
		m.kind = "MariaDB"
		return m.kind, nil
	}
	out, err := exec.CommandContext(ctx, m.cfg.Binary, "--version").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf(errVersion, m.cfg.Binary, err, strings.TrimSpace(string(out)))
	}
	m.kind = "MySQL"
	if bytes.Contains(out, []byte("MariaDB")) {
		m.kind = "MariaDB"
	}
	return m.kind, nil
}

// Init creates the server's system tables in a data directory that has
// none (mariadb-install-db for MariaDB, mysqld --initialize-insecure for
// MySQL); users and the database are set up by the first Start. It
// refuses a data subdirectory that is not empty (an initialisation that
// was killed midway, or files that are not k3-storage's): nothing there
// is ever deleted. On failure the error quotes the installer's last
// lines. It returns the installer's command name.
func (m *MySQL) Init(ctx context.Context) (string, error) {
	flavor, err := m.flavor(ctx)
	if err != nil {
		return "", err
	}
	data := m.dir.file(mysqlData)
	if entries, err := os.ReadDir(data); err == nil && len(entries) > 0 {
		return "", fmt.Errorf(errDataNotEmpty, data, m.dir.path)
	} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf(errDataDir, data, err)
	}
	if err := m.prepare(ctx); err != nil {
		return "", err
	}
	cnf := "--defaults-file=" + m.dir.file(mysqlOptions)
	var cmd *exec.Cmd
	if flavor == "MariaDB" {
		installer, err := findInstaller(m.cfg.Binary, m.cfg.Path)
		if err != nil {
			return "", err
		}
		// Only root@localhost (socket authentication), no anonymous users
		// or test database: the first start sets the rest up.
		args := []string{cnf, "--skip-test-db", "--auth-root-authentication-method=socket"}
		if prefix := filepath.Dir(filepath.Dir(m.cfg.Binary)); prefix != "/usr" && prefix != "/" {
			args = append(args, "--basedir="+prefix)
		}
		cmd = exec.CommandContext(ctx, installer, args...)
	} else {
		cmd = exec.CommandContext(ctx, m.cfg.Binary, cnf, "--initialize-insecure")
	}
	if a := m.runAs(); a.name != "" {
		cmd.Args = append(cmd.Args, "--user="+a.name)
	}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.Dir = m.dir.path
	// Its own process group, killed whole on cancel: the installer starts
	// the server in bootstrap mode as a child of its own.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return "", ctx.Err()
		}
		return "", fmt.Errorf(errInit, filepath.Base(cmd.Path), err, lastLines(out.String(), logLines))
	}
	if !m.Initialised() {
		return "", fmt.Errorf(errInitNoTables, filepath.Base(cmd.Path), m.dir.file(mysqlData), lastLines(out.String(), logLines))
	}
	return filepath.Base(cmd.Path), m.chown()
}

// Start runs the server as a child process in a process group of its own
// (so a terminal's Ctrl+C reaches only k3-storage, which decides when to
// stop it) and returns once it runs; whether it answers is for the caller
// to find out, watching Exited meanwhile. Until the database was set up
// (SetUp), the server runs the setup statements first. The server keeps
// running if this process dies: the next Claim adopts it.
func (m *MySQL) Start(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := m.prepare(ctx); err != nil {
		return err
	}
	args := []string{"--defaults-file=" + m.dir.file(mysqlOptions)}
	if a := m.runAs(); a.name != "" {
		args = append(args, "--user="+a.name)
	}
	if !m.SetUp() {
		path := m.dir.file(mysqlInitSQL)
		if err := os.WriteFile(path, []byte(m.setupSQL()), 0o600); err != nil {
			return fmt.Errorf(errWrite, path, err)
		}
		if a := m.runAs(); a.name == "mysql" {
			if err := os.Chown(path, a.uid, a.gid); err != nil {
				return fmt.Errorf(errChown, path, err)
			}
		}
		args = append(args, "--init-file="+path)
	}
	logPath := m.dir.file(mysqlErrorLog)
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o640)
	if err != nil {
		return fmt.Errorf(errWrite, logPath, err)
	}
	if st, err := logf.Stat(); err == nil {
		m.logOffset = st.Size()
	}
	if a := m.runAs(); a.name == "mysql" {
		_ = logf.Chown(a.uid, a.gid)
	}
	cmd := exec.Command(m.cfg.Binary, args...)
	cmd.Dir = m.dir.path
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return fmt.Errorf(errStart, m.cfg.Binary, err)
	}
	p := &process{pid: cmd.Process.Pid, child: cmd.Process, exited: make(chan struct{})}
	p.start, _ = proc.StartTime(p.pid)
	go func() {
		p.waitErr = cmd.Wait()
		logf.Close()
		close(p.exited)
	}()
	m.mu.Lock()
	m.srv = p
	m.mu.Unlock()
	r := record{PID: p.pid, StartTime: p.start, BootID: proc.BootID(), Binary: m.cfg.Binary,
		OptionFile: m.dir.file(mysqlOptions), HostIP: m.cfg.HostIP, Port: m.cfg.Port}
	if err := r.write(m.dir.file(recordName)); err != nil {
		return err // the caller stops the server
	}
	return nil
}

// dialPoll is how often WaitReady tries the port while nothing listens: a
// refused dial on loopback costs microseconds.
const dialPoll = 5 * time.Millisecond

// WaitReady waits until the server this process started greets a client
// on its address, for up to timeout. MySQL and MariaDB send their
// greeting on a new connection once they accept queries; a connection
// made while the server is still starting waits in the kernel's backlog
// and is greeted the moment it is ready, so readiness is noticed without
// a polling delay and without a login attempt (the connection is closed
// after the greeting). It fails with ExitError when the server exits
// first, with ctx's error when ctx ends, and with an error quoting the log
// when the time is up.
func (m *MySQL) WaitReady(ctx context.Context, timeout time.Duration) error {
	exited := m.Exited()
	deadline := time.Now().Add(timeout)
	d := net.Dialer{Timeout: time.Second}
	for {
		conn, err := d.DialContext(ctx, "tcp", m.Address())
		if err == nil {
			if greeted(ctx, conn, exited, deadline) {
				return nil
			}
		} else {
			t := time.NewTimer(dialPoll)
			select {
			case <-t.C:
			case <-exited:
			case <-ctx.Done():
			}
			t.Stop()
		}
		select {
		case <-exited:
			return m.ExitError()
		default:
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if time.Now().After(deadline) {
			return fmt.Errorf(errNotReady, filepath.Base(m.cfg.Binary), timeout, m.Address(), m.ErrorLog(), m.LogTail())
		}
	}
}

// greeted reads the first bytes the server sends on conn (a packet
// header and the greeting's first byte, or an error packet's: either way
// the server answers) and closes conn. It gives up, false, when the
// server closes the connection, exits, ctx ends or the deadline passes.
func greeted(ctx context.Context, conn net.Conn, exited <-chan struct{}, deadline time.Time) bool {
	done := make(chan struct{})
	defer close(done)
	go func() {
		select {
		case <-exited:
		case <-ctx.Done():
		case <-done:
		}
		conn.Close()
	}()
	conn.SetReadDeadline(deadline)
	var hello [5]byte
	_, err := io.ReadFull(conn, hello[:])
	return err == nil
}

// Exited is closed when a server this process started exits; nil (never
// ready) for an adopted one or none.
func (m *MySQL) Exited() <-chan struct{} {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.srv == nil {
		return nil
	}
	return m.srv.exited
}

// ExitError says why the server this process started exited, quoting the
// end of its error log. Call it once Exited is closed.
func (m *MySQL) ExitError() error {
	m.mu.Lock()
	p := m.srv
	m.mu.Unlock()
	status := ""
	if p != nil && p.waitErr != nil {
		status = p.waitErr.Error()
	}
	return fmt.Errorf(errExited, filepath.Base(m.cfg.Binary), status, m.ErrorLog(), tail(m.ErrorLog(), m.logOffset, logLines))
}

// LogTail returns the last lines the server wrote to its error log since
// this start began, indented, "" when none.
func (m *MySQL) LogTail() string { return tail(m.ErrorLog(), m.logOffset, logLines) }

// Ready records that the server answered with the config's credentials:
// the database is set up (see SetUp), and the setup file with its secrets
// goes.
func (m *MySQL) Ready() error {
	os.Remove(m.dir.file(mysqlInitSQL))
	if m.SetUp() {
		return nil
	}
	if err := os.WriteFile(m.dir.file(readyName), nil, 0o600); err != nil {
		return fmt.Errorf(errWrite, m.dir.file(readyName), err)
	}
	return nil
}

// Stop stops the server this process started or adopted (SIGTERM, then
// SIGKILL after StopTimeout), removes its record and the setup file, and
// gives up the data directory; the data stays. killed reports a SIGKILL.
// Without a server it only gives the directory up.
func (m *MySQL) Stop() (killed bool, err error) {
	m.mu.Lock()
	p := m.srv
	m.srv = nil
	m.mu.Unlock()
	defer m.dir.release()
	os.Remove(m.dir.file(mysqlInitSQL))
	if p == nil {
		return false, nil
	}
	killed, err = p.stop(m.cfg.StopTimeout)
	if r, rerr := readRecord(m.dir.file(recordName)); rerr == nil && r.PID == p.pid {
		os.Remove(m.dir.file(recordName))
	}
	return killed, err
}

// Purge removes the data directory if this process created it, after
// Stop; it reports whether it did.
func (m *MySQL) Purge() (bool, error) { return m.dir.purge() }
