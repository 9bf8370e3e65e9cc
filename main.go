// Command k3-storage starts and holds the storage backend of k3 (memory,
// MySQL or etcd), provisioning a local database container when the config
// points at localhost. By default it shows a console; --headless prints the
// original service's log lines for scripts.
//
// Exit codes: 0 clean stop, 1 startup or runtime failure, 2 usage or config
// error.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/term"

	"github.com/k3/k3-storage/backends/etcd"
	"github.com/k3/k3-storage/backends/mysql"
	"github.com/k3/k3-storage/configs"
	"github.com/k3/k3-storage/containers"
	"github.com/k3/k3-storage/engine"
	"github.com/k3/k3-storage/engine/lifecycle"
	"github.com/k3/k3-storage/internal/initgc"
	"github.com/k3/k3-storage/tui"
)

// Exit codes.
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
)

// shutdownGrace bounds a clean shutdown, on top of the container's stop
// timeout, before the program gives up on it.
const shutdownGrace = 60 * time.Second

var _ tui.Engine = (*engine.Engine)(nil)

func main() {
	initgc.Done() // the collector was kept out of package init (internal/initgc)
	// Signals are caught first thing, so that one arriving during start-up
	// is a stop request rather than the runtime's default exit.
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGQUIT)
	stop, force := requests(context.Background(), sigs, time.Now)
	os.Exit(run(stop, force, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr))
}

// run is the whole program: ctx ends on a stop request, force closes on a
// later request while cleanup runs (see requests). It returns the exit
// code; it never exits the process itself.
func run(ctx context.Context, force <-chan struct{}, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) int {
	if export, ok := isTransfer(args); ok {
		return runTransfer(ctx, force, export, args[1:], getenv, stdin, stdout, stderr)
	}
	f, err := parseFlags(args)
	if errors.Is(err, errHelp) {
		fmt.Fprint(stdout, usage())
		return exitOK
	}
	out := reporter{json: f.output == "json" || wantsJSON(args), w: stdout, errw: stderr}
	if err != nil {
		return out.fail(lifecycle.StageConfig, msgUsageError+err.Error(), exitUsage)
	}
	if f.version {
		fmt.Fprintln(stdout, version())
		return exitOK
	}

	src, err := configs.Find(f.config, f.configSet, getenv)
	if err != nil {
		return out.fail(lifecycle.StageConfig, msgConfigError+err.Error(), exitUsage)
	}
	cfg, warnings, err := configs.LoadSource(src)
	if err != nil {
		return out.fail(lifecycle.StageConfig, msgConfigError+indent(err.Error()), exitUsage)
	}
	opts, err := engineOptions(cfg, src, f, getenv)
	if err != nil {
		return out.fail(lifecycle.StageConfig, msgConfigError+err.Error(), exitUsage)
	}
	opts.ConfigWarnings = warnings
	eng, err := engine.New(opts)
	if err != nil {
		return out.fail(lifecycle.StageConfig, msgConfigError+err.Error(), exitUsage)
	}

	grace := shutdownGrace + stopTimeout(cfg)
	if !f.headless && f.output == "text" {
		if isTerminal(stdout) {
			return tui.Run(ctx, force, eng, tui.Options{ConfigFile: src.String(), ReadOnly: f.readonly, ShutdownTimeout: grace})
		}
		fmt.Fprintln(stderr, msgNotTerminal)
	}
	return headless(ctx, force, eng, f.output, grace, stdout, stderr)
}

// reporter reports an error that ends the program before the engine runs:
// a line on stderr, or with --output json an event like the engine's own
// (the failed stage, then the final event), on stdout.
type reporter struct {
	json    bool
	w, errw io.Writer
}

func (r reporter) fail(stage lifecycle.Stage, msg string, code int) int {
	if !r.json {
		fmt.Fprintln(r.errw, msg)
		return code
	}
	err := errors.New(msg)
	p := engine.JSONPrinter{Out: r.w}
	now := time.Now()
	p.Print(lifecycle.Event{Time: now, Kind: lifecycle.KindStage, Stage: stage, Status: lifecycle.Failed, Err: err})
	p.Print(lifecycle.Event{Time: now, Kind: lifecycle.KindStage, Stage: lifecycle.StageStopped, Status: lifecycle.Failed, Err: err})
	return code
}

// headless runs the engine without the console: it prints events, waits
// for a stop request once ready (or stops a startup in progress), then
// shuts down. A force request while that cleanup runs exits at once,
// naming what was left; once the cleanup has finished, its outcome stands.
func headless(ctx context.Context, force <-chan struct{}, eng *engine.Engine, output string, grace time.Duration, stdout, stderr io.Writer) int {
	stderr = &syncWriter{w: stderr}
	printed := make(chan struct{})
	go func() {
		defer close(printed)
		text := &engine.LogPrinter{Out: stdout, Err: stderr}
		js := engine.JSONPrinter{Out: stdout}
		for ev := range eng.Events() {
			if output == "json" {
				js.Print(ev)
			} else {
				text.Print(ev)
			}
		}
	}()
	// forced leaves during a cleanup: with a warning and code 1 when the
	// engine still holds something, quietly when nothing is left to clean.
	forced := func() int {
		held := eng.Holding()
		if len(held) == 0 {
			return exitOK
		}
		fmt.Fprintln(stderr, msgForceExit)
		fmt.Fprintln(stderr, msgLeftBehind+strings.Join(held, "、"))
		return exitFailure
	}

	started := make(chan error, 1)
	go func() {
		_, err := eng.Start(ctx)
		started <- err
	}()
	select {
	case err := <-started:
		if err != nil {
			<-printed // the final event, with any error, is printed
			if errors.Is(err, lifecycle.ErrStopped) {
				return exitOK
			}
			return exitFailure
		}
	case <-force:
		// Only after a stop request, while Start cleans up what it began.
		select {
		case err := <-started:
			<-printed
			if err != nil && !errors.Is(err, lifecycle.ErrStopped) {
				return exitFailure
			}
			return exitOK
		default:
			return forced()
		}
	}

	<-ctx.Done()
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), grace)
	defer cancel()
	stopped := make(chan error, 1)
	go func() { stopped <- eng.Shutdown(sctx) }()
	var err error
	select {
	case err = <-stopped:
	case <-force:
		select {
		case err = <-stopped: // the cleanup finished first: its outcome stands
		default:
			return forced()
		}
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		<-printed // the final event, with any error, is printed
	}
	if err != nil {
		return exitFailure
	}
	return exitOK
}

// syncWriter serialises writes from the event printer and the goroutine
// that runs the command, so that their lines never interleave.
type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

// stopTimeout is the grace period the active backend's container gets.
func stopTimeout(cfg configs.Config) time.Duration {
	switch cfg.Storage.Type {
	case configs.TypeMySQL:
		return time.Duration(cfg.Storage.MySQL.Container.StopTimeout)
	case configs.TypeEtcd:
		return time.Duration(cfg.Storage.Etcd.Container.StopTimeout)
	}
	return 0
}

// engineOptions copies the config into the engine's options, once; the
// defaults are the config's (configs.Default).
func engineOptions(cfg configs.Config, src configs.Source, f flags, getenv func(string) string) (engine.Options, error) {
	s := cfg.Storage
	opts := engine.Options{Backend: s.Type, ConfigFile: src.String(), ContainerEnv: containers.EnvFromOS()}
	// Where native servers keep their data by default; without HOME and
	// XDG_DATA_HOME there is none, and a native server needs its data_dir.
	opts.DataHome, _ = engine.DataHome(getenv)
	opts.Health.Interval = time.Duration(s.HealthInterval)
	opts.Memory.History = s.Memory.History
	m := s.MySQL
	opts.MySQL = engine.MySQLOptions{
		Options: mysql.Options{
			Host: m.Host, Port: m.Port, User: m.User, Password: m.Password, Database: m.Database,
			MaxOpenConns: m.MaxOpenConns, MaxIdleConns: m.MaxIdleConns, PollInterval: time.Duration(m.PollInterval),
			TLS: mysql.TLS{
				Mode: mysql.TLSMode(m.TLS.Mode), CAFile: m.TLS.CAFile, CertFile: m.TLS.CertFile, KeyFile: m.TLS.KeyFile,
				ServerName: m.TLS.ServerName,
			},
		},
		ConnectBudget: time.Duration(m.ConnectTimeout),
		Container:     containerOptions(m.Container, f),
	}
	mode, err := engine.ParseNativeMode(m.Native.Mode)
	if err != nil {
		return engine.Options{}, err
	}
	opts.MySQL.Native = engine.Native{Mode: mode, DataDir: m.Native.DataDir, Binary: m.Native.Binary}
	e := s.Etcd
	opts.Etcd = engine.EtcdOptions{
		Options: etcd.Options{
			Endpoints: e.Endpoints, DialTimeout: time.Duration(e.DialTimeout),
			Username: e.Username, Password: e.Password,
			CAFile: e.TLS.CAFile, CertFile: e.TLS.CertFile, KeyFile: e.TLS.KeyFile,
			ServerName: e.TLS.ServerName, InsecureSkipVerify: e.TLS.InsecureSkipVerify,
		},
		ConnectBudget: time.Duration(e.ConnectTimeout),
		Container:     containerOptions(e.Container, f),
		Server:        etcdServer(),
	}
	if mode, err = engine.ParseNativeMode(e.Native.Mode); err != nil {
		return engine.Options{}, err
	}
	opts.Etcd.Native = engine.Native{Mode: mode, DataDir: e.Native.DataDir}
	return opts, nil
}

func containerOptions(c configs.Container, f flags) engine.Container {
	return engine.Container{
		Auto: c.Auto, Image: c.Image, Name: c.Name, Volume: c.Volume,
		PurgeVolume: c.PurgeVolume || f.purgeVolume, StopTimeout: time.Duration(c.StopTimeout),
	}
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// indent puts every line after the first of a multi-line error on its own
// indented line, under the prefix.
func indent(s string) string {
	out := []byte{}
	for i := 0; i < len(s); i++ {
		out = append(out, s[i])
		if s[i] == '\n' {
			out = append(out, "  "...)
		}
	}
	return string(out)
}
