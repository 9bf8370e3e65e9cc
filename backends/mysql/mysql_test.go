package mysql_test

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/k3/k3-storage/backends"
	"github.com/k3/k3-storage/backends/backendtest"
	"github.com/k3/k3-storage/backends/mysql"
	"github.com/k3/k3-storage/backends/mysql/mysqltest"
)

func TestMain(m *testing.M) {
	if os.Getenv(helperEnv) != "" {
		os.Exit(helperMain())
	}
	goleak.VerifyTestMain(m)
}

// open opens a Store on opts and closes it when the test ends.
func open(tb testing.TB, opts mysql.Options) *mysql.Store {
	tb.Helper()
	ctx, cancel := context.WithTimeout(tb.Context(), 30*time.Second)
	defer cancel()
	s, err := mysql.Open(ctx, opts)
	if err != nil {
		tb.Fatalf("Open: %v", err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	opts := mysqltest.NewDatabase(t)
	backendtest.Run(t, func(tb testing.TB) backends.Store { return open(tb, opts) })
}

// TestLeastPrivilege runs the conformance suite as a user with only
// SELECT, INSERT, UPDATE and DELETE on a database whose schema exists (made
// by a privileged user's first Open): the privileges a Store needs.
func TestLeastPrivilege(t *testing.T) {
	admin := mysqltest.NewDatabase(t)
	open(t, admin).Close() // creates the schema
	opts := admin
	opts.User, opts.Password = "k3least"+randomHex(t), "pw-"+randomHex(t)
	server := mysqltest.ServerOptions(t)
	mysqltest.Exec(t, server,
		fmt.Sprintf("CREATE USER '%s'@'%%' IDENTIFIED BY '%s'", opts.User, opts.Password),
		fmt.Sprintf("GRANT SELECT, INSERT, UPDATE, DELETE ON `%s`.* TO '%s'@'%%'", opts.Database, opts.User))
	t.Cleanup(func() { mysqltest.Exec(t, server, fmt.Sprintf("DROP USER IF EXISTS '%s'@'%%'", opts.User)) })
	backendtest.Run(t, func(tb testing.TB) backends.Store { return open(tb, opts) })
}
