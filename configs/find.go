package configs

import (
	_ "embed"
	"errors"
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
// "configs/config-example.yaml (built-in)".
func (s Source) String() string {
	if s.Origin == "built-in" {
		return s.Path + " (built-in)"
	}
	return s.Path
}

// Find picks the config file: the --config flag (flagPath), then the
// CONFIG_PATH environment variable (getenv), then .config.yaml in the
// working directory, then configs/config-example.yaml there, then the
// built-in example. A file named by the flag or the variable must exist.
func Find(flagPath string, getenv func(string) string) (Source, error) {
	if flagPath != "" {
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
			return c, fileError(c.Path, err)
		}
	}
	return Source{Path: ExamplePath, Origin: "built-in"}, nil
}

func named(path, origin string) (Source, error) {
	if _, err := os.Stat(path); err != nil {
		e := fileError(path, err).(*Error)
		e.Msg += " (named by " + origin + ")"
		return Source{}, e
	}
	return Source{Path: path, Origin: origin}, nil
}

// LoadSource loads the config that src names.
func LoadSource(src Source) (Config, error) {
	if src.Origin == "built-in" {
		return Parse(src.String(), example)
	}
	return Load(src.Path)
}
