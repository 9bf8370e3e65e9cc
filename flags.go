package main

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"strings"

	"github.com/k3/k3-storage/internal/suggest"
)

// flags are the parsed command line.
type flags struct {
	config      string
	configSet   bool // --config was given, even as ""
	headless    bool
	output      string
	readonly    bool
	purgeVolume bool
	version     bool
}

// errHelp is returned by parseFlags for -h, -help and --help.
var errHelp = errors.New("help requested")

// flagSet declares the flags with their help texts, bound to f.
func flagSet(f *flags) *flag.FlagSet {
	fs := flag.NewFlagSet("k3-storage", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	fs.StringVar(&f.config, "config", "", hlpConfig)
	fs.BoolVar(&f.headless, "headless", false, hlpHeadless)
	fs.StringVar(&f.output, "output", "text", hlpOutput)
	fs.BoolVar(&f.readonly, "readonly", false, hlpReadonly)
	fs.BoolVar(&f.purgeVolume, "purge-volume", false, hlpPurgeVolume)
	fs.BoolVar(&f.version, "version", false, hlpVersion)
	return fs
}

// parseFlags parses the command line. Its errors are one Chinese sentence
// each, naming the flag and what is allowed, with a "did you mean" for a
// misspelt flag; -h gives errHelp.
func parseFlags(args []string) (flags, error) {
	var f flags
	fs := flagSet(&f)
	if err := parse(fs, args, &f.configSet); err != nil {
		return f, err
	}
	if fs.NArg() > 0 {
		if guess := suggest.Closest(fs.Arg(0), []string{"export", "import"}); guess != "" {
			return f, fmt.Errorf(errCommandGuess, fs.Arg(0), guess)
		}
		return f, fmt.Errorf(errArgument, fs.Arg(0))
	}
	if f.output != "text" && f.output != "json" {
		return f, fmt.Errorf(errOutput, f.output)
	}
	return f, nil
}

// parse parses args into fs, with checkArgs's one-sentence errors and
// errHelp for -h, and records in configSet whether --config was given
// (even as "").
func parse(fs *flag.FlagSet, args []string, configSet *bool) error {
	if err := checkArgs(fs, args); err != nil {
		return err
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return errHelp
		}
		// checkArgs has caught what the flag package rejects; this is a
		// safety net that still says what happened.
		return fmt.Errorf(errFlagOther, err)
	}
	fs.Visit(func(fl *flag.Flag) { *configSet = *configSet || fl.Name == "config" })
	return nil
}

// checkArgs finds what the flag package would reject — an unknown flag, a
// flag without its value, a bad true/false — and says so in one sentence.
func checkArgs(fs *flag.FlagSet, args []string) error {
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" || !strings.HasPrefix(a, "-") || a == "-" {
			return nil // the rest are arguments (rejected after parsing)
		}
		name, value, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if name == "h" || name == "help" {
			return nil
		}
		fl := fs.Lookup(name)
		if fl == nil {
			if guess := closestFlag(fs, name); guess != "" {
				return fmt.Errorf(errUnknownFlagGuess, "--"+name, dashed(guess))
			}
			return fmt.Errorf(errUnknownFlag, "--"+name)
		}
		if isBool(fl) {
			if hasValue && value != "true" && value != "false" {
				return fmt.Errorf(errFlagBool, dashed(name), value)
			}
			continue
		}
		if !hasValue {
			if i+1 >= len(args) {
				return fmt.Errorf(errFlagValue, dashed(name))
			}
			i++
		}
	}
	return nil
}

// dashed writes a flag as the help shows it: -o, --config.
func dashed(name string) string {
	if len(name) == 1 {
		return "-" + name
	}
	return "--" + name
}

func isBool(fl *flag.Flag) bool {
	b, ok := fl.Value.(interface{ IsBoolFlag() bool })
	return ok && b.IsBoolFlag()
}

// closestFlag returns the flag name nearest to name, if any is near.
func closestFlag(fs *flag.FlagSet, name string) string {
	var names []string
	fs.VisitAll(func(fl *flag.Flag) { names = append(names, fl.Name) })
	return suggest.Closest(name, names)
}

// wantsJSON reports whether the command line asks for JSON output, even
// when it cannot be parsed, so that a usage error can be reported as JSON.
func wantsJSON(args []string) bool {
	for i, a := range args {
		if a == "--" {
			return false
		}
		name, value, ok := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if name != "output" || !strings.HasPrefix(a, "-") {
			continue
		}
		if !ok && i+1 < len(args) {
			value = args[i+1]
		}
		return value == "json"
	}
	return false
}

// usage is the text of -h.
func usage() string {
	var f flags
	return usageText + flagHelp(flagSet(&f)) + exitCodesText
}

// flagHelp lists a flag set's flags with their help texts, one a line.
func flagHelp(fs *flag.FlagSet) string {
	var b strings.Builder
	fs.VisitAll(func(fl *flag.Flag) {
		arg, help := flag.UnquoteUsage(fl)
		dashes := "--"
		if len(fl.Name) == 1 {
			dashes = "-"
		}
		head := "  " + dashes + fl.Name
		if arg != "" {
			head += " " + arg
		}
		fmt.Fprintf(&b, "%-24s %s\n", head, help)
	})
	return b.String()
}

// version describes the build: the module version when installed with go
// install module@version, else the VCS revision the binary was built from
// (with its commit time, and "+dirty" for uncommitted changes), else —
// built with -buildvcs=false or outside a repository — a digest of the
// executable, so that two builds can still be told apart.
func version() string {
	v := ""
	if info, ok := debug.ReadBuildInfo(); ok {
		v = describeBuild(info)
	}
	if v == "" {
		v = txtVersionUnknown
		if sum, err := executableDigest(); err == nil {
			v = fmt.Sprintf(txtVersionDigest, sum)
		}
	}
	return fmt.Sprintf("k3-storage %s %s %s/%s", v, runtime.Version(), runtime.GOOS, runtime.GOARCH)
}

// executableDigest returns the first 12 hex digits of the running
// executable's SHA-256.
func executableDigest() (string, error) {
	path, err := os.Executable()
	if err != nil {
		return "", err
	}
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil))[:12], nil
}

// describeBuild returns the version of the build info, or "" when it
// records none.
func describeBuild(info *debug.BuildInfo) string {
	settings := map[string]string{}
	for _, s := range info.Settings {
		settings[s.Key] = s.Value
	}
	rev := settings["vcs.revision"]
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if rev != "" && settings["vcs.modified"] == "true" {
		rev += "+dirty"
	}
	if v := info.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	if rev == "" {
		return ""
	}
	if t := settings["vcs.time"]; t != "" {
		return fmt.Sprintf("devel %s (%s)", rev, t)
	}
	return "devel " + rev
}
