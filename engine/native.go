package engine

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/k3/k3-storage/backends"
	"github.com/k3/k3-storage/backends/etcd"
	"github.com/k3/k3-storage/backends/mysql"
	"github.com/k3/k3-storage/containers"
	"github.com/k3/k3-storage/engine/lifecycle"
	"github.com/k3/k3-storage/native"
)

// NativeMode says when the engine runs the database on this machine
// itself, without a container. The zero value is NativeAuto.
type NativeMode int

const (
	// NativeAuto runs a native server when no container can provide the
	// database: no container runtime, one on another machine, or an image
	// that cannot be pulled.
	NativeAuto NativeMode = iota
	// NativeAlways skips containers and runs a native server.
	NativeAlways
	// NativeNever provisions containers only; without a usable runtime the
	// engine connects to whatever may answer on the port (the original
	// behaviour: a user may have started the database by hand).
	NativeNever
)

// String returns "auto", "always" or "never", as in the config file.
func (m NativeMode) String() string {
	switch m {
	case NativeAuto:
		return "auto"
	case NativeAlways:
		return "always"
	case NativeNever:
		return "never"
	}
	return fmt.Sprintf("NativeMode(%d)", int(m))
}

// ParseNativeMode maps the config file's word to a NativeMode.
func ParseNativeMode(s string) (NativeMode, error) {
	for _, m := range []NativeMode{NativeAuto, NativeAlways, NativeNever} {
		if m.String() == s {
			return m, nil
		}
	}
	return 0, fmt.Errorf(errNativeMode, s)
}

// Native configures the database server the engine runs on this machine:
// the machine's own mariadbd or mysqld as a child process (MySQL), or an
// etcd server inside this process (etcd). It applies where a container
// would (a local host with Container.Auto set); see NativeMode for when.
type Native struct {
	Mode NativeMode
	// DataDir holds the server's data, kept after exit; "" means
	// <Options.DataHome>/<mysql|etcd>-<port>.
	DataDir string
	// Binary is the MySQL server program; "" means mariadbd, then
	// mysqld, from PATH or the usual sbin directories. Unused for etcd.
	Binary string
}

// DataHome returns the directory under which native servers keep their
// data by default, for Options.DataHome: $XDG_DATA_HOME/k3-storage, or
// ~/.local/share/k3-storage. It fails when neither XDG_DATA_HOME nor HOME
// is set.
func DataHome(getenv func(string) string) (string, error) { return native.DataHome(getenv) }

// nativeServer is what the engine needs from a native server; adapters
// around *native.MySQL and *native.Etcd implement it.
type nativeServer interface {
	// name says what runs, for messages: "本机 mariadbd
	// (/usr/sbin/mariadbd)", "内嵌 etcd".
	name() string
	// startingText and stoppingText describe start and stop for the user.
	startingText() string
	stoppingText() string
	dataDir() string
	// held is the Holding entry while this process owns the server.
	held() string
	inspect() (native.State, error)
	// claim: see native.Claim; stale is the pid of an orphan of another
	// configuration that was stopped on the way.
	claim() (c native.Claim, stale int, err error)
	release()
	// initialised: the data directory holds a database; init makes one,
	// returning the tool that did.
	initialised() bool
	init(ctx context.Context) (string, error)
	// start runs the server; it returns once it runs (MySQL) or serves
	// (etcd). exited is closed if it stops on its own; exitError says why.
	start(ctx context.Context) error
	exited() <-chan struct{}
	exitError() error
	// startedText describes a server that start just started.
	startedText() string
	// running: a server process this one started or adopted still runs
	// (so a failed start must stop it).
	running() bool
	// ready: the store answered with the config's credentials.
	ready() error
	// setUp: the database was set up from a config before this start.
	setUp() bool
	// runAs: the account a root k3-storage runs the server as, and why
	// not the unprivileged one ("" when that is used or not applicable).
	runAs() (name, why string)
	stop() (killed bool, err error)
	purge() (bool, error)
	created() bool
}

// provisionNative runs the backend's database on this machine after the
// container path was skipped for reason (why says how, for the user). A
// database that already answers on the port is used instead; another
// k3-storage's server of the same data directory is used as it is.
func (e *Engine) provisionNative(ctx context.Context, srv nativeServer, srvErr error, reason lifecycle.Reason, why string) (backends.Store, error) {
	spec, _, _ := e.backend.container()
	listening := listening(ctx, spec)
	if listening {
		if store, err := e.useExisting(ctx, 0); store != nil || err != nil {
			return store, err
		}
	}
	if srvErr != nil {
		if listening {
			return e.waitForListener()
		}
		return nil, e.unavailable(reason, why, srvErr)
	}
	c, stale, err := srv.claim()
	if err != nil {
		return nil, fmt.Errorf(errNative, srv.name(), err)
	}
	switch c {
	case native.Busy:
		return e.sharedNative(srv)
	case native.Adopted:
		return e.adoptedNative(srv)
	}
	if listening {
		srv.release()
		return e.waitForListener()
	}
	e.nativeSrv = srv
	e.path(lifecycle.PathNative, reason, fmt.Sprintf(detailUseNative, why, srv.name()))
	if stale > 0 {
		e.log(lifecycle.Info, fmt.Sprintf(detailStaleNative, stale))
	}
	if name, why := srv.runAs(); why != "" {
		e.log(lifecycle.Info, fmt.Sprintf(detailRunAs, name, why))
	}
	if !srv.initialised() {
		e.begin(lifecycle.StageNativeInit, "", fmt.Sprintf(detailNativeInit, srv.dataDir()))
		tool, err := srv.init(ctx)
		if err != nil {
			return nil, err
		}
		e.end(lifecycle.StageNativeInit, lifecycle.Done, "", fmt.Sprintf(detailNativeInitDone, srv.dataDir(), tool), nil)
	}
	e.begin(lifecycle.StageNativeStart, "", srv.startingText())
	if err := srv.start(ctx); err != nil {
		if srv.running() {
			e.holdNative(srv) // stopped in the cleanup
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, err
	}
	e.holdNative(srv)
	e.end(lifecycle.StageNativeStart, lifecycle.Done, "", srv.startedText(), nil)
	return nil, nil
}

// waitForListener connects to what accepts connections on the port but
// did not answer as the database yet, and is no server of ours: a
// database still starting, presumably. Ours could not listen there.
func (e *Engine) waitForListener() (backends.Store, error) {
	e.path(lifecycle.PathExisting, lifecycle.ReasonAnswering, fmt.Sprintf(detailPortBusy, e.backend.address()))
	e.local = true
	return nil, nil
}

// sharedNative uses the server that another live k3-storage process runs
// (or is starting) for the same data directory.
func (e *Engine) sharedNative(srv nativeServer) (backends.Store, error) {
	e.path(lifecycle.PathExisting, lifecycle.ReasonShared, fmt.Sprintf(detailSharedNative, srv.name(), srv.dataDir()))
	e.local = true
	return nil, nil
}

// adoptedNative takes over the server a killed k3-storage process left
// running: this process stops it on exit.
func (e *Engine) adoptedNative(srv nativeServer) (backends.Store, error) {
	e.nativeSrv = srv
	e.holdNative(srv)
	e.path(lifecycle.PathNative, lifecycle.ReasonAdopted, fmt.Sprintf(detailAdoptNative, srv.held()))
	return nil, nil
}

func (e *Engine) holdNative(srv nativeServer) {
	e.nativeHeld = srv.held()
	e.local = true
	e.hold(e.nativeHeld)
}

// nativeFirst looks, before any container, for a server of ours in the
// native data directory: one that a live k3-storage runs (used as it is)
// or one that a killed k3-storage left (adopted), as containers are found
// by name before anything else. handled is false when there is none.
func (e *Engine) nativeFirst(srv nativeServer) (handled bool, err error) {
	st, err := srv.inspect()
	if err != nil || !st.Exists {
		return false, nil // the native path, if taken, reports the problem
	}
	e.nativeData = true
	switch {
	case st.Busy:
		_, err := e.sharedNative(srv)
		return true, err
	case st.Orphan:
		c, stale, err := srv.claim()
		if err != nil {
			return false, nil
		}
		switch c {
		case native.Busy:
			_, err := e.sharedNative(srv)
			return true, err
		case native.Adopted:
			_, err := e.adoptedNative(srv)
			return true, err
		}
		// The orphan ended meanwhile, or ran another configuration and
		// was stopped: provide the database as if there had been none.
		if stale > 0 {
			e.log(lifecycle.Info, fmt.Sprintf(detailStaleNative, stale))
		}
		srv.release()
	}
	return false, nil
}

// path reports how the database is provided (StageProvision).
func (e *Engine) path(p lifecycle.Path, r lifecycle.Reason, detail string) {
	e.emit(lifecycle.Event{Kind: lifecycle.KindStage, Stage: lifecycle.StageProvision, Status: lifecycle.Done,
		Detail: detail, Path: p, Reason: r})
}

// nativeWatch returns a context that ends, with errNativeExited as its
// cause, when the native server this start launched stops on its own; the
// connect loop then stops at once instead of waiting out its budget.
func (e *Engine) nativeWatch(ctx context.Context) (context.Context, context.CancelFunc) {
	if e.nativeSrv == nil || e.nativeSrv.exited() == nil {
		return ctx, func() {}
	}
	ctx, cancel := context.WithCancelCause(ctx)
	exited := e.nativeSrv.exited()
	go func() {
		select {
		case <-exited:
			cancel(errNativeExited)
		case <-ctx.Done():
		}
	}()
	return ctx, func() { cancel(nil) }
}

// errNativeExited is the cause of nativeWatch's context ending.
var errNativeExited = errors.New("native server exited")

// errNoNative: the backend has no native server (memory).
var errNoNative = errors.New("no native server")

// connected finishes a start on a native server: the setup is recorded,
// and a refusal by a server whose data was set up before is explained.
func (e *Engine) connected(err error) error {
	srv := e.nativeSrv
	if srv == nil {
		return err
	}
	if err == nil {
		if rerr := srv.ready(); rerr != nil {
			e.log(lifecycle.Warn, rerr.Error())
		}
		return nil
	}
	if errors.Is(err, backends.ErrPermanent) && srv.setUp() {
		return fmt.Errorf(errNativeCredentials, err, srv.dataDir())
	}
	return err
}

// releaseNative stops the native server this process started or adopted,
// reporting the original-style log lines, and gives its data directory
// up. A data directory this start created is removed when the store never
// became ready (it holds at most a half-initialised database) or when
// purging was asked for; one that existed before is always kept.
func (e *Engine) releaseNative(neverReady bool) error {
	srv := e.nativeSrv
	if srv == nil {
		return nil
	}
	e.nativeSrv = nil
	if e.nativeHeld == "" { // claimed, but nothing runs
		if neverReady {
			if _, err := srv.purge(); err != nil {
				e.log(lifecycle.Warn, err.Error())
			}
		}
		srv.release()
		return nil
	}
	e.begin(lifecycle.StageStopNative, msgNativeStopping, srv.stoppingText())
	killed, err := srv.stop()
	if err != nil {
		err = fmt.Errorf(errNativeStop, srv.name(), err)
		e.end(lifecycle.StageStopNative, lifecycle.Failed, "", "", err)
		return err
	}
	e.release(e.nativeHeld)
	detail := fmt.Sprintf(detailNativeStopped, srv.name(), srv.dataDir())
	if killed {
		detail = fmt.Sprintf(detailNativeKilled, srv.name(), e.containerOpts.StopTimeout, srv.dataDir())
	}
	if e.containerOpts.PurgeVolume || neverReady {
		purged, perr := srv.purge()
		switch {
		case perr != nil:
			e.log(lifecycle.Warn, perr.Error())
		case purged:
			detail = fmt.Sprintf(detailNativePurged, srv.name(), srv.dataDir())
		case e.containerOpts.PurgeVolume:
			detail += fmt.Sprintf(detailNativeNotPurged, srv.dataDir())
		}
	}
	e.end(lifecycle.StageStopNative, lifecycle.Done, msgNativeStopped, detail, nil)
	return nil
}

// UnavailableError: the backend's address is on this machine, and no
// database could be provided there, by container or natively. Its text,
// Chinese like every message, lists what was tried and how to fix it, in
// the order a user would try.
type UnavailableError struct {
	Backend string   // "mysql" or "etcd"
	Address string   // as configured
	Tried   []string // one line per way tried, saying why it failed
	Fixes   []string // one line per fix, best first
}

func (e *UnavailableError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, errUnavailable, backendTitle(e.Backend), e.Address)
	for _, t := range e.Tried {
		b.WriteString("\n  - " + t)
	}
	b.WriteString("\n" + txtFixes)
	for i, f := range e.Fixes {
		fmt.Fprintf(&b, "\n  %d. %s", i+1, f)
	}
	return b.String()
}

func backendTitle(kind string) string {
	switch kind {
	case MySQL:
		return "MySQL"
	case Etcd:
		return "etcd"
	}
	return kind
}

// unavailable builds the error of a local backend for which neither a
// container (not used for reason, as why says) nor a native server
// (nativeErr; nil when native mode is never) could be had.
func (e *Engine) unavailable(reason lifecycle.Reason, why string, nativeErr error) error {
	u := &UnavailableError{Backend: e.backend.kind(), Address: e.backend.address()}
	u.Tried = append(u.Tried, fmt.Sprintf(triedContainer, why))
	if nativeErr != nil {
		u.Tried = append(u.Tried, fmt.Sprintf(triedNative, nativeErr))
	} else {
		u.Tried = append(u.Tried, triedNativeNever)
	}
	spec, _, _ := e.backend.container()
	prefix := "storage." + e.backend.kind()
	switch {
	case reason == lifecycle.ReasonConfigured:
		u.Fixes = append(u.Fixes, fmt.Sprintf(fixContainersMode, prefix))
	case !e.runtimeFound:
		u.Fixes = append(u.Fixes, fixStartDocker, fmt.Sprintf(fixImage, spec.Image))
	default:
		u.Fixes = append(u.Fixes, fmt.Sprintf(fixImage, spec.Image))
	}
	switch {
	case nativeErr == nil && e.backend.kind() == Etcd:
		u.Fixes = append(u.Fixes, fmt.Sprintf(fixNativeModeEtcd, prefix))
	case nativeErr == nil:
		u.Fixes = append(u.Fixes, fmt.Sprintf(fixNativeModeMySQL, prefix))
	case errors.Is(nativeErr, native.ErrNotFound):
		u.Fixes = append(u.Fixes, fmt.Sprintf(fixInstallMySQL, prefix))
	case errors.Is(nativeErr, native.ErrNoEtcdServer):
		u.Fixes = append(u.Fixes, fixEtcdServer)
	case e.backend.kind() == MySQL:
		u.Fixes = append(u.Fixes, fmt.Sprintf(fixNativeMySQL, prefix))
	default:
		u.Fixes = append(u.Fixes, fmt.Sprintf(fixNativeEtcd, prefix))
	}
	if e.backend.kind() == Etcd {
		u.Fixes = append(u.Fixes, fmt.Sprintf(fixConnectOnlyEtcd, prefix, hostFields(Etcd)))
	} else {
		u.Fixes = append(u.Fixes, fmt.Sprintf(fixConnectOnly, prefix, hostFields(MySQL)))
	}
	return u
}

func hostFields(kind string) string {
	if kind == Etcd {
		return "storage.etcd.endpoints"
	}
	return "storage.mysql.host/port"
}

// nativeDataDir is dir, or the default under home for a backend on port.
func nativeDataDir(dir, home, kind string, port int) (string, error) {
	if dir != "" {
		return filepath.Clean(dir), nil
	}
	if home == "" {
		return "", errors.New(txtNoDataHome)
	}
	return native.DataDir(home, kind, port), nil
}

// mysqlNative adapts *native.MySQL. Its start waits, up to the connect
// budget, until the server greets clients (native.MySQL.WaitReady): that
// notices it the moment it is ready, without connect attempts.
type mysqlNative struct {
	*native.MySQL
	budget time.Duration
}

func newMySQLNative(o mysql.Options, c Container, n Native, password, hostIP, home string, budget time.Duration) (nativeServer, error) {
	dir, err := nativeDataDir(n.DataDir, home, MySQL, o.Port)
	if err != nil {
		return nil, err
	}
	bin, err := native.FindMySQL(n.Binary, os.Getenv("PATH"))
	if err != nil {
		return nil, err
	}
	m, err := native.NewMySQL(native.MySQLConfig{
		Binary: bin, DataDir: dir, HostIP: hostIP, Port: o.Port,
		User: o.User, Password: password, Database: o.Database,
		StopTimeout: c.StopTimeout, Path: os.Getenv("PATH"),
	})
	if err != nil {
		return nil, err
	}
	return mysqlNative{m, budget}, nil
}

func (m mysqlNative) name() string {
	return fmt.Sprintf(txtNativeMySQL, filepath.Base(m.Binary()), m.Binary())
}
func (m mysqlNative) startingText() string {
	return fmt.Sprintf(detailMySQLStarting, m.name(), m.Address(), m.DataDir())
}
func (m mysqlNative) stoppingText() string {
	return fmt.Sprintf(detailMySQLStopping, filepath.Base(m.Binary()), m.PID())
}
func (m mysqlNative) dataDir() string { return m.DataDir() }
func (m mysqlNative) held() string {
	return fmt.Sprintf(heldNativeMySQL, filepath.Base(m.Binary()), m.PID(), m.DataDir())
}
func (m mysqlNative) inspect() (native.State, error)           { return m.Inspect() }
func (m mysqlNative) claim() (native.Claim, int, error)        { return m.Claim() }
func (m mysqlNative) release()                                 { m.Release() }
func (m mysqlNative) initialised() bool                        { return m.Initialised() }
func (m mysqlNative) init(ctx context.Context) (string, error) { return m.Init(ctx) }
func (m mysqlNative) start(ctx context.Context) error {
	if err := m.Start(ctx); err != nil {
		return err
	}
	return m.WaitReady(ctx, max(m.budget, time.Second))
}
func (m mysqlNative) exited() <-chan struct{} { return m.Exited() }
func (m mysqlNative) exitError() error        { return m.ExitError() }
func (m mysqlNative) ready() error            { return m.Ready() }
func (m mysqlNative) setUp() bool             { return m.SetUp() }
func (m mysqlNative) runAs() (string, string) { return m.RunAs() }
func (m mysqlNative) stop() (bool, error)     { return m.Stop() }
func (m mysqlNative) purge() (bool, error)    { return m.Purge() }
func (m mysqlNative) created() bool           { return m.Created() }
func (m mysqlNative) running() bool           { return m.PID() != 0 }
func (m mysqlNative) startedText() string {
	return fmt.Sprintf(detailMySQLStarted, filepath.Base(m.Binary()), m.PID(), m.Address())
}

// etcdNative adapts *native.Etcd.
type etcdNative struct{ *native.Etcd }

func newEtcdNative(c Container, n Native, launch native.EtcdLauncher, hostIP string, port int, home string) (nativeServer, error) {
	if launch == nil {
		return nil, native.ErrNoEtcdServer
	}
	dir, err := nativeDataDir(n.DataDir, home, Etcd, port)
	if err != nil {
		return nil, err
	}
	s, err := native.NewEtcd(native.EtcdConfig{
		DataDir: dir, HostIP: hostIP, ClientPort: port, PeerPort: containers.EtcdPeerPort(port),
		MaxRequestBytes: uint(etcd.ServerMaxRequestBytes), StopTimeout: c.StopTimeout, Launch: launch,
	})
	if err != nil {
		return nil, err
	}
	return etcdNative{s}, nil
}

func (s etcdNative) startingText() string {
	return fmt.Sprintf(detailEtcdStarting, s.ClientURL(), s.DataDir())
}
func (s etcdNative) stoppingText() string                 { return detailEtcdStopping }
func (s etcdNative) name() string                         { return txtEmbeddedEtcd }
func (s etcdNative) dataDir() string                      { return s.DataDir() }
func (s etcdNative) held() string                         { return fmt.Sprintf(heldNativeEtcd, s.ClientURL(), s.DataDir()) }
func (s etcdNative) inspect() (native.State, error)       { return s.Inspect() }
func (s etcdNative) claim() (native.Claim, int, error)    { c, err := s.Claim(); return c, 0, err }
func (s etcdNative) release()                             { s.Release() }
func (s etcdNative) initialised() bool                    { return true } // etcd initialises its data itself
func (s etcdNative) init(context.Context) (string, error) { return "", nil }
func (s etcdNative) start(ctx context.Context) error      { return s.Start(ctx) }
func (s etcdNative) exited() <-chan struct{}              { return s.Exited() }
func (s etcdNative) exitError() error                     { return s.ExitError() }
func (s etcdNative) ready() error                         { return nil }
func (s etcdNative) setUp() bool                          { return false }
func (s etcdNative) runAs() (string, string)              { return "", "" }
func (s etcdNative) stop() (bool, error)                  { return false, s.Stop() }
func (s etcdNative) purge() (bool, error)                 { return s.Purge() }
func (s etcdNative) created() bool                        { return s.Created() }
func (s etcdNative) running() bool                        { return s.Exited() != nil }
func (s etcdNative) startedText() string                  { return fmt.Sprintf(detailEtcdStarted, s.ClientURL()) }
