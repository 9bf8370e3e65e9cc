// Package configs holds k3-storage's configuration: its types with their
// defaults, the lookup of the file to use, strict loading and validation.
// The field names are those of the original k3 service's config file.
package configs

import (
	"time"
)

// Storage types.
const (
	TypeMemory = "memory"
	TypeMySQL  = "mysql"
	TypeEtcd   = "etcd"
)

// Defaults that also stand in for a zero value a file sets (see derive).
const (
	defaultHistory     = 100000                     // Memory.History
	defaultStopTimeout = Duration(10 * time.Second) // Container.StopTimeout
)

// Config is the whole file. Every field a file leaves out has the value
// Default gives it; each field's comment states that default, its unit and
// what its zero value means.
type Config struct {
	Storage Storage `yaml:"storage"`
}

// Storage selects and configures the backend. Only the section of the
// selected type is used; the others are still validated.
type Storage struct {
	// Type is memory, mysql or etcd. Default memory.
	Type string `yaml:"type"`
	// HealthInterval is how often the backend is checked with a cheap
	// round trip once ready, to report when it becomes unreachable and
	// when it is back; at least 100ms. Default 2s.
	HealthInterval Duration `yaml:"health_interval"`
	Memory         Memory   `yaml:"memory"`
	MySQL          MySQL    `yaml:"mysql"`
	Etcd           Etcd     `yaml:"etcd"`
}

// Memory configures the in-process backend.
type Memory struct {
	// History is how many recent changes are kept so that a watch can start
	// at a past revision. Default 100000; a file's 0 also means the
	// default, so a loaded Config never holds 0. Negative is
	// an error.
	History int `yaml:"history"`
}

// MySQL configures the MySQL/MariaDB backend.
type MySQL struct {
	// Host is a host name or IP address, without port. Default localhost.
	// localhost, 127.0.0.1 and ::1 make k3-storage provision a container
	// (see Container). Empty is an error.
	Host string `yaml:"host"`
	// Port is the TCP port, 1-65535. Default 3306.
	Port int `yaml:"port"`
	// User is the account to connect as. Default root; empty is an error.
	User string `yaml:"user"`
	// Password is User's password, never shown in any output. Default
	// empty; for a container that k3-storage provisions, empty means the
	// image's root password "password", as the original service did.
	Password string `yaml:"password" secret:"true"`
	// Database is created if missing and the user may create it: 1-64
	// letters, digits, _ or $. Default k3.
	Database string `yaml:"database"`
	// MaxOpenConns bounds the connections in the pool, at least 1. Default 10.
	MaxOpenConns int `yaml:"max_open_conns"`
	// MaxIdleConns bounds the idle connections kept, 0 (none) to
	// MaxOpenConns. Default 5.
	MaxIdleConns int `yaml:"max_idle_conns"`
	// ConnectTimeout is how long to keep retrying the first connection, at
	// least 1s. Default 45s.
	ConnectTimeout Duration `yaml:"connect_timeout"`
	// PollInterval is how often a watch looks for other processes' writes,
	// at least 10ms. Default 100ms.
	PollInterval Duration `yaml:"poll_interval"`
	// TLS configures encryption of the connections.
	TLS MySQLTLS `yaml:"tls"`
	// Container configures the container provisioned for a local host.
	Container Container `yaml:"container"`
	// Native configures the machine's own MySQL server, run when no
	// container can provide the database.
	Native MySQLNative `yaml:"native"`
}

// TLS modes of MySQL connections, as the mysql client's --ssl-mode.
const (
	TLSDisabled   = "disabled"
	TLSPreferred  = "preferred"
	TLSRequired   = "required"
	TLSVerifyCA   = "verify-ca"
	TLSVerifyFull = "verify-full"
)

// MySQLTLS configures TLS for the MySQL connections. Every field but Mode
// defaults to empty.
type MySQLTLS struct {
	// Mode is disabled (no TLS); preferred (TLS when the server offers it,
	// else plain; the certificate is not checked); required (TLS or fail;
	// not checked); verify-ca (TLS, and the certificate must be signed by
	// a trusted CA, whatever name it is for); or verify-full (as
	// verify-ca, and the certificate must be for ServerName or the host).
	// Default preferred. Managed databases usually need verify-full with
	// their CA.
	Mode string `yaml:"mode"`
	// CAFile is a PEM bundle of the CAs trusted to sign the server's
	// certificate; empty means the system's roots. Only verify-ca and
	// verify-full use it; with another mode it is an error. A file named
	// here must be readable.
	CAFile string `yaml:"ca_file"`
	// CertFile and KeyFile are a client certificate and its key, for
	// servers that require one; both or neither, not with disabled.
	CertFile string `yaml:"cert_file"`
	KeyFile  string `yaml:"key_file"`
	// ServerName is the name the server's certificate must be for; empty
	// means host. Only verify-full uses it; with another mode it is an
	// error.
	ServerName string `yaml:"server_name"`
}

// Etcd configures the etcd backend.
type Etcd struct {
	// Endpoints are client URLs (http, https, unix or unixs scheme; host and
	// port only), at least one. Default [http://127.0.0.1:2379].
	Endpoints []string `yaml:"endpoints"`
	// DialTimeout bounds each connection attempt, at least 1ms. Default 5s.
	DialTimeout Duration `yaml:"dial_timeout"`
	// Username and Password enable etcd authentication; both or neither.
	// Default empty: no authentication. Password is never shown.
	Username string `yaml:"username"`
	Password string `yaml:"password" secret:"true"`
	// ConnectTimeout is how long to keep retrying the first connection, at
	// least 1s. Default 30s.
	ConnectTimeout Duration `yaml:"connect_timeout"`
	// TLS configures client TLS for https endpoints.
	TLS TLS `yaml:"tls"`
	// Container configures the container provisioned for a local endpoint.
	Container Container `yaml:"container"`
	// Native configures the etcd server embedded in k3-storage, run when no
	// container can provide the database.
	Native EtcdNative `yaml:"native"`
}

// TLS configures a TLS client. Every field defaults to empty (false),
// which means the system's defaults.
type TLS struct {
	// CAFile is a PEM bundle of trusted certificate authorities; empty
	// means the system's roots. A file named here must be readable.
	CAFile string `yaml:"ca_file"`
	// CertFile and KeyFile are a client certificate and its key; both or
	// neither. Empty means no client certificate.
	CertFile string `yaml:"cert_file"`
	KeyFile  string `yaml:"key_file"`
	// ServerName overrides the name checked in the server's certificate;
	// empty means the endpoint's host.
	ServerName string `yaml:"server_name"`
	// InsecureSkipVerify disables certificate checks; for experiments only.
	// Default false.
	InsecureSkipVerify bool `yaml:"insecure_skip_verify"`
}

// Container configures the database container that k3-storage starts when
// the backend's host is localhost, 127.0.0.1 or ::1.
type Container struct {
	// Auto enables provisioning; false only connects. Default true.
	Auto bool `yaml:"auto"`
	// Image is the image to run. Defaults mysql:8.0 and
	// quay.io/coreos/etcd:v3.5.0.
	Image string `yaml:"image"`
	// Name is the container's fixed name, so that a later run finds it.
	// Defaults k3-storage-mysql and k3-storage-etcd.
	Name string `yaml:"name"`
	// Volume is the named volume holding the data, which outlives the
	// container. Default: Name followed by "-data" (k3-storage-mysql-data,
	// k3-storage-etcd-data), also when a file sets "" or only changes Name;
	// so a loaded Config never holds "".
	Volume string `yaml:"volume"`
	// PurgeVolume removes the volume too when k3-storage removes the
	// container on exit. Default false: data persists.
	PurgeVolume bool `yaml:"purge_volume"`
	// StopTimeout is how long the database gets to stop before it is
	// killed. Default 10s; a file's 0 also means the default, so a loaded Config never holds 0.
	StopTimeout Duration `yaml:"stop_timeout"`
}

// Native modes (MySQLNative.Mode, EtcdNative.Mode).
const (
	NativeAuto   = "auto"
	NativeAlways = "always"
	NativeNever  = "never"
)

// MySQLNative configures the machine's own MySQL or MariaDB server, which
// k3-storage runs as a child process on a private data directory where it
// would run a container (a local host, container.auto true).
type MySQLNative struct {
	// Mode is auto, always or never. Default auto: run the machine's
	// server when no container can be used (no container runtime, one on
	// another machine, or an image that cannot be pulled); always: skip
	// containers (needs container.auto true); never: containers only, and
	// without a container runtime just connect.
	Mode string `yaml:"mode"`
	// DataDir is the server's directory, an absolute path, kept after
	// exit. Default "": $XDG_DATA_HOME/k3-storage/mysql-<port>
	// (~/.local/share/k3-storage/mysql-<port> when XDG_DATA_HOME is unset).
	DataDir string `yaml:"data_dir"`
	// Binary is the server program, an absolute path to an executable
	// file. Default "": mariadbd, then mysqld, from PATH and then
	// /usr/sbin and the other usual directories.
	Binary string `yaml:"binary"`
}

// EtcdNative configures the etcd server embedded in k3-storage, which it
// runs in its own process where it would run a container (a local http
// endpoint, container.auto true).
type EtcdNative struct {
	// Mode is auto, always or never, as for MySQLNative.Mode. Default auto.
	Mode string `yaml:"mode"`
	// DataDir is the server's directory, an absolute path, kept after
	// exit. Default "": $XDG_DATA_HOME/k3-storage/etcd-<port>
	// (~/.local/share/k3-storage/etcd-<port> when XDG_DATA_HOME is unset).
	DataDir string `yaml:"data_dir"`
}

// Duration is a time.Duration written in Go's syntax ("5s", "250ms").
type Duration time.Duration

// String formats the duration in Go's syntax.
func (d Duration) String() string { return time.Duration(d).String() }

// Default returns the configuration used for every field a file leaves
// out: the single home of k3-storage's user-facing defaults. Other layers
// take their values from a Config rather than restating them.
func Default() Config {
	c := written()
	c.derive()
	return c
}

// written is Default before derive: the defaults that do not depend on
// other fields. Parse decodes a file over it, so that a derived field
// follows the fields the file sets.
func written() Config {
	return Config{Storage: Storage{
		Type:           TypeMemory,
		HealthInterval: Duration(2 * time.Second),
		Memory:         Memory{History: defaultHistory},
		MySQL: MySQL{
			Host:           "localhost",
			Port:           3306,
			User:           "root",
			Database:       "k3",
			MaxOpenConns:   10,
			MaxIdleConns:   5,
			ConnectTimeout: Duration(45 * time.Second),
			PollInterval:   Duration(100 * time.Millisecond),
			TLS:            MySQLTLS{Mode: TLSPreferred},
			Container: Container{
				Auto:        true,
				Image:       "mysql:8.0",
				Name:        "k3-storage-mysql",
				StopTimeout: defaultStopTimeout,
			},
			Native: MySQLNative{Mode: NativeAuto},
		},
		Etcd: Etcd{
			Endpoints:      []string{"http://127.0.0.1:2379"},
			DialTimeout:    Duration(5 * time.Second),
			ConnectTimeout: Duration(30 * time.Second),
			Container: Container{
				Auto:        true,
				Image:       "quay.io/coreos/etcd:v3.5.0",
				Name:        "k3-storage-etcd",
				StopTimeout: defaultStopTimeout,
			},
			Native: EtcdNative{Mode: NativeAuto},
		},
	}}
}

// derive fills the fields whose default depends on others, or whose zero
// value stands for the default.
func (c *Config) derive() {
	s := &c.Storage
	if s.Memory.History == 0 {
		s.Memory.History = defaultHistory
	}
	for _, ct := range []*Container{&s.MySQL.Container, &s.Etcd.Container} {
		if ct.Volume == "" {
			ct.Volume = ct.Name + "-data"
		}
		if ct.StopTimeout == 0 {
			ct.StopTimeout = defaultStopTimeout
		}
	}
}
