package engine

import (
	"context"
	"fmt"
	"time"

	"github.com/k3/k3-storage/backends"
	"github.com/k3/k3-storage/backends/memory"
	"github.com/k3/k3-storage/containers"
)

// Backend types.
const (
	Memory = "memory"
	MySQL  = "mysql"
	Etcd   = "etcd"
)

// Options configure an Engine. main maps the config file into them; other
// k3 commands embedding the engine fill them directly.
type Options struct {
	// Backend is Memory, MySQL or Etcd.
	Backend string
	// ConfigFile names the config in use, for the first event; "" for none.
	ConfigFile string
	// ConfigWarnings are reported as warnings right after the config
	// event: things in the config the user should know about.
	ConfigWarnings []string
	// Memory, MySQL and Etcd configure the backends; only the one named
	// by Backend is used.
	Memory memory.Options
	MySQL  MySQLOptions
	Etcd   EtcdOptions
	// ContainerEnv is where container runtime discovery looks (DOCKER_HOST,
	// the Docker CLI's context, socket paths). main passes
	// containers.EnvFromOS().
	ContainerEnv containers.Env
	// DataHome is the directory under which native servers keep their
	// data when their Native.DataDir is "" (see DataHome, which main
	// passes); "" with neither set makes the native path unavailable.
	DataHome string
	// Retry governs connect retries; zero fields take defaults.
	Retry Retry
	// Health governs the checks of the backend while ready; the zero
	// value checks nothing.
	Health Health
	// EventBuffer is the events channel's capacity; 0 means
	// DefaultEventBuffer. Values below 2*64 are raised to that.
	EventBuffer int
}

// Retry is the connect retry policy: attempts back off from Initial,
// doubling up to Max, until the backend's connect budget is spent.
type Retry struct {
	// Initial is the wait after the first failed attempt. Default 50ms.
	Initial time.Duration
	// Max caps the wait between attempts, so that a database that starts
	// answering is noticed within Max. Default 250ms.
	Max time.Duration
	// AttemptTimeout caps one attempt. Default 5s.
	AttemptTimeout time.Duration
}

func (o Options) withDefaults() Options {
	if o.EventBuffer == 0 {
		o.EventBuffer = DefaultEventBuffer
	}
	o.EventBuffer = max(o.EventBuffer, 2*reserve)
	if o.Retry.Initial <= 0 {
		o.Retry.Initial = 50 * time.Millisecond
	}
	if o.Retry.Max <= 0 {
		o.Retry.Max = 250 * time.Millisecond
	}
	if o.Retry.AttemptTimeout <= 0 {
		o.Retry.AttemptTimeout = 5 * time.Second
	}
	if o.Health.Timeout <= 0 {
		o.Health.Timeout = DefaultHealthTimeout
	}
	return o
}

// backend is what the engine needs to know about one storage type.
type backend interface {
	// kind is Memory, MySQL or Etcd.
	kind() string
	// address is what the store connects to, as configured ("" for memory).
	address() string
	// readyText is the original log line printed once connected.
	readyText() string
	// budget is how long connecting may take in all; 0 means one attempt.
	budget() time.Duration
	// open makes one connect attempt. Errors that retrying cannot fix wrap
	// backends.ErrPermanent.
	open(ctx context.Context) (backends.Store, error)
	// secrets are strings that must never appear in output.
	secrets() []string
	// explain returns, for a failure of open that the backend can say in
	// the user's words (credentials refused, TLS required), an error that
	// says so and wraps err; nil for any other failure.
	explain(err error) error
	// container returns the database container to provision, when the
	// backend's host is local and provisioning is enabled.
	container() (containers.Spec, Container, bool)
	// nativeMode and native describe the server to run on this machine
	// instead, under the same condition as container; native fails when
	// none can be had (no program, no data directory), saying why.
	nativeMode() NativeMode
	native(dataHome string) (nativeServer, error)
}

func newBackend(o Options) (backend, error) {
	switch o.Backend {
	case Memory:
		return memoryBackend{o.Memory}, nil
	case MySQL:
		return newMySQLBackend(o.MySQL), nil
	case Etcd:
		return newEtcdBackend(o.Etcd), nil
	}
	return nil, fmt.Errorf("engine: unknown backend %q (want memory, mysql or etcd)", o.Backend)
}

type memoryBackend struct{ opts memory.Options }

func (memoryBackend) kind() string          { return Memory }
func (memoryBackend) address() string       { return "" }
func (memoryBackend) readyText() string     { return msgMemoryReady }
func (memoryBackend) budget() time.Duration { return 0 }
func (memoryBackend) secrets() []string     { return nil }
func (memoryBackend) explain(error) error   { return nil }
func (memoryBackend) container() (containers.Spec, Container, bool) {
	return containers.Spec{}, Container{}, false
}
func (memoryBackend) nativeMode() NativeMode              { return NativeNever }
func (memoryBackend) native(string) (nativeServer, error) { return nil, errNoNative }
func (m memoryBackend) open(context.Context) (backends.Store, error) {
	return memory.New(m.opts), nil
}
