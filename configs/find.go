package configs

import (
	_ "embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// ExamplePath is the last place Find looks, relative to the working
// directory. When that file is absent too, the copy built into the binary
// is used, so an installed k3-storage runs anywhere on the memory backend.
const ExamplePath = "configs/config-example.yaml"

//go:embed config-example.yaml
var example []byte

// Example returns the built-in copy of config-example.yaml.
func Example() []byte { return append([]byte(nil), example...) }

// Source says which config file is used and why.
type Source struct {
	// Path is the file's path as given or found; for the built-in example
	// it is ExamplePath.
	Path string
	// Origin is how it was chosen: "--config", "CONFIG_PATH", ".config.yaml",
	// "example" or "built-in".
	Origin string
}

// String describes the source for a user, e.g. ".config.yaml" or
// "configs/config-example.yaml（内置）".
func (s Source) String() string {
	if s.Origin == "built-in" {
		return s.Path + msgBuiltIn
	}
	return s.Path
}

// Find picks the config file: the --config flag, then the CONFIG_PATH
// environment variable (read with getenv), then .config.yaml in the
// working directory, then configs/config-example.yaml there, then the
// built-in example.
//
// flagSet says whether --config was given at all; flagPath is its value.
// A flag given as "" is an error naming --config, not a request for the
// built-in example; an empty CONFIG_PATH counts as unset, as shells treat
// it. A file named by the flag or the variable must exist. Every error is
// an *Error.
func Find(flagPath string, flagSet bool, getenv func(string) string) (Source, error) {
	if flagSet {
		if flagPath == "" {
			return Source{}, &Error{File: "--config", Msg: msgEmptyFlag}
		}
		return named(flagPath, "--config")
	}
	if p := getenv("CONFIG_PATH"); p != "" {
		return named(p, "CONFIG_PATH")
	}
	for _, c := range []Source{{".config.yaml", ".config.yaml"}, {ExamplePath, "example"}} {
		_, err := os.Stat(c.Path)
		if err == nil {
			return c, nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return Source{}, fileError(c.Path, err)
		}
	}
	return Source{Path: ExamplePath, Origin: "built-in"}, nil
}

func named(path, origin string) (Source, error) {
	if _, err := os.Stat(path); err != nil {
		e := fileError(path, err)
		e.Msg += fmt.Sprintf(msgNamedBy, origin)
		return Source{}, e
	}
	return Source{Path: path, Origin: origin}, nil
}

// LoadSource loads the config that src names, as Load does.
func LoadSource(src Source) (Config, []string, error) {
	if src.Origin == "built-in" {
		return Parse(src.String(), example)
	}
	return Load(src.Path)
}
