// Package configs holds k3-storage's configuration: its types with their
// defaults, the lookup of the file to use, strict loading and validation.
// The field names are those of the original k3 service's config file.
package configs

import (
	"fmt"
	"time"
)

// Storage types.
const (
	TypeMemory = "memory"
	TypeMySQL  = "mysql"
	TypeEtcd   = "etcd"
)

// Config is the whole file.
type Config struct {
	Storage Storage `yaml:"storage"`
}

// Storage selects and configures the backend.
type Storage struct {
	// Type is memory, mysql or etcd. Default memory.
	Type   string `yaml:"type"`
	Memory Memory `yaml:"memory"`
	MySQL  MySQL  `yaml:"mysql"`
	Etcd   Etcd   `yaml:"etcd"`
}

// Memory configures the in-process backend.
type Memory struct {
	// History is how many recent changes are kept so that a watch can start
	// at a past revision. 0 means 100000.
	History int `yaml:"history"`
}

// MySQL configures the MySQL/MariaDB backend.
type MySQL struct {
	// Host is a host name or IP address, without port. localhost,
	// 127.0.0.1 and ::1 make k3-storage provision a container (see Container).
	Host string `yaml:"host"`
	// Port is the TCP port, 1-65535. Default 3306.
	Port int `yaml:"port"`
	// User and Password are the credentials. Default user root.
	User     string `yaml:"user"`
	Password string `yaml:"password" secret:"true"`
	// Database is created if missing and the user may create it. Default k3.
	Database string `yaml:"database"`
	// MaxOpenConns (at least 1) and MaxIdleConns (0 to MaxOpenConns) bound
	// the connection pool. Defaults 10 and 5.
	MaxOpenConns int `yaml:"max_open_conns"`
	MaxIdleConns int `yaml:"max_idle_conns"`
	// ConnectTimeout is how long to keep retrying the first connection.
	// Default 45s.
	ConnectTimeout Duration `yaml:"connect_timeout"`
	// PollInterval is how often a watch looks for other processes' writes.
	// Default 100ms; at least 10ms.
	PollInterval Duration `yaml:"poll_interval"`
	// Container configures the container provisioned for a local host.
	Container Container `yaml:"container"`
}

// Etcd configures the etcd backend.
type Etcd struct {
	// Endpoints are client URLs (http, https, unix or unixs scheme), at least one.
	// Default [http://127.0.0.1:2379].
	Endpoints []string `yaml:"endpoints"`
	// DialTimeout bounds each connection attempt. Default 5s.
	DialTimeout Duration `yaml:"dial_timeout"`
	// Username and Password enable etcd authentication; both or neither.
	Username string `yaml:"username"`
	Password string `yaml:"password" secret:"true"`
	// ConnectTimeout is how long to keep retrying the first connection.
	// Default 30s.
	ConnectTimeout Duration `yaml:"connect_timeout"`
	// TLS configures client TLS for https endpoints.
	TLS TLS `yaml:"tls"`
	// Container configures the container provisioned for a local endpoint.
	Container Container `yaml:"container"`
}

// TLS configures a TLS client. Empty fields mean the system defaults.
type TLS struct {
	// CAFile is a PEM bundle of trusted certificate authorities.
	CAFile string `yaml:"ca_file"`
	// CertFile and KeyFile are a client certificate and its key; both or neither.
	CertFile string `yaml:"cert_file"`
	KeyFile  string `yaml:"key_file"`
	// ServerName overrides the name checked in the server's certificate.
	ServerName string `yaml:"server_name"`
	// InsecureSkipVerify disables certificate checks; for experiments only.
	InsecureSkipVerify bool `yaml:"insecure_skip_verify"`
}

// Container configures the database container that k3-storage starts when
// the backend's host is localhost, 127.0.0.1 or ::1.
type Container struct {
	// Auto enables provisioning. Default true.
	Auto bool `yaml:"auto"`
	// Image is the image to run. Defaults mysql:8.0 and
	// quay.io/coreos/etcd:v3.5.0.
	Image string `yaml:"image"`
	// Name is the container's fixed name, so that a later run finds it.
	// Defaults k3-storage-mysql and k3-storage-etcd.
	Name string `yaml:"name"`
	// Volume is the named volume holding the data, which outlives the
	// container. "" means the container's name followed by "-data"
	// (k3-storage-mysql-data, k3-storage-etcd-data by default).
	Volume string `yaml:"volume"`
	// PurgeVolume removes the volume too when k3-storage removes the
	// container on exit. Default false: data persists.
	PurgeVolume bool `yaml:"purge_volume"`
	// StopTimeout is how long the database gets to stop before it is
	// killed. Default 10s.
	StopTimeout Duration `yaml:"stop_timeout"`
}

// Duration is a time.Duration written in Go's syntax ("5s", "250ms").
type Duration time.Duration

// String formats the duration in Go's syntax.
func (d Duration) String() string { return time.Duration(d).String() }

// Default returns the configuration used for every field a file leaves out.
func Default() Config {
	return Config{Storage: Storage{
		Type: TypeMemory,
		MySQL: MySQL{
			Host:           "localhost",
			Port:           3306,
			User:           "root",
			Database:       "k3",
			MaxOpenConns:   10,
			MaxIdleConns:   5,
			ConnectTimeout: Duration(45 * time.Second),
			PollInterval:   Duration(100 * time.Millisecond),
			Container: Container{
				Auto:        true,
				Image:       "mysql:8.0",
				Name:        "k3-storage-mysql",
				StopTimeout: Duration(10 * time.Second),
			},
		},
		Etcd: Etcd{
			Endpoints:      []string{"http://127.0.0.1:2379"},
			DialTimeout:    Duration(5 * time.Second),
			ConnectTimeout: Duration(30 * time.Second),
			Container: Container{
				Auto:        true,
				Image:       "quay.io/coreos/etcd:v3.5.0",
				Name:        "k3-storage-etcd",
				StopTimeout: Duration(10 * time.Second),
			},
		},
	}}
}

// Address is the backend's address as the original service printed it:
// "HOST:PORT/DATABASE" for mysql, the endpoint list in Go's %v form for etcd,
// "" for memory.
func (s Storage) Address() string {
	switch s.Type {
	case TypeMySQL:
		return fmt.Sprintf("%s:%d/%s", s.MySQL.Host, s.MySQL.Port, s.MySQL.Database)
	case TypeEtcd:
		return fmt.Sprintf("%v", s.Etcd.Endpoints)
	}
	return ""
}
