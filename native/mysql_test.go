package native

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/k3/k3-storage/backends/mysql/mysqltest"
	"github.com/k3/k3-storage/internal/proc"
)

// needMySQL returns the machine's MySQL server program, skipping the test
// (or failing it under K3_TEST_REQUIRE) when there is none.
func needMySQL(t *testing.T) string {
	t.Helper()
	bin, err := FindMySQL("", os.Getenv("PATH"))
	if err != nil {
		mysqltest.SkipOrFail(t, fmt.Sprintf("no MySQL server to run: %v (apt-get install mariadb-server)", err))
	}
	return bin
}

// open connects as user to database over TCP.
func open(t *testing.T, port int, user, password, database string) *sql.DB {
	t.Helper()
	cfg := mysql.NewConfig()
	cfg.User, cfg.Passwd, cfg.Net, cfg.Addr, cfg.DBName = user, password, "tcp", fmt.Sprintf("127.0.0.1:%d", port), database
	cfg.Timeout = 2 * time.Second
	conn, err := mysql.NewConnector(cfg)
	if err != nil {
		t.Fatal(err)
	}
	db := sql.OpenDB(conn)
	t.Cleanup(func() { db.Close() })
	return db
}

// waitAnswer waits until the server m started answers db, failing the test
// with its exit error if it exits first.
func waitAnswer(t *testing.T, m *MySQL, db *sql.DB) {
	t.Helper()
	deadline := time.After(2 * time.Minute)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
		err := db.PingContext(ctx)
		cancel()
		if err == nil {
			return
		}
		select {
		case <-m.Exited():
			t.Fatalf("server exited: %v", m.ExitError())
		case <-deadline:
			t.Fatalf("server did not answer: %v\nlog:%s", err, m.LogTail())
		case <-tick.C:
		}
	}
}

// stopped fails unless the process pid has ended.
func stopped(t *testing.T, pid int) {
	t.Helper()
	if _, err := proc.StartTime(pid); !errors.Is(err, proc.ErrNoProcess) {
		if z, _ := proc.Zombie(pid); !z {
			t.Fatalf("process %d still runs", pid)
		}
	}
}

func mustClaim(t *testing.T, m *MySQL, want Claim) {
	t.Helper()
	c, stale, err := m.Claim()
	if err != nil || c != want || stale != 0 {
		t.Fatalf("Claim = %v, %d, %v; want %v", c, stale, err, want)
	}
}

// TestMySQL runs the machine's server through its whole life on one data
// directory: initialise, set up from the config (a password that needs
// escaping, a user other than root), refuse a second owner, stop, start
// warm with the data, be adopted after its owner "died", and leave alone
// a process that merely has the recorded pid.
func TestMySQL(t *testing.T) {
	bin := needMySQL(t)
	home := searchableTempDir(t)
	port := mysqltest.FreePort(t)
	cfg := MySQLConfig{Binary: bin, DataDir: filepath.Join(home, "mysql"), Port: port,
		User: "k3", Password: `pa'ss\word"`, Database: "k3db", StopTimeout: time.Minute, Path: os.Getenv("PATH")}
	newMySQL := func() *MySQL {
		m, err := NewMySQL(cfg)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { m.Stop() })
		return m
	}

	m := newMySQL()
	mustClaim(t, m, Claimed)
	if !m.Created() || m.Initialised() || m.SetUp() {
		t.Fatalf("fresh dir: created %v, initialised %v, set up %v", m.Created(), m.Initialised(), m.SetUp())
	}
	if os.Geteuid() == 0 {
		if _, err := user.Lookup("mysql"); err == nil {
			// The home is searchable, but a TMPDIR under a private
			// directory would not be: then root, saying why.
			if name, why := m.RunAs(); name != "mysql" && (name != "root" || why == "") {
				t.Fatalf("as root, runs as %q (%q), want mysql or root with a reason", name, why)
			}
		}
	}
	if _, err := m.Init(t.Context()); err != nil {
		t.Fatal(err)
	}
	if !m.Initialised() {
		t.Fatal("not initialised after Init")
	}
	if err := m.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	pid := m.PID()
	if err := m.WaitReady(t.Context(), 2*time.Minute); err != nil {
		t.Fatal(err)
	}
	db := open(t, port, "k3", cfg.Password, "k3db")
	if _, err := db.Exec("CREATE TABLE t (v VARCHAR(10))"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("INSERT INTO t VALUES ('kept')"); err != nil {
		t.Fatal(err)
	}
	if err := open(t, port, "root", cfg.Password, "").Ping(); err != nil {
		t.Fatalf("root with the config's password: %v", err)
	}
	if err := m.Ready(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(cfg.DataDir, mysqlInitSQL)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the setup file with the password is still there: %v", err)
	}
	if !m.SetUp() {
		t.Fatal("not set up after Ready")
	}

	other := newMySQL()
	if st, err := other.Inspect(); err != nil || !st.Busy {
		t.Fatalf("Inspect while owned: %+v, %v", st, err)
	}
	mustClaim(t, other, Busy)

	if killed, err := m.Stop(); err != nil || killed {
		t.Fatalf("Stop = %v, %v", killed, err)
	}
	stopped(t, pid)

	t.Run("warm start keeps the data", func(t *testing.T) {
		m := newMySQL()
		mustClaim(t, m, Claimed)
		if m.Created() || !m.Initialised() || !m.SetUp() {
			t.Fatalf("second start: created %v, initialised %v, set up %v", m.Created(), m.Initialised(), m.SetUp())
		}
		if err := m.Start(t.Context()); err != nil {
			t.Fatal(err)
		}
		db := open(t, port, "k3", cfg.Password, "k3db")
		waitAnswer(t, m, db)
		var v string
		if err := db.QueryRow("SELECT v FROM t").Scan(&v); err != nil || v != "kept" {
			t.Fatalf("row after restart: %q, %v", v, err)
		}

		// The owner "dies": its lock goes, the server stays.
		pid := m.PID()
		m.dir.release()
		m.srv = nil
		adopter := newMySQL()
		if st, err := adopter.Inspect(); err != nil || !st.Orphan || st.PID != pid {
			t.Fatalf("Inspect of the orphan: %+v, %v; want orphan %d", st, err, pid)
		}
		mustClaim(t, adopter, Adopted)
		if adopter.PID() != pid {
			t.Fatalf("adopted pid %d, want %d", adopter.PID(), pid)
		}
		if killed, err := adopter.Stop(); err != nil || killed {
			t.Fatalf("Stop of the adopted server = %v, %v", killed, err)
		}
		stopped(t, pid)
	})

	t.Run("a reused pid is not ours", func(t *testing.T) {
		sleep := exec.Command("sleep", "300")
		if err := sleep.Start(); err != nil {
			t.Fatal(err)
		}
		defer func() { sleep.Process.Kill(); sleep.Wait() }()
		start, err := proc.StartTime(sleep.Process.Pid)
		if err != nil {
			t.Fatal(err)
		}
		r := record{PID: sleep.Process.Pid, StartTime: start, BootID: proc.BootID(), Binary: bin,
			OptionFile: filepath.Join(cfg.DataDir, mysqlOptions), HostIP: "127.0.0.1", Port: port}
		if err := r.write(filepath.Join(cfg.DataDir, recordName)); err != nil {
			t.Fatal(err)
		}
		m := newMySQL()
		if st, err := m.Inspect(); err != nil || st.Orphan {
			t.Fatalf("Inspect: %+v, %v; a sleep is no orphan server", st, err)
		}
		mustClaim(t, m, Claimed)
		m.Stop()
		if _, err := proc.StartTime(sleep.Process.Pid); err != nil {
			t.Fatalf("the process with the recorded pid was touched: %v", err)
		}
	})

	t.Run("exit before ready quotes the log", func(t *testing.T) {
		l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		m := newMySQL()
		mustClaim(t, m, Claimed)
		if err := m.Start(t.Context()); err != nil {
			t.Fatal(err)
		}
		err = m.WaitReady(t.Context(), 2*time.Minute)
		select {
		case <-m.Exited():
		default:
			t.Fatalf("WaitReady returned %v while the server runs", err)
		}
		if err == nil || !strings.Contains(err.Error(), m.ErrorLog()) || !strings.Contains(strings.ToLower(err.Error()), "bind") {
			t.Fatalf("exit error does not quote the log: %v", err)
		}
		if killed, err := m.Stop(); err != nil || killed {
			t.Fatalf("Stop after exit = %v, %v", killed, err)
		}
	})
}

// TestStopEscalates: a process that ignores SIGTERM is killed after the
// grace period, also when it is not our child (an adopted orphan).
func TestStopEscalates(t *testing.T) {
	cmd := exec.Command("sh", "-c", `trap "" TERM; echo ready; sleep 300 & wait`)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL); cmd.Wait() }()
	buf := make([]byte, 6)
	if _, err := out.Read(buf); err != nil {
		t.Fatal(err)
	}
	start, err := proc.StartTime(cmd.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	p := &process{pid: cmd.Process.Pid, start: start} // as if adopted
	began := time.Now()
	killed, err := p.stop(300 * time.Millisecond)
	if err != nil || !killed {
		t.Fatalf("stop = %v, %v; want killed", killed, err)
	}
	if took := time.Since(began); took < 300*time.Millisecond {
		t.Fatalf("killed after %v, before the grace period", took)
	}
	if !p.gone() {
		t.Fatal("still running after stop")
	}
}

// TestInitKeepsForeignData: a data subdirectory with files but no
// database is never deleted to make room for a new one.
func TestInitKeepsForeignData(t *testing.T) {
	bin := needMySQL(t)
	dir := filepath.Join(t.TempDir(), "mysql")
	keep := filepath.Join(dir, mysqlData, "precious")
	if err := os.MkdirAll(filepath.Dir(keep), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keep, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	m, err := NewMySQL(MySQLConfig{Binary: bin, DataDir: dir, Port: mysqltest.FreePort(t), Password: "pw"})
	if err != nil {
		t.Fatal(err)
	}
	mustClaim(t, m, Claimed)
	defer m.Stop()
	if _, err := m.Init(t.Context()); err == nil || !strings.Contains(err.Error(), "不会删除") {
		t.Fatalf("Init over foreign files: %v", err)
	}
	if _, err := os.Stat(keep); err != nil {
		t.Fatalf("the file is gone: %v", err)
	}
}
