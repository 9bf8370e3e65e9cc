package mysql_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/k3/k3-storage/backends"
	"github.com/k3/k3-storage/backends/mysql"
	"github.com/k3/k3-storage/backends/mysql/mysqltest"
)

func randomHex(t *testing.T) string {
	b := make([]byte, 6)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// openErr runs one Open that must fail and returns its error and duration.
func openErr(t *testing.T, opts mysql.Options) (error, time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	start := time.Now()
	s, err := mysql.Open(ctx, opts)
	if err == nil {
		s.Close()
		t.Fatal("Open succeeded")
	}
	return err, time.Since(start)
}

func TestOpenWrongPassword(t *testing.T) {
	base := mysqltest.NewDatabase(t)
	for _, tt := range []struct{ name, password string }{
		{"random", "wrong-" + randomHex(t)},
		// "YES" and the user name appear in the server's own message
		// ("Access denied for user 'u'@'h' (using password: YES)"), so
		// these prove that the text is redacted, not just free of it.
		{"in server message", "YES"},
		{"user name", base.User},
	} {
		t.Run(tt.name, func(t *testing.T) {
			opts := base
			opts.Password = tt.password
			err, took := openErr(t, opts)
			if !errors.Is(err, backends.ErrPermanent) || !errors.Is(err, backends.ErrAccessDenied) {
				t.Fatalf("wrong password: %v, want ErrPermanent and ErrAccessDenied", err)
			}
			if took > 5*time.Second {
				t.Fatalf("wrong password took %v to fail, want under 5s", took)
			}
			for _, text := range []string{err.Error(), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err.Error())} {
				if strings.Contains(text, tt.password) {
					t.Fatalf("error text contains the password: %s", text)
				}
			}
			if !strings.Contains(err.Error(), "1045") {
				t.Fatalf("error does not name the server's refusal: %v", err)
			}
		})
	}
}

// TestQueryErrorRedacted checks an operation's error text: with the
// password equal to the database name, every message naming the database
// would leak it.
func TestQueryErrorRedacted(t *testing.T) {
	opts := mysqltest.ServerOptions(t)
	password := "k3pw" + randomHex(t)
	opts.User, opts.Database = "k3u"+randomHex(t), password
	admin := mysqltest.ServerOptions(t)
	dbOpts := admin
	dbOpts.Database = password
	mysqltest.DropOnCleanup(t, dbOpts)
	mysqltest.Exec(t, admin,
		fmt.Sprintf("CREATE USER '%s'@'%%' IDENTIFIED BY '%s'", opts.User, password),
		fmt.Sprintf("GRANT ALL ON `%s`.* TO '%s'@'%%'", password, opts.User))
	t.Cleanup(func() { mysqltest.Exec(t, admin, fmt.Sprintf("DROP USER IF EXISTS '%s'@'%%'", opts.User)) })
	opts.Password = password
	s := open(t, opts)
	mysqltest.Exec(t, admin, "DROP TABLE `"+password+"`.k3_kv")
	_, err := s.Get(t.Context(), "/a")
	if err == nil || errors.Is(err, backends.ErrNotFound) {
		t.Fatalf("Get from a dropped table: %v, want a failure", err)
	}
	if strings.Contains(err.Error(), password) {
		t.Fatalf("query error contains the password: %v", err)
	}
	if !strings.Contains(err.Error(), "****") {
		t.Fatalf("query error does not show the redaction of the database name (%v)", err)
	}
}

// TestOpenUnknownDatabaseWithoutPrivilege uses a user that may not create
// databases.
func TestOpenUnknownDatabaseWithoutPrivilege(t *testing.T) {
	admin := mysqltest.ServerOptions(t)
	opts := admin
	opts.User, opts.Password = "k3u"+randomHex(t), "pw-"+randomHex(t)
	opts.Database = mysqltest.UniqueName(t)
	mysqltest.Exec(t, admin, fmt.Sprintf("CREATE USER '%s'@'%%' IDENTIFIED BY '%s'", opts.User, opts.Password))
	t.Cleanup(func() { mysqltest.Exec(t, admin, fmt.Sprintf("DROP USER IF EXISTS '%s'@'%%'", opts.User)) })

	err, took := openErr(t, opts)
	if !errors.Is(err, backends.ErrPermanent) {
		t.Fatalf("unknown database without privileges: %v, want ErrPermanent", err)
	}
	if errors.Is(err, backends.ErrAccessDenied) {
		t.Fatalf("unknown database without privileges: %v is ErrAccessDenied, but the login succeeded", err)
	}
	if took > 5*time.Second {
		t.Fatalf("took %v", took)
	}
	if !strings.Contains(err.Error(), opts.Database) || !strings.Contains(err.Error(), "may not") {
		t.Fatalf("unclear message: %v", err)
	}
	if strings.Contains(err.Error(), opts.Password) {
		t.Fatalf("message contains the password: %v", err)
	}

	// A user that may use the database but not create it: the server says
	// "unknown database" (1049), then refuses CREATE DATABASE.
	mysqltest.Exec(t, admin, fmt.Sprintf("GRANT SELECT, INSERT ON `%s`.* TO '%s'@'%%'", opts.Database, opts.User))
	err, _ = openErr(t, opts)
	if !errors.Is(err, backends.ErrPermanent) || !strings.Contains(err.Error(), "does not exist") {
		t.Fatalf("unknown database the user may use but not create: %v, want a permanent 'does not exist' error", err)
	}
}

func TestOpenCreatesDatabaseConcurrently(t *testing.T) {
	opts := mysqltest.ServerOptions(t)
	opts.Database = mysqltest.UniqueName(t)
	mysqltest.DropOnCleanup(t, opts)
	const n = 4
	stores := make([]*mysql.Store, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			stores[i], errs[i] = mysql.Open(t.Context(), opts)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("concurrent Open %d: %v", i, err)
		}
		t.Cleanup(func() { stores[i].Close() })
	}
	ctx := ctxOf(t)
	var revs []int64
	for i, s := range stores {
		rev, err := s.Create(ctx, fmt.Sprintf("/k%d", i), nil)
		if err != nil {
			t.Fatal(err)
		}
		revs = append(revs, rev)
	}
	for i := range revs {
		if revs[i] != int64(i+1) {
			t.Fatalf("revisions %v across the stores, want 1..%d (one meta row)", revs, n)
		}
	}
}

func TestOpenRefused(t *testing.T) {
	opts := mysql.Options{Host: "127.0.0.1", Port: mysqltest.FreePort(t), User: "u", Password: "secret-pw", Database: "k3", PollInterval: time.Second}
	err, took := openErr(t, opts)
	if errors.Is(err, backends.ErrPermanent) {
		t.Fatalf("refused connection marked permanent: %v", err)
	}
	if took > 5*time.Second {
		t.Fatalf("a refused connection took %v to fail", took)
	}
	if !strings.Contains(err.Error(), fmt.Sprintf("127.0.0.1:%d/k3", opts.Port)) {
		t.Fatalf("error does not name the address: %v", err)
	}
}

// fakeServer accepts connections and hands each to serve.
func fakeServer(t *testing.T, serve func(net.Conn)) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() { l.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				serve(c)
			}()
		}
	}()
	return l.Addr().(*net.TCPAddr).Port
}

// TestOpenSilentServer: a port that accepts TCP but never speaks (like a
// published container port before the database is up) must not count as
// connected, and the attempt must end with its context.
func TestOpenSilentServer(t *testing.T) {
	stop := make(chan struct{})
	port := fakeServer(t, func(c net.Conn) { <-stop })
	t.Cleanup(func() { close(stop) })
	ctx, cancel := context.WithTimeout(t.Context(), 500*time.Millisecond)
	defer cancel()
	start := time.Now()
	s, err := mysql.Open(ctx, mysql.Options{Host: "127.0.0.1", Port: port, User: "u", Password: "secret-pw", Database: "k3", PollInterval: time.Second})
	if err == nil {
		s.Close()
		t.Fatal("Open succeeded against a server that never answered")
	}
	if errors.Is(err, backends.ErrPermanent) {
		t.Fatalf("silent server marked permanent: %v", err)
	}
	if took := time.Since(start); took > 3*time.Second {
		t.Fatalf("Open ignored its context: took %v", took)
	}
}

// TestOpenProtocolMismatch: something that is not MySQL answers.
func TestOpenProtocolMismatch(t *testing.T) {
	port := fakeServer(t, func(c net.Conn) {
		c.Write([]byte("SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n"))
		c.Read(make([]byte, 64))
	})
	err, _ := openErr(t, mysql.Options{Host: "127.0.0.1", Port: port, User: "u", Password: "secret-pw", Database: "k3", PollInterval: time.Second})
	if !errors.Is(err, backends.ErrPermanent) {
		t.Fatalf("protocol mismatch: %v, want ErrPermanent", err)
	}
}

func TestOpenInvalidDatabaseName(t *testing.T) {
	for _, name := range []string{"", "a`b", "a-b", strings.Repeat("x", 65)} {
		_, err := mysql.Open(t.Context(), mysql.Options{Host: "127.0.0.1", Port: 3306, Database: name, PollInterval: time.Second})
		if !errors.Is(err, backends.ErrPermanent) || !strings.Contains(err.Error(), "database name") {
			t.Errorf("database name %q: %v, want ErrPermanent naming the database name", name, err)
		}
	}
}

// TestOpenRequiredOptions: what the caller must give is checked before any
// connection, as a permanent error naming the option.
func TestOpenRequiredOptions(t *testing.T) {
	ok := mysql.Options{Host: "127.0.0.1", Port: 3306, Database: "k3", PollInterval: time.Second}
	for _, tt := range []struct {
		name string
		edit func(*mysql.Options)
	}{
		{"Host", func(o *mysql.Options) { o.Host = "" }},
		{"Port", func(o *mysql.Options) { o.Port = 0 }},
		{"PollInterval", func(o *mysql.Options) { o.PollInterval = 0 }},
	} {
		o := ok
		tt.edit(&o)
		_, err := mysql.Open(t.Context(), o)
		if !errors.Is(err, backends.ErrPermanent) || !strings.Contains(err.Error(), tt.name) {
			t.Errorf("without %s: %v, want ErrPermanent naming it", tt.name, err)
		}
	}
}

// TestPrivateServer checks mysqltest.StartServer end to end: the server
// answers, a Store works on it, and after stop the Store's calls fail as
// retryable, not permanent, errors.
func TestPrivateServer(t *testing.T) {
	srv := mysqltest.NewServer(t)
	ctx := ctxOf(t)
	opts := srv.Options()
	opts.Database = "k3"
	if err, _ := openErr(t, opts); errors.Is(err, backends.ErrPermanent) {
		t.Fatalf("Open before the server started: %v, want a retryable error", err)
	}
	if err := srv.Start(ctx); err != nil {
		t.Fatal(err)
	}
	s := open(t, opts)
	if _, err := s.Put(ctx, "/a", []byte("v")); err != nil {
		t.Fatal(err)
	}
	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, "/a"); err == nil || errors.Is(err, backends.ErrPermanent) {
		t.Fatalf("Get with the server stopped: %v", err)
	}
	if err := srv.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if kv, err := s.Get(ctx, "/a"); err != nil || string(kv.Value) != "v" {
		t.Fatalf("Get after the server restarted: %q, %v", kv.Value, err)
	}
}
