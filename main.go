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
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"syscall"
	"time"

	"golang.org/x/term"

	"github.com/k3/k3-storage/configs"
	"github.com/k3/k3-storage/containers"
	"github.com/k3/k3-storage/engine"
	"github.com/k3/k3-storage/engine/lifecycle"
	"github.com/k3/k3-storage/tui"
)

// Exit codes.
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
)

// User-facing text of the command (the original service's language).
const (
	usageText = `k3-storage — k3 的存储服务：启动并持有存储后端 (memory / mysql / etcd)，
配置指向 localhost 时自动拉起 MySQL/etcd 容器。

用法:
  k3-storage [--config PATH] [--headless [--output text|json]] [--readonly] [--purge-volume]

配置文件查找顺序: --config PATH, $CONFIG_PATH, ./.config.yaml, ./configs/config-example.yaml, 内置示例。

选项:
`
	exitCodesText = `
退出码: 0 正常停止, 1 启动或运行失败, 2 用法或配置错误。
`
	msgNotTerminal = "标准输出不是终端，以 --headless 模式运行"
	msgForceExit   = "再次收到信号，强制退出：清理未完成"
	msgConfigError = "配置错误: "
	msgUsageError  = "用法错误: "
	// shutdownGrace bounds a clean shutdown, on top of the container's stop
	// timeout, before main gives up on it.
	shutdownGrace = 60 * time.Second
)

func main() {
	os.Exit(run(os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}

// flags are the parsed command line.
type flags struct {
	config      string
	headless    bool
	output      string
	readonly    bool
	purgeVolume bool
	version     bool
}

func parseFlags(args []string, stderr io.Writer) (flags, error) {
	var f flags
	fs := flag.NewFlagSet("k3-storage", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&f.config, "config", "", "配置文件路径 (`PATH`)")
	fs.BoolVar(&f.headless, "headless", false, "不启动控制台，按原服务格式输出日志 (供脚本使用)")
	fs.StringVar(&f.output, "output", "text", "headless 输出格式: text (原服务日志行) 或 json (每行一个事件)")
	fs.BoolVar(&f.readonly, "readonly", false, "控制台只读：禁用新建、编辑和删除")
	fs.BoolVar(&f.purgeVolume, "purge-volume", false, "退出删除本进程拉起的容器时，连同数据卷一起删除（数据将丢失）")
	fs.BoolVar(&f.version, "version", false, "显示版本并退出")
	fs.Usage = func() {
		fmt.Fprint(stderr, usageText)
		fs.PrintDefaults()
		fmt.Fprint(stderr, exitCodesText)
	}
	if err := fs.Parse(args); err != nil {
		return f, err
	}
	if fs.NArg() > 0 {
		return f, fmt.Errorf("unexpected argument %q (k3-storage takes only flags; see -h)", fs.Arg(0))
	}
	if f.output != "text" && f.output != "json" {
		return f, fmt.Errorf("--output %q: want text or json", f.output)
	}
	return f, nil
}

func run(args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	f, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	if err != nil {
		fmt.Fprintln(stderr, msgUsageError+err.Error())
		return exitUsage
	}
	if f.version {
		fmt.Fprintln(stdout, version())
		return exitOK
	}

	src, err := configs.Find(f.config, getenv)
	if err != nil {
		fmt.Fprintln(stderr, msgConfigError+err.Error())
		return exitUsage
	}
	cfg, err := configs.LoadSource(src)
	if err != nil {
		fmt.Fprintln(stderr, msgConfigError+indent(err.Error()))
		return exitUsage
	}
	eng, err := engine.New(engineOptions(cfg, src, f))
	if err != nil {
		fmt.Fprintln(stderr, msgConfigError+err.Error())
		return exitUsage
	}

	grace := shutdownGrace + stopTimeout(cfg)
	if !f.headless && f.output == "text" {
		if isTerminal(stdout) {
			ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM, syscall.SIGQUIT)
			defer stop()
			return tui.Run(ctx, eng, tui.Options{ConfigFile: src.String(), ReadOnly: f.readonly, ShutdownTimeout: grace})
		}
		fmt.Fprintln(stderr, msgNotTerminal)
	}
	return headless(eng, f.output, grace, stdout, stderr)
}

// headless runs the engine without the console: it prints events, waits
// for a signal once ready (or stops a startup in progress), then shuts
// down. A second signal at any point after the first exits at once.
func headless(eng *engine.Engine, output string, grace time.Duration, stdout, stderr io.Writer) int {
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGQUIT)
	ctx, stopRequested := context.WithCancel(context.Background())
	defer stopRequested()
	go func() {
		<-sigs
		stopRequested()
		<-sigs
		fmt.Fprintln(stderr, msgForceExit)
		os.Exit(exitFailure)
	}()

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

	if _, err := eng.Start(ctx); err != nil {
		<-printed
		if errors.Is(err, lifecycle.ErrStopped) {
			return exitOK
		}
		return exitFailure
	}
	<-ctx.Done()
	sctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	err := eng.Shutdown(sctx)
	if !errors.Is(err, context.DeadlineExceeded) {
		<-printed // the final event, with any error, is printed
	}
	if err != nil {
		return exitFailure
	}
	return exitOK
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

func engineOptions(cfg configs.Config, src configs.Source, f flags) engine.Options {
	s := cfg.Storage
	opts := engine.Options{Backend: s.Type, ConfigFile: src.String(), ContainerEnv: containers.EnvFromOS()}
	opts.Memory.History = s.Memory.History
	m := s.MySQL
	opts.MySQL = engine.MySQLOptions{
		Host: m.Host, Port: m.Port, User: m.User, Password: m.Password, Database: m.Database,
		MaxOpenConns: m.MaxOpenConns, MaxIdleConns: m.MaxIdleConns,
		PollInterval: time.Duration(m.PollInterval), ConnectTimeout: time.Duration(m.ConnectTimeout),
		Container: containerOptions(m.Container, f),
	}
	e := s.Etcd
	opts.Etcd = engine.EtcdOptions{
		Endpoints: e.Endpoints, DialTimeout: time.Duration(e.DialTimeout),
		Username: e.Username, Password: e.Password,
		CAFile: e.TLS.CAFile, CertFile: e.TLS.CertFile, KeyFile: e.TLS.KeyFile,
		ServerName: e.TLS.ServerName, InsecureSkipVerify: e.TLS.InsecureSkipVerify,
		ConnectTimeout: time.Duration(e.ConnectTimeout),
		Container:      containerOptions(e.Container, f),
	}
	return opts
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

func version() string {
	v, rev := "(devel)", ""
	if info, ok := debug.ReadBuildInfo(); ok {
		if info.Main.Version != "" {
			v = info.Main.Version
		}
		for _, s := range info.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				rev = " " + s.Value[:12]
			}
		}
	}
	return fmt.Sprintf("k3-storage %s%s %s %s/%s", v, rev, runtime.Version(), runtime.GOOS, runtime.GOARCH)
}
