package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/k3/k3-storage/backends"
	"github.com/k3/k3-storage/configs"
	"github.com/k3/k3-storage/dump"
	"github.com/k3/k3-storage/engine"
)

// transferFlags are the command line of export and import.
type transferFlags struct {
	config      string
	configSet   bool
	prefix      string // export
	out         string // export: -o
	noRevisions bool   // export
	overwrite   bool   // import
	file        string // import: the one argument
}

// transferFlagSet declares the flags of the export (export true) or import
// command.
func transferFlagSet(f *transferFlags, export bool) *flag.FlagSet {
	name := "k3-storage import"
	if export {
		name = "k3-storage export"
	}
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	fs.StringVar(&f.config, "config", "", hlpConfig)
	if export {
		fs.StringVar(&f.prefix, "prefix", "", hlpPrefix)
		fs.StringVar(&f.out, "o", "-", hlpExportOut)
		fs.BoolVar(&f.noRevisions, "no-revisions", false, hlpNoRevisions)
	} else {
		fs.BoolVar(&f.overwrite, "overwrite", false, hlpOverwrite)
	}
	return fs
}

// parseTransfer parses the arguments after "export" or "import".
func parseTransfer(args []string, export bool) (transferFlags, error) {
	var f transferFlags
	fs := transferFlagSet(&f, export)
	if err := parse(fs, args, &f.configSet); err != nil {
		return f, err
	}
	rest := fs.Args()
	// Flags may follow the file: import FILE --overwrite.
	if !export && len(rest) > 0 {
		f.file = rest[0]
		if err := parse(fs, rest[1:], &f.configSet); err != nil {
			return f, err
		}
		rest = fs.Args()
	} else if !export {
		return f, errors.New(errImportNoFile)
	}
	if len(rest) > 0 {
		return f, fmt.Errorf(errTransferArgument, rest[0])
	}
	if export && f.out == "" {
		return f, errors.New(errExportNoOut)
	}
	return f, nil
}

// transferUsage is the text of export -h or import -h.
func transferUsage(export bool) string {
	var f transferFlags
	text := importUsageText
	if export {
		text = exportUsageText
	}
	return text + flagHelp(transferFlagSet(&f, export))
}

// runTransfer runs "k3-storage export" or "k3-storage import": it brings
// the configured backend up as the service would (a local database is
// used, or provisioned and removed again afterwards), copies the keys, and
// shuts down. The engine's progress goes to stderr; an export to "-" is the
// only thing on stdout. Exit codes: 0 all done, 1 some keys not imported or
// a store error, 2 usage, config or a malformed file.
func runTransfer(ctx context.Context, force <-chan struct{}, export bool, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) int {
	stderr = &syncWriter{w: stderr}
	f, err := parseTransfer(args, export)
	if errors.Is(err, errHelp) {
		fmt.Fprint(stdout, transferUsage(export))
		return exitOK
	}
	if err != nil {
		fmt.Fprintln(stderr, msgUsageError+err.Error())
		return exitUsage
	}
	src, err := configs.Find(f.config, f.configSet, getenv)
	if err != nil {
		fmt.Fprintln(stderr, msgConfigError+err.Error())
		return exitUsage
	}
	cfg, warnings, err := configs.LoadSource(src)
	if err != nil {
		fmt.Fprintln(stderr, msgConfigError+indent(err.Error()))
		return exitUsage
	}
	opts, err := engineOptions(cfg, src, flags{}, getenv)
	if err != nil {
		fmt.Fprintln(stderr, msgConfigError+err.Error())
		return exitUsage
	}
	opts.ConfigWarnings = warnings
	opts.ConfigFile = ""
	eng, err := engine.New(opts)
	if err != nil {
		fmt.Fprintln(stderr, msgConfigError+err.Error())
		return exitUsage
	}
	if cfg.Storage.Type == configs.TypeMemory {
		fmt.Fprintln(stderr, msgTransferMemory)
	}

	// Progress of the start (pulls, attempts, warnings, errors) on stderr;
	// the service's own log lines are not this command's.
	printed := make(chan struct{})
	go func() {
		defer close(printed)
		p := &engine.LogPrinter{Out: io.Discard, Err: stderr}
		for ev := range eng.Events() {
			p.Print(ev)
		}
	}()
	grace := shutdownGrace + stopTimeout(cfg)
	shutdown := func() int {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), grace)
		defer cancel()
		stopped := make(chan error, 1)
		go func() { stopped <- eng.Shutdown(sctx) }()
		select {
		case err := <-stopped:
			if !errors.Is(err, context.DeadlineExceeded) {
				<-printed
			}
			if err != nil {
				return exitFailure
			}
			return exitOK
		case <-force:
			fmt.Fprintln(stderr, msgForceExit)
			return exitFailure
		}
	}

	store, err := eng.Start(ctx)
	if err != nil {
		<-printed
		return exitFailure
	}
	code := transfer(ctx, store, export, f, stdin, stdout, stderr)
	return max(code, shutdown())
}

// transfer copies the keys once the store is up, printing progress on
// stderr from the first second on, and returns the exit code.
func transfer(ctx context.Context, store backends.Store, export bool, f transferFlags, stdin io.Reader, stdout, stderr io.Writer) int {
	started := time.Now()
	var last time.Time
	progress := func(line string, done bool) {
		now := time.Now()
		if now.Sub(started) < time.Second || (!done && now.Sub(last) < time.Second) {
			return
		}
		last = now
		fmt.Fprintln(stderr, line)
	}
	if export {
		opts := dump.ExportOptions{Prefix: f.prefix, OmitRevisions: f.noRevisions,
			Progress: func(p dump.ExportProgress) { progress(p.String(), p.Done) }}
		var stats dump.ExportStats
		var err error
		if f.out == "-" {
			stats, err = dump.Export(ctx, store, stdout, opts)
		} else {
			stats, err = dump.ExportFile(ctx, store, f.out, opts)
		}
		if err != nil {
			fmt.Fprintln(stderr, msgErrorPrefix+err.Error())
			return dump.ExitCode(err)
		}
		fmt.Fprintln(stderr, stats.String())
		return exitOK
	}
	opts := dump.ImportOptions{Overwrite: f.overwrite,
		Progress: func(p dump.ImportProgress) { progress(p.String(), p.Done) }}
	var stats dump.ImportStats
	var err error
	if f.file == "-" {
		stats, err = dump.Import(ctx, store, stdin, opts)
	} else {
		stats, err = dump.ImportFile(ctx, store, f.file, opts)
	}
	for _, r := range stats.Reports {
		fmt.Fprintln(stderr, r.String())
	}
	if more := stats.Skipped + stats.Failed - int64(len(stats.Reports)); more > 0 {
		fmt.Fprintf(stderr, msgMoreReports+"\n", more)
	}
	if err != nil && !errors.Is(err, dump.ErrNotAllImported) {
		fmt.Fprintln(stderr, msgErrorPrefix+err.Error())
	}
	if stats.Entries > 0 || err == nil || errors.Is(err, dump.ErrNotAllImported) {
		fmt.Fprintln(stderr, stats.String())
	}
	return dump.ExitCode(err)
}

// isTransfer reports whether the command line names the export or import
// command, and which.
func isTransfer(args []string) (export, ok bool) {
	if len(args) == 0 {
		return false, false
	}
	switch args[0] {
	case "export":
		return true, true
	case "import":
		return false, true
	}
	return false, false
}
