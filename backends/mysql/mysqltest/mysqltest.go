// Package mysqltest gives tests a MySQL/MariaDB server for the mysql
// backend: the shared one named by the environment, with a fresh database
// per test, or a private MariaDB started for the test (StartServer); and a
// Proxy to put between a Store and its server, which can make a connection
// go silent mid-statement.
//
// # Environment
//
//	K3_TEST_MYSQL_DSN   the shared server, as a go-sql-driver DSN over TCP
//	                    with the database part empty, e.g.
//	                    k3test:k3test-pw@tcp(127.0.0.1:3306)/
//	                    The user needs CREATE and DROP on *.* (tests make and
//	                    drop their own databases); tests that check privileges
//	                    also need CREATE USER and GRANT OPTION.
//	K3_TEST_REQUIRE     "all" (or a comma-separated list naming "mysql")
//	                    turns every skip for a missing server or missing
//	                    MariaDB binaries into a failure; CI sets it.
//
// Without K3_TEST_MYSQL_DSN, tests that need the shared server skip with a
// reason.
package mysqltest

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"database/sql"
	sqldriver "database/sql/driver"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	driver "github.com/go-sql-driver/mysql"

	"github.com/k3/k3-storage/backends/mysql"
	"github.com/k3/k3-storage/internal/testenv"
)

// Environment variables read by this package.
const (
	EnvDSN     = "K3_TEST_MYSQL_DSN"
	EnvRequire = "K3_TEST_REQUIRE"
)

// Required reports whether K3_TEST_REQUIRE makes MySQL tests mandatory.
func Required() bool { return testenv.Required("mysql") }

// SkipOrFail skips the test with reason (counted under "mysql" in the
// package's summary), or fails it when Required (see testenv.Need).
func SkipOrFail(tb testing.TB, reason string) {
	tb.Helper()
	testenv.Need(tb, "mysql", errors.New(reason))
}

// DSN returns K3_TEST_MYSQL_DSN, skipping (or failing, see Required) the
// test when it is unset.
func DSN(tb testing.TB) string {
	tb.Helper()
	dsn := os.Getenv(EnvDSN)
	if dsn == "" {
		SkipOrFail(tb, EnvDSN+" is not set: no MySQL/MariaDB server to test against (e.g. "+
			EnvDSN+"='k3test:k3test-pw@tcp(127.0.0.1:3306)/')")
	}
	return dsn
}

// ServerOptions returns Options for the server of K3_TEST_MYSQL_DSN, with
// no database.
func ServerOptions(tb testing.TB) mysql.Options {
	tb.Helper()
	cfg, err := driver.ParseDSN(DSN(tb))
	if err != nil {
		tb.Fatalf("%s: %v", EnvDSN, err)
	}
	if cfg.Net != "tcp" {
		tb.Fatalf("%s must use tcp(host:port), not %q", EnvDSN, cfg.Net)
	}
	host, port, err := net.SplitHostPort(cfg.Addr)
	if err != nil {
		tb.Fatalf("%s: address %q: %v", EnvDSN, cfg.Addr, err)
	}
	p, err := strconv.Atoi(port)
	if err != nil {
		tb.Fatalf("%s: port %q: %v", EnvDSN, port, err)
	}
	return withPool(mysql.Options{Host: host, Port: p, User: cfg.User, Password: cfg.Passwd})
}

// withPool sets the pool and poll settings k3-storage runs with by default
// (configs.Default), which the adapter leaves to its caller.
func withPool(o mysql.Options) mysql.Options {
	o.MaxOpenConns, o.MaxIdleConns = 10, 5
	o.PollInterval = 100 * time.Millisecond
	return o
}

// NewDatabase creates a uniquely named database on the server of
// K3_TEST_MYSQL_DSN, drops it when the test ends, and returns Options for
// it (with the pool and poll settings of ServerOptions).
func NewDatabase(tb testing.TB) mysql.Options {
	tb.Helper()
	opts := ServerOptions(tb)
	opts.Database = UniqueName(tb)
	Exec(tb, opts, "CREATE DATABASE `"+opts.Database+"`")
	DropOnCleanup(tb, opts)
	return opts
}

// UniqueName returns a database name derived from the test's name that no
// other test uses; the database is not created.
func UniqueName(tb testing.TB) string {
	tb.Helper()
	var name strings.Builder
	name.WriteString("k3t_")
	for _, c := range []byte(tb.Name()) {
		if name.Len() >= 36 {
			break
		}
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' {
			name.WriteByte(c)
		}
	}
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		tb.Fatal(err)
	}
	return name.String() + "_" + hex.EncodeToString(b)
}

// DropOnCleanup drops opts.Database when the test ends.
func DropOnCleanup(tb testing.TB, opts mysql.Options) {
	tb.Helper()
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(tb.Context()), time.Minute)
		defer cancel()
		if err := execSQL(ctx, opts, "", "DROP DATABASE IF EXISTS `"+opts.Database+"`"); err != nil {
			tb.Errorf("drop test database: %v", err)
		}
	})
}

// Exec runs statements on the server of opts as opts.User, without a
// default database (qualify names), failing the test on error.
func Exec(tb testing.TB, opts mysql.Options, statements ...string) {
	tb.Helper()
	// Not cancelled with the test: Exec also serves Cleanup functions.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(tb.Context()), time.Minute)
	defer cancel()
	for _, q := range statements {
		if err := execSQL(ctx, opts, "", q); err != nil {
			tb.Fatalf("%s: %v", q, err)
		}
	}
}

// OpenDB returns a plain database/sql pool on opts.Database (no GORM), for
// tests and benchmarks that compare with or inspect the Store's tables. It
// is closed when the test ends.
func OpenDB(tb testing.TB, opts mysql.Options) *sql.DB {
	tb.Helper()
	db := sql.OpenDB(mustConnector(tb, opts, opts.Database))
	tb.Cleanup(func() { db.Close() })
	return db
}

func mustConnector(tb testing.TB, opts mysql.Options, database string) sqldriver.Connector {
	tb.Helper()
	c, err := connector(opts, database)
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

// connector mirrors the Store's connection settings (binary connection
// character set, strict mode, client-side interpolation).
func connector(opts mysql.Options, database string) (sqldriver.Connector, error) {
	cfg := driver.NewConfig()
	cfg.User, cfg.Passwd = opts.User, opts.Password
	cfg.Net, cfg.Addr = "tcp", net.JoinHostPort(opts.Host, strconv.Itoa(opts.Port))
	cfg.DBName = database
	cfg.Timeout = 5 * time.Second
	cfg.InterpolateParams = true
	cfg.Collation = "binary"
	cfg.Params = map[string]string{"sql_mode": "'STRICT_ALL_TABLES,NO_ENGINE_SUBSTITUTION'"}
	if m := opts.TLS.Mode; m != "" && m != mysql.TLSDisabled {
		// Test servers' certificates are the tests' business.
		cfg.TLS = &tls.Config{InsecureSkipVerify: true} //nolint:gosec // test helper
	}
	return driver.NewConnector(cfg)
}

func execSQL(ctx context.Context, opts mysql.Options, database, q string) error {
	c, err := connector(opts, database)
	if err != nil {
		return err
	}
	db := sql.OpenDB(c)
	defer db.Close()
	_, err = db.ExecContext(ctx, q)
	return err
}

// Ping makes one round trip to the server of opts (no database).
func Ping(ctx context.Context, opts mysql.Options) error {
	c, err := connector(opts, "")
	if err != nil {
		return err
	}
	db := sql.OpenDB(c)
	defer db.Close()
	return db.PingContext(ctx)
}

// describe is used in messages.
func describe(opts mysql.Options) string {
	return fmt.Sprintf("%s@%s", opts.User, net.JoinHostPort(opts.Host, strconv.Itoa(opts.Port)))
}
