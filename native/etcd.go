package native

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// Files of an etcd data directory besides k3-storage's own (see dir.go)
// and etcd's member directory.
const etcdLog = "etcd.log" // the server's warnings and errors, from its last start

// EtcdConfig describes an etcd server to run inside this process: a
// single-member cluster listening on loopback only, configured as
// k3-storage's etcd container is.
type EtcdConfig struct {
	// DataDir holds the member's data, absolute; created (mode 0700) when
	// missing and kept after Stop.
	DataDir string
	// HostIP is the loopback address (127.0.0.1 or ::1) of both listeners;
	// ClientPort serves clients (http://HostIP:ClientPort) and PeerPort the
	// peer protocol, which a single member does not use but etcd listens
	// on anyway.
	HostIP               string
	ClientPort, PeerPort int
	// Name is the member's name and the initial cluster token; "" means
	// "k3-storage".
	Name string
	// MaxRequestBytes is etcd's --max-request-bytes, the largest request
	// the server accepts; required.
	MaxRequestBytes uint
	// StopTimeout bounds Stop's graceful shutdown (clients' open streams
	// are given that long).
	StopTimeout time.Duration
	// Launch starts the server (see EtcdLauncher); required.
	Launch EtcdLauncher
}

// EtcdServer is a running etcd server, as an EtcdLauncher returns it.
type EtcdServer interface {
	// Ready is closed once the server serves: its member is elected and
	// published.
	Ready() <-chan struct{}
	// Err delivers the server's serving failures.
	Err() <-chan error
	// Stopped is closed when the server has stopped, on its own or by Close.
	Stopped() <-chan struct{}
	// Close stops the server and returns when it has.
	Close()
}

// EtcdLaunch is what an EtcdLauncher starts: a single-member cluster named
// Name (also its initial cluster token) with its data in Dir, serving
// clients on Client and listening for peers on Peer, accepting requests up
// to MaxRequestBytes and logging to Logger.
type EtcdLaunch struct {
	Name            string
	Dir             string
	Client, Peer    url.URL
	MaxRequestBytes uint
	Logger          *zap.Logger
}

// EtcdLauncher starts an etcd server inside this process and returns
// without waiting for it to serve. Package native/etcdembed has the one
// k3-storage uses (go.etcd.io/etcd/server/v3/embed, the version of the
// client). It is passed in rather than linked here because Go initialises
// every linked package before main: the server's packages cost every
// launch of a program that links them about 5 ms and its binary 13 MB,
// whether or not it ever runs one.
type EtcdLauncher func(EtcdLaunch) (EtcdServer, error)

// ErrNoEtcdServer is NewEtcd's error when the config has no Launch: the
// program was built without an etcd server.
var ErrNoEtcdServer = errors.New(txtNoEmbeddedEtcd)

// Etcd is an etcd server embedded in this process. Create it with NewEtcd,
// Claim its data directory, Start it and Stop it; it cannot outlive this
// process (see the package documentation). Its methods are meant for one
// goroutine, except Exited and ExitError.
type Etcd struct {
	cfg EtcdConfig
	dir dataDir

	mu       sync.Mutex
	srv      EtcdServer
	logf     *os.File
	stopping chan struct{} // closed by Stop: exits after it are not news
	exited   chan struct{} // closed when the server stops on its own
	exitErr  error
	watchers sync.WaitGroup
}

// NewEtcd checks cfg and returns a server that has not claimed its data
// directory yet.
func NewEtcd(cfg EtcdConfig) (*Etcd, error) {
	switch {
	case !filepath.IsAbs(cfg.DataDir):
		return nil, fmt.Errorf(errDataDirRelative, cfg.DataDir)
	case cfg.ClientPort < 1 || cfg.ClientPort > 65535:
		return nil, fmt.Errorf(errPort, cfg.ClientPort)
	case cfg.PeerPort < 1 || cfg.PeerPort > 65535:
		return nil, fmt.Errorf(errPort, cfg.PeerPort)
	case cfg.MaxRequestBytes == 0:
		return nil, errors.New(txtNoMaxRequest)
	case cfg.Launch == nil:
		return nil, ErrNoEtcdServer
	}
	if cfg.HostIP == "" {
		cfg.HostIP = "127.0.0.1"
	}
	if cfg.Name == "" {
		cfg.Name = "k3-storage"
	}
	return &Etcd{cfg: cfg, dir: dataDir{path: filepath.Clean(cfg.DataDir)}}, nil
}

// ClientURL is where the server serves clients.
func (e *Etcd) ClientURL() string { return e.url(e.cfg.ClientPort).String() }

func (e *Etcd) url(port int) *url.URL {
	return &url.URL{Scheme: "http", Host: net.JoinHostPort(e.cfg.HostIP, strconv.Itoa(port))}
}

// DataDir is the server's directory.
func (e *Etcd) DataDir() string { return e.dir.path }

// Created reports whether this process created the data directory.
func (e *Etcd) Created() bool { return e.dir.created }

// Initialised reports whether the data directory holds a member's data
// from an earlier start.
func (e *Etcd) Initialised() bool {
	st, err := os.Stat(e.dir.file("member"))
	return err == nil && st.IsDir()
}

// Inspect looks at the data directory without taking anything: whether it
// exists and whether a live k3-storage process owns it (runs the server
// there, or is starting it).
func (e *Etcd) Inspect() (State, error) {
	ok, err := e.dir.exists()
	if err != nil || !ok {
		return State{}, err
	}
	busy, err := e.dir.busy()
	return State{Exists: true, Busy: busy}, err
}

// Claim takes the data directory: Claimed, or Busy when another live
// process holds it. (An embedded server leaves no orphan.)
func (e *Etcd) Claim() (Claim, error) {
	ok, err := e.dir.claim()
	switch {
	case err != nil:
		return 0, err
	case !ok:
		return Busy, nil
	}
	return Claimed, nil
}

// Release gives the data directory up without starting anything. A
// directory this process created, still without data, is removed.
func (e *Etcd) Release() {
	if e.dir.created && !e.Initialised() {
		e.dir.purge()
		return
	}
	e.dir.release()
}

// Start runs the server and returns once it serves (its member is elected
// and published), or with an error (quoting its log) when it fails first
// or ctx ends. Its warnings and errors go to etcd.log in the data
// directory.
func (e *Etcd) Start(ctx context.Context) error {
	logPath := e.dir.file(etcdLog)
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf(errWrite, logPath, err)
	}
	enc := zapcore.NewJSONEncoder(zap.NewProductionEncoderConfig())
	lg := zap.New(zapcore.NewCore(enc, zapcore.AddSync(logf), zapcore.WarnLevel))

	srv, err := e.cfg.Launch(EtcdLaunch{
		Name: e.cfg.Name, Dir: e.dir.path, Client: *e.url(e.cfg.ClientPort), Peer: *e.url(e.cfg.PeerPort),
		MaxRequestBytes: e.cfg.MaxRequestBytes, Logger: lg,
	})
	if err != nil {
		lg.Sync()
		logf.Close()
		return e.startError(err)
	}
	select {
	case <-srv.Ready():
	case err := <-srv.Err():
		srv.Close()
		lg.Sync()
		logf.Close()
		return e.startError(err)
	case <-ctx.Done():
		srv.Close()
		logf.Close()
		return ctx.Err()
	}
	e.mu.Lock()
	e.srv, e.logf = srv, logf
	e.stopping, e.exited = make(chan struct{}), make(chan struct{})
	stopping, exited := e.stopping, e.exited
	e.mu.Unlock()
	e.watchers.Add(1)
	go func() {
		defer e.watchers.Done()
		var err error
		select {
		case err = <-srv.Err():
		case <-srv.Stopped():
			err = errors.New(txtEtcdStopped)
		case <-stopping:
			return
		}
		e.mu.Lock()
		e.exitErr = err
		e.mu.Unlock()
		close(exited)
	}()
	return nil
}

// startError explains a failed start, naming the ports when one is taken.
func (e *Etcd) startError(err error) error {
	if errors.Is(err, syscall.EADDRINUSE) {
		return fmt.Errorf(errEtcdPorts, e.cfg.ClientPort, e.cfg.PeerPort, err)
	}
	return fmt.Errorf(errEtcdStart, err, tail(e.dir.file(etcdLog), 0, logLines))
}

// Exited is closed when the server stops on its own (not by Stop); nil
// before Start.
func (e *Etcd) Exited() <-chan struct{} {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.exited
}

// ExitError says why the server stopped on its own; call it once Exited
// is closed.
func (e *Etcd) ExitError() error {
	e.mu.Lock()
	err := e.exitErr
	e.mu.Unlock()
	return fmt.Errorf(errEtcdExited, err, tail(e.dir.file(etcdLog), 0, logLines))
}

// Stop shuts the server down, giving clients' open requests and streams
// up to StopTimeout, and gives the data directory up; the data stays.
// When the shutdown takes longer it returns an error while the shutdown
// goes on in the background (it ends with the process at the latest).
func (e *Etcd) Stop() error {
	e.mu.Lock()
	srv, logf, stopping := e.srv, e.logf, e.stopping
	e.srv, e.logf = nil, nil
	e.mu.Unlock()
	if srv == nil {
		e.dir.release()
		return nil
	}
	close(stopping)
	e.watchers.Wait()
	done := make(chan struct{})
	go func() {
		srv.Close()
		logf.Close()
		e.dir.release()
		close(done)
	}()
	t := time.NewTimer(max(e.cfg.StopTimeout, time.Second))
	defer t.Stop()
	select {
	case <-done:
		return nil
	case <-t.C:
		return fmt.Errorf(errEtcdStopTimeout, max(e.cfg.StopTimeout, time.Second))
	}
}

// Purge removes the data directory if this process created it, after
// Stop; it reports whether it did.
func (e *Etcd) Purge() (bool, error) { return e.dir.purge() }
