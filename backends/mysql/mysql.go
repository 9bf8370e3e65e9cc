// Package mysql is the MySQL/MariaDB Store, through GORM and
// go-sql-driver/mysql. GORM and the driver are imported here and nowhere
// else in k3-storage.
//
// # Schema
//
// Three InnoDB tables, created idempotently by Open (several processes may
// open the same database at once):
//
//	k3_meta(id=1, current_rev, compact_rev)   one row: the store revision and
//	                                          the newest compacted revision
//	k3_kv(k VARBINARY(1024) PK, value MEDIUMBLOB, create_rev, mod_rev, version)
//	k3_log(rev PK, k, type, value, prev_value, create_rev, prev_mod_rev,
//	       prev_version, INDEX(k, rev))       one row per write, for Watch
//
// Keys and values are binary columns: no collation, so keys that differ only
// in case, trailing spaces, NUL or 0xFF bytes are distinct, and every
// connection runs in strict sql_mode, so nothing is silently truncated.
//
// # Revisions
//
// Every write is one transaction that first runs
//
//	UPDATE k3_meta SET current_rev = LAST_INSERT_ID(current_rev + 1) WHERE id = 1
//
// The exclusive lock on the meta row is held until commit, so writers (of
// every process sharing the database) queue on it: revision N+1 cannot be
// assigned before the transaction holding N has committed or rolled back.
// Hence revisions are gap-free, a failed write (rolled back) consumes none,
// and commit order equals revision order. A reader that sees the log row of
// N+1 committed therefore sees N too (InnoDB read views contain every
// transaction committed before the view was opened); the Watch poller relies
// on that and never waits for a "late" lower revision.
//
// Since every writer queues on that one lock, Options.RequestTimeout bounds
// how long a writer may hold it or wait for it, on the client and on the
// server (see there).
//
// # Reads
//
// Get is one primary-key lookup. List is one statement (the meta row UNION
// ALL a primary-key range scan with LIMIT n+1), so the page and its Revision
// come from one InnoDB read view. Count is a range COUNT(*); CountRev adds
// the meta row's revision to it in the same statement. History is one
// statement over k3_log's (k, rev) index.
//
// # Watch
//
// One poller goroutine per Store reads new k3_log rows into a bounded
// in-memory window of recent events. It is woken at once by this Store's
// commits and otherwise polls every Options.PollInterval for other processes'
// writes; it polls only while the Store has watchers. Each watcher has its own
// goroutine and cursor: it takes events from the window while its cursor is
// inside it and reads k3_log itself (replay, or a watcher that fell behind)
// otherwise, so a slow watcher never blocks the poller, writers or other
// watchers. A cursor older than retained history ends the watch with
// ErrCompacted.
//
// # Compaction
//
// Compact first advances k3_meta.compact_rev, then deletes older log rows in
// batches, so a reader never sees a missing log row without also seeing why.
// Options.History bounds the log automatically: the writer of every
// History/10th revision starts a background compaction to keep the newest
// History rows.
//
// # Testing
//
// Tests run against a real server named by K3_TEST_MYSQL_DSN, or a private
// MariaDB started per test; see package mysqltest.
//
// # Statements
//
// GORM owns the connection pool and the write transactions: each write is
// exactly one db.Transaction (SkipDefaultTransaction, so GORM adds no
// transaction of its own; its logger is logger.Discard, so no SQL or value
// is ever printed). The statements themselves go to GORM's ConnPool (the
// pool, or the transaction's *sql.Tx) directly: GORM's statement builder and
// callbacks cost about 15% of a primary-key Get and add nothing to fixed SQL
// without models, and the Store must stay within 1.2x of hand-written
// database/sql (BENCHMARKS.md).
//
// Prepared statements are not used (PrepareStmt off): the driver
// interpolates parameters client-side (interpolateParams), so each statement
// is one round trip and no server-side statement exists, whose number is
// bounded server-wide (max_prepared_stmt_count) and would grow with every
// process and connection. Keys and values are sent as []byte, so they
// travel as _binary literals whatever the connection character set.
package mysql

import (
	"context"
	"crypto/tls"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-sql-driver/mysql"
	gormmysql "gorm.io/driver/mysql"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/k3/k3-storage/backends"
)

// Defaults applied by Open to zero Options fields of the adapter's own
// tunables. The settings a user configures (address, credentials, pool
// sizes, poll interval) have no defaults here: k3-storage's config file
// is their one home.
const (
	DefaultHistory        = 100_000
	DefaultDialTimeout    = 5 * time.Second
	DefaultOpenTimeout    = 15 * time.Second
	DefaultRequestTimeout = 10 * time.Second
)

// minPacket is the smallest server max_allowed_packet that lets the largest
// statement and row through: a MaxValueSize value escaped for the text
// protocol (up to twice its size) in an INSERT, or a log row carrying a value
// and a previous value.
const minPacket = 4 << 20

// Options configures Open. Host, Port, Database and PollInterval are
// required; the other zero values are documented per field.
type Options struct {
	// Host is a host name or IP address, without port. Required.
	Host string
	// Port is the TCP port, 1-65535. Required.
	Port int
	// User and Password are the credentials. Password never appears in an
	// error text.
	User     string
	Password string
	// Database is created if missing and the user may create it. It must
	// match [A-Za-z0-9_$]{1,64}. Required.
	Database string
	// TLS encrypts the connections (see TLS); the zero value connects
	// without TLS.
	TLS TLS
	// MaxOpenConns bounds the connection pool; 0 means no bound (as
	// database/sql). MaxIdleConns is how many connections stay open while
	// idle, capped at MaxOpenConns; 0 (or less) keeps none.
	MaxOpenConns int
	MaxIdleConns int
	// PollInterval is how often watches look for other processes' writes
	// (this Store's own writes wake them at once). Required, > 0.
	PollInterval time.Duration
	// History is how many log rows (revisions) are kept for Watch replay
	// before automatic compaction removes older ones. Default 100000;
	// negative disables automatic compaction.
	History int64
	// DialTimeout bounds establishing one connection, in Open and whenever
	// the pool opens one later: the TCP dial, the MySQL handshake and
	// authentication, and the session settings. Default 5s.
	DialTimeout time.Duration
	// OpenTimeout bounds the whole of one Open (connect, create the
	// database, create the schema), in addition to Open's context. 0 means
	// DefaultOpenTimeout. Open never retries: its caller does.
	OpenTimeout time.Duration
	// RequestTimeout bounds every Store call, on top of the caller's
	// context (a Watch only while it starts; each of its later log reads,
	// and each statement of a compaction, gets it of its own). Default 10s.
	//
	// It also sets the server side of the same bound, so that a writer that
	// hangs or vanishes cannot stall every other writer, all of which
	// queue on one lock (the k3_meta row; see Revisions): each session's
	// innodb_lock_wait_timeout is RequestTimeout (in whole seconds, at
	// least 1), so a writer queued behind a stuck one gives up then; and
	// its wait_timeout is three times that, so the server ends the session
	// of a writer that went silent in the middle of its transaction (a
	// network partition, a killed process), rolling back and releasing the
	// lock, within 3×RequestTimeout rather than after the server's default
	// of eight hours. Idle pooled connections are closed after
	// RequestTimeout, well before the server would drop them. The driver's
	// read and write timeouts (silence on the connection) are
	// 2×RequestTimeout, for any statement without a deadline of its own.
	RequestTimeout time.Duration
}

func (o Options) withDefaults() Options {
	o.MaxOpenConns = max(o.MaxOpenConns, 0)
	o.MaxIdleConns = max(o.MaxIdleConns, 0)
	if o.MaxOpenConns > 0 {
		o.MaxIdleConns = min(o.MaxIdleConns, o.MaxOpenConns)
	}
	if o.History == 0 {
		o.History = DefaultHistory
	}
	if o.DialTimeout <= 0 {
		o.DialTimeout = DefaultDialTimeout
	}
	if o.OpenTimeout <= 0 {
		o.OpenTimeout = DefaultOpenTimeout
	}
	if o.RequestTimeout <= 0 {
		o.RequestTimeout = DefaultRequestTimeout
	}
	return o
}

// validate checks the required options.
func (o Options) validate() error {
	switch {
	case o.Host == "":
		return errors.New("Host is required")
	case o.Port < 1 || o.Port > 65535:
		return fmt.Errorf("Port %d is out of range (want 1-65535)", o.Port)
	case !validDatabaseName(o.Database):
		return fmt.Errorf("invalid database name %q (want [A-Za-z0-9_$]{1,64})", o.Database)
	case o.PollInterval <= 0:
		return errors.New("PollInterval is required")
	}
	return o.TLS.validate()
}

// seconds returns d in whole seconds, rounded up, at least 1: the unit of
// the server's timeout variables.
func seconds(d time.Duration) int64 {
	return max(1, int64((d+time.Second-1)/time.Second))
}

// validDatabaseName reports whether name matches [A-Za-z0-9_$]{1,64}, the
// syntax the config layer enforces too, so the name is safe in backquotes.
func validDatabaseName(name string) bool {
	if len(name) == 0 || len(name) > 64 {
		return false
	}
	for _, c := range []byte(name) {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '$'
		if !ok {
			return false
		}
	}
	return true
}

// sqlMode is set on every connection: strict, so an over-long or invalid
// value is an error rather than a silent truncation.
const sqlMode = "'STRICT_ALL_TABLES,NO_ZERO_IN_DATE,NO_ZERO_DATE,ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION'"

var (
	_ backends.Store           = (*Store)(nil)
	_ backends.Compactor       = (*Store)(nil)
	_ backends.Revisioner      = (*Store)(nil)
	_ backends.RevisionCounter = (*Store)(nil)
	_ backends.Historian       = (*Store)(nil)
	_ backends.Pinger          = (*Store)(nil)
)

// Store is the MySQL backend. Create it with Open; it is safe for concurrent
// use and shares its database with any number of other Stores and processes.
type Store struct {
	db       *gorm.DB
	sqlDB    *sql.DB
	pool     gorm.ConnPool // db.ConnPool: sqlDB, for reads (see queryRow)
	pingDB   *sql.DB       // one connection of its own, for Ping
	password string
	addr     string        // host:port/database, for messages
	timeout  time.Duration // Options.RequestTimeout

	pollInterval time.Duration
	history      int64
	compactEvery int64

	// ctx is the root of the Store's background work; Close cancels it.
	ctx    context.Context
	cancel context.CancelFunc

	closeMu sync.Mutex // orders bg.Add against Close's bg.Wait
	closed  atomic.Bool
	bg      sync.WaitGroup // poller and background compactions

	wake          chan struct{} // buffered(1): a local commit or a new watcher
	compacting    atomic.Bool   // a background compaction runs
	compactTarget atomic.Int64  // newest revision automatic compaction should keep
	feed          feed
	pollLimit     logLimit // the poller's next batch size (its goroutine only)
	// watchHeld is the most event bytes one watcher took at once (from
	// the window or a replay of the log), for tests.
	watchHeld maxGauge
}

// Open connects to the server once (no retry: the caller retries, reporting
// each attempt) and returns a Store. Connected means a real round trip
// through the driver under ctx. It creates the database if it is missing and
// the user may create it, and the tables that are missing (so a user with
// only SELECT, INSERT, UPDATE and DELETE on a database whose tables exist
// can open it). ctx bounds only this call: once Open returns, ending it
// does not affect the Store.
//
// Errors that retrying cannot fix are marked backends.ErrPermanent: rejected
// credentials, a database that does not exist and cannot be created (or may
// not be used), a TLS or protocol mismatch, a server whose
// max_allowed_packet is too small for MaxValueSize. A refused connection, a
// timeout or a server still starting gives a plain error. No error text
// contains the password.
func Open(ctx context.Context, opts Options) (*Store, error) {
	opts = opts.withDefaults()
	if err := opts.validate(); err != nil {
		return nil, backends.Permanent(fmt.Errorf("mysql: open: %w", err))
	}
	ctx, cancel := context.WithTimeout(ctx, opts.OpenTimeout)
	defer cancel()

	s, err := open(ctx, opts)
	if err != nil {
		return nil, openError(err, opts.Password)
	}
	return s, nil
}

func open(ctx context.Context, opts Options) (*Store, error) {
	cfg, err := driverConfig(opts)
	if err != nil {
		return nil, backends.Permanent(err)
	}
	sqlDB, err := connect(ctx, cfg)
	var me *mysql.MySQLError
	if errors.As(err, &me) && me.Number == erBadDB {
		if err := createDatabase(ctx, cfg); err != nil {
			return nil, err
		}
		sqlDB, err = connect(ctx, cfg)
	}
	if err != nil && refusedPlain(ctx, cfg, err) {
		return nil, fmt.Errorf("connect to %s: %w (%w)", describe(opts), ErrTLSRequired, err)
	}
	if errors.As(err, &me) && me.Number == erDBAccessDenied {
		return nil, backends.Permanent(fmt.Errorf("connect to %s: user %q may not use database %q (it may not exist, and this user may not create it): %w",
			describe(opts), opts.User, opts.Database, err))
	}
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", describe(opts), err)
	}
	ok := false
	defer func() {
		if !ok {
			sqlDB.Close()
		}
	}()
	if err := checkServer(ctx, sqlDB); err != nil {
		return nil, err
	}
	pingDB, err := connectPing(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", describe(opts), err)
	}
	defer func() {
		if !ok {
			pingDB.Close()
		}
	}()
	if err := createSchema(ctx, sqlDB); err != nil {
		return nil, err
	}
	sqlDB.SetMaxOpenConns(opts.MaxOpenConns)
	sqlDB.SetMaxIdleConns(opts.MaxIdleConns)
	// The server drops connections idle for 3×RequestTimeout (wait_timeout,
	// see Options.RequestTimeout); the pool lets them go first (its cleaner
	// runs every RequestTimeout, so none idles past twice that).
	sqlDB.SetConnMaxIdleTime(opts.RequestTimeout)

	db, err := gorm.Open(gormmysql.New(gormmysql.Config{
		Conn:                      sqlDB,
		DSNConfig:                 cfg,
		SkipInitializeWithVersion: true, // its SELECT VERSION() would run without a context
	}), &gorm.Config{
		Logger:                 logger.Discard, // never print SQL or values
		SkipDefaultTransaction: true,           // writes own their transaction
		PrepareStmt:            false,          // see "Statements" in the package doc
		DisableAutomaticPing:   true,           // connect pinged under ctx already
	})
	if err != nil {
		return nil, fmt.Errorf("gorm: %w", err)
	}

	bgctx, bgcancel := context.WithCancel(context.WithoutCancel(ctx))
	s := &Store{
		db:           db,
		sqlDB:        sqlDB,
		pool:         db.ConnPool,
		pingDB:       pingDB,
		password:     opts.Password,
		addr:         describe(opts),
		timeout:      opts.RequestTimeout,
		pollInterval: opts.PollInterval,
		history:      opts.History,
		compactEvery: max(opts.History/10, 1),
		ctx:          bgctx,
		cancel:       bgcancel,
		wake:         make(chan struct{}, 1),
	}
	s.feed.init()
	s.bg.Add(1)
	go s.poll()
	ok = true
	return s, nil
}

// describe names the server and database for messages, never the password.
func describe(opts Options) string {
	return net.JoinHostPort(opts.Host, strconv.Itoa(opts.Port)) + "/" + opts.Database
}

// driverConfig builds the driver's configuration. Nothing formats it into a
// DSN string, so the password lives only in this struct. Its errors are
// about TLS files the user named.
func driverConfig(opts Options) (*mysql.Config, error) {
	cfg := mysql.NewConfig()
	cfg.User = opts.User
	cfg.Passwd = opts.Password
	cfg.Net = "tcp"
	cfg.Addr = net.JoinHostPort(opts.Host, strconv.Itoa(opts.Port))
	cfg.DBName = opts.Database
	// The driver's own timeout covers only the TCP dial; connect bounds
	// the handshake too (timeoutConnector).
	cfg.Timeout = opts.DialTimeout
	cfg.ReadTimeout = 2 * opts.RequestTimeout
	cfg.WriteTimeout = 2 * opts.RequestTimeout
	cfg.ParseTime = false
	cfg.InterpolateParams = true
	// The handshake's collation sets the connection character set: binary,
	// so no byte of a key or value is ever converted or rejected.
	cfg.Collation = "binary"
	cfg.Params = map[string]string{
		"sql_mode":                 sqlMode,
		"innodb_lock_wait_timeout": strconv.FormatInt(seconds(opts.RequestTimeout), 10),
		"wait_timeout":             strconv.FormatInt(3*seconds(opts.RequestTimeout), 10),
	}
	cfg.Logger = nopLogger{} // the default writes to stderr
	tlsCfg, fallback, err := opts.TLS.config(opts.Host)
	if err != nil {
		return nil, err
	}
	cfg.TLS = tlsCfg
	if fallback {
		cfg.AllowFallbackToPlaintext = true
		// Falling back, the driver clears the TLS setting of the config it
		// connects with, which without a BeforeConnect hook is the one
		// shared by every connection: one server without TLS would turn
		// TLS off for all later connections (and race with them). With a
		// hook, each connection gets its own copy.
		if err := cfg.Apply(mysql.BeforeConnect(func(context.Context, *mysql.Config) error { return nil })); err != nil {
			return nil, err
		}
	}
	return cfg, nil
}

type nopLogger struct{}

func (nopLogger) Print(...any) {}

// timeoutConnector bounds the whole of establishing a connection: the
// driver's own Timeout covers only the TCP dial, and the handshake,
// authentication and session settings that follow would otherwise wait as
// long as the context of whatever call needed the connection. The driver
// watches the context only while it connects, so the deadline does not
// outlive this call.
type timeoutConnector struct {
	driver.Connector
	timeout time.Duration
}

func (c timeoutConnector) Connect(ctx context.Context) (driver.Conn, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	return c.Connector.Connect(ctx)
}

// connect opens a pool for cfg and makes one round trip under ctx. A peer
// that is not a MySQL server is reported as such (see probe), permanent.
// Every connection the pool opens, now or later, is established within
// cfg.Timeout (Options.DialTimeout).
func connect(ctx context.Context, cfg *mysql.Config) (*sql.DB, error) {
	var p probe
	cfg = cfg.Clone()
	cfg.DialFunc = p.dial
	connector, err := mysql.NewConnector(cfg)
	if err != nil {
		return nil, err
	}
	db := sql.OpenDB(timeoutConnector{connector, cfg.Timeout})
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		if mismatch := p.mismatch(cfg.Addr); mismatch != nil {
			return nil, backends.Permanent(mismatch)
		}
		return nil, err
	}
	return db, nil
}

// refusedPlain reports whether err, the failure of a plain connection,
// means the server accepts the user only over TLS. MySQL says so (3159);
// MariaDB, and both servers for an account that REQUIRE SSL, answer
// "access denied" (1045) exactly as to a wrong password. So on that answer
// to a plain connection one more login is tried over TLS, without checking
// the certificate: if it succeeds, the password was right and only the
// transport was refused.
func refusedPlain(ctx context.Context, cfg *mysql.Config, err error) bool {
	var me *mysql.MySQLError
	if cfg.TLS != nil || !errors.As(err, &me) {
		return false
	}
	switch me.Number {
	case erSecureTransportReq:
		return true
	case erAccessDenied:
	default:
		return false
	}
	try := cfg.Clone()
	try.TLS = &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: true} //nolint:gosec // a diagnosis; nothing is read or written
	// The login is the question, not the database (which may not exist
	// yet, and Open would create it).
	try.DBName = ""
	db, err := connect(ctx, try)
	if err != nil {
		return false
	}
	db.Close()
	return true
}

// connectPing opens the pool Ping uses: one connection, established here
// so that the first Ping does not pay for it, and kept open for good (the
// pool never retires it, and the server's default idle timeout applies
// rather than the Store's short one, which is there to release writers'
// locks; pings hold none). Were Ping to use the Store's pool, it would
// wait behind busy writers and measure the pool rather than the server.
func connectPing(ctx context.Context, cfg *mysql.Config) (*sql.DB, error) {
	cfg = cfg.Clone()
	delete(cfg.Params, "wait_timeout")
	db, err := connect(ctx, cfg)
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	return db, nil
}

// createDatabase creates cfg.DBName through a connection without a default
// database.
func createDatabase(ctx context.Context, cfg *mysql.Config) error {
	server := cfg.Clone()
	server.DBName = ""
	db, err := connect(ctx, server)
	if err != nil {
		return fmt.Errorf("connect to create database %q: %w", cfg.DBName, err)
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, "CREATE DATABASE IF NOT EXISTS `"+cfg.DBName+"`"); err != nil {
		if isAccessDenied(err) {
			return backends.Permanent(fmt.Errorf("database %q does not exist and user %q may not create it: %w", cfg.DBName, cfg.User, err))
		}
		return fmt.Errorf("create database %q: %w", cfg.DBName, err)
	}
	return nil
}

// checkServer verifies that the server lets MaxValueSize values through.
// max_allowed_packet is read-only per session, so a too small one cannot be
// raised here: it is reported as a permanent error naming the setting.
func checkServer(ctx context.Context, db *sql.DB) error {
	var packet int64
	if err := db.QueryRowContext(ctx, "SELECT @@max_allowed_packet").Scan(&packet); err != nil {
		return fmt.Errorf("read max_allowed_packet: %w", err)
	}
	if packet < minPacket {
		return backends.Permanent(fmt.Errorf("server max_allowed_packet is %d bytes; values up to %d bytes need at least %d (set max_allowed_packet=16M in the server's configuration)",
			packet, backends.MaxValueSize, minPacket))
	}
	return nil
}

// Schema statements; CREATE ... IF NOT EXISTS so that concurrent Opens are
// safe.
const (
	schemaMeta = "CREATE TABLE IF NOT EXISTS k3_meta (" +
		"id TINYINT UNSIGNED NOT NULL PRIMARY KEY, " +
		"current_rev BIGINT NOT NULL, " +
		"compact_rev BIGINT NOT NULL" +
		") ENGINE=InnoDB"
	schemaKV = "CREATE TABLE IF NOT EXISTS k3_kv (" +
		"k VARBINARY(1024) NOT NULL PRIMARY KEY, " +
		"value MEDIUMBLOB NOT NULL, " +
		"create_rev BIGINT NOT NULL, " +
		"mod_rev BIGINT NOT NULL, " +
		"version BIGINT NOT NULL" +
		") ENGINE=InnoDB ROW_FORMAT=DYNAMIC"
	schemaLog = "CREATE TABLE IF NOT EXISTS k3_log (" +
		"rev BIGINT NOT NULL PRIMARY KEY, " +
		"k VARBINARY(1024) NOT NULL, " +
		"type TINYINT NOT NULL, " +
		"value MEDIUMBLOB NULL, " +
		"prev_value MEDIUMBLOB NULL, " +
		"create_rev BIGINT NOT NULL, " +
		"prev_mod_rev BIGINT NOT NULL, " +
		"prev_version BIGINT NOT NULL, " +
		"KEY k_rev (k, rev)" +
		") ENGINE=InnoDB ROW_FORMAT=DYNAMIC"
	// schemaTables lists which of the tables exist. MySQL and MariaDB check
	// the CREATE privilege even for CREATE TABLE IF NOT EXISTS of an
	// existing table, so Open creates only what is missing: a user with
	// only SELECT, INSERT, UPDATE and DELETE can open a prepared database.
	// (information_schema lists exactly the tables the user has some
	// privilege on, which includes the ones the Store needs.)
	schemaTables = "SELECT table_name FROM information_schema.tables " +
		"WHERE table_schema = DATABASE() AND table_name IN ('k3_meta', 'k3_kv', 'k3_log')"
	// The meta row is inserted only when a plain read does not find it, so
	// an Open next to busy writers takes no lock on it.
	schemaHasMeta = "SELECT COUNT(*) FROM k3_meta WHERE id = 1"
	schemaMetaRow = "INSERT IGNORE INTO k3_meta (id, current_rev, compact_rev) VALUES (1, 0, 0)"
)

func createSchema(ctx context.Context, db *sql.DB) error {
	fail := func(err error) error {
		if isAccessDenied(err) {
			return backends.Permanent(fmt.Errorf("create schema: %w", err))
		}
		return fmt.Errorf("create schema: %w", err)
	}
	exists, err := existingTables(ctx, db)
	if err != nil {
		return fail(err)
	}
	for _, t := range []struct{ name, create string }{
		{"k3_meta", schemaMeta}, {"k3_kv", schemaKV}, {"k3_log", schemaLog},
	} {
		if exists[t.name] {
			continue
		}
		if _, err := db.ExecContext(ctx, t.create); err != nil {
			return fail(err)
		}
	}
	var n int
	if err := db.QueryRowContext(ctx, schemaHasMeta).Scan(&n); err != nil {
		return fail(err)
	}
	if n == 0 {
		if _, err := db.ExecContext(ctx, schemaMetaRow); err != nil {
			return fail(err)
		}
	}
	return nil
}

// existingTables returns which of the Store's tables exist.
func existingTables(ctx context.Context, db *sql.DB) (map[string]bool, error) {
	rows, err := db.QueryContext(ctx, schemaTables)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	exists := make(map[string]bool, 3)
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			return nil, err
		}
		exists[name] = true
	}
	return exists, rows.Err()
}

// Close implements backends.Store: it ends every watch with a final
// ErrClosed event, stops the poller and background compaction, and closes
// the connection pool. Later calls return ErrClosed; closing twice returns
// nil.
func (s *Store) Close() error {
	s.closeMu.Lock()
	if s.closed.Load() {
		s.closeMu.Unlock()
		return nil
	}
	s.closed.Store(true)
	s.closeMu.Unlock()

	s.cancel()
	s.bg.Wait()
	s.feed.close()
	pingErr := s.pingDB.Close()
	if err := errors.Join(s.sqlDB.Close(), pingErr); err != nil {
		return s.opError("close", err)
	}
	return nil
}

// Ping implements backends.Pinger: a COM_PING on a connection of its own
// (see connectPing), bounded by ctx and Options.RequestTimeout. A ping
// that fails before ctx ends is tried once more, on a new connection: the
// first may have found the old one broken (the server restarted since, or
// dropped it), which says nothing of the server now, while the second
// tells whether it answers, or why not ("connection refused" rather than
// "invalid connection").
func (s *Store) Ping(ctx context.Context) error {
	if s.closed.Load() {
		return fmt.Errorf("mysql: ping: %w", backends.ErrClosed)
	}
	ctx, cancel := s.bound(ctx)
	defer cancel()
	err := s.pingDB.PingContext(ctx)
	if err != nil && ctx.Err() == nil && !s.closed.Load() {
		err = s.pingDB.PingContext(ctx)
	}
	if err != nil {
		return s.opError("ping", err)
	}
	return nil
}

// bound returns ctx bounded by the request timeout
// (Options.RequestTimeout); the caller must call cancel.
func (s *Store) bound(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, s.timeout)
}

// Addr returns "host:port/database" as configured, for messages; it never
// contains credentials.
func (s *Store) Addr() string { return s.addr }

// goBackground runs fn on its own goroutine unless the Store is closed;
// Close waits for it.
func (s *Store) goBackground(fn func()) bool {
	s.closeMu.Lock()
	defer s.closeMu.Unlock()
	if s.closed.Load() {
		return false
	}
	s.bg.Add(1)
	go func() {
		defer s.bg.Done()
		fn()
	}()
	return true
}
