package engine

import (
	"context"
	"fmt"
	"time"

	"github.com/k3/k3-storage/backends"
	"github.com/k3/k3-storage/backends/mysql"
	"github.com/k3/k3-storage/containers"
)

// MySQLOptions configure the MySQL backend. Zero values take the defaults
// of the config file (see configs).
type MySQLOptions struct {
	Host     string // host name or IP address, no port
	Port     int
	User     string
	Password string // never appears in events, errors or output
	Database string
	// MaxOpenConns and MaxIdleConns bound the pool; MaxIdleConns 0 keeps
	// no idle connection.
	MaxOpenConns, MaxIdleConns int
	// PollInterval is how often a watch looks for other processes' writes.
	PollInterval time.Duration
	// History is how many log rows are kept for watch replay (0 = default).
	History int64
	// ConnectTimeout is how long to keep retrying the first connection.
	// 0 means 45s.
	ConnectTimeout time.Duration
	// Container is provisioned when Host is localhost, 127.0.0.1 or ::1.
	Container Container
}

func (o MySQLOptions) withDefaults() MySQLOptions {
	if o.Host == "" {
		o.Host = "localhost"
	}
	if o.Port == 0 {
		o.Port = 3306
	}
	if o.User == "" {
		o.User = "root"
	}
	if o.Database == "" {
		o.Database = "k3"
	}
	if o.MaxOpenConns == 0 {
		o.MaxOpenConns = 10
	}
	o.Container = o.Container.withDefaults(MySQL, containers.DefaultMySQLImage)
	return o
}

// defaultRootPassword is the password the official image's root gets when
// the config leaves it empty, as the original service did.
const defaultRootPassword = "password"

type mysqlBackend struct {
	o     MySQLOptions
	spec  containers.Spec
	local bool
}

func newMySQLBackend(o MySQLOptions) *mysqlBackend {
	o = o.withDefaults()
	b := &mysqlBackend{o: o}
	if ip, ok := containers.Loopback(o.Host); ok && o.Container.Auto {
		if b.o.Password == "" {
			// The container is created with this password, so connect
			// with it too.
			b.o.Password = defaultRootPassword
		}
		b.local = true
		b.spec = containers.MySQLSpec(containers.MySQLParams{
			Name: o.Container.Name, Image: o.Container.Image, Volume: o.Container.Volume,
			HostIP: ip, Port: o.Port, User: o.User, Password: b.o.Password, Database: o.Database,
		})
	}
	return b
}

func (b *mysqlBackend) kind() string { return MySQL }

// address is HOST:PORT/DATABASE as configured, as the original printed it.
func (b *mysqlBackend) address() string {
	return fmt.Sprintf("%s:%d/%s", b.o.Host, b.o.Port, b.o.Database)
}

func (b *mysqlBackend) readyText() string { return fmt.Sprintf(msgMySQLReady, b.address()) }

func (b *mysqlBackend) budget() time.Duration {
	if b.o.ConnectTimeout > 0 {
		return b.o.ConnectTimeout
	}
	return 45 * time.Second
}

func (b *mysqlBackend) secrets() []string { return []string{b.o.Password} }

func (b *mysqlBackend) open(ctx context.Context) (backends.Store, error) {
	idle := b.o.MaxIdleConns
	if idle == 0 {
		idle = -1 // the adapter reads 0 as its default
	}
	s, err := mysql.Open(ctx, mysql.Options{
		Host: b.o.Host, Port: b.o.Port, User: b.o.User, Password: b.o.Password, Database: b.o.Database,
		MaxOpenConns: b.o.MaxOpenConns, MaxIdleConns: idle, PollInterval: b.o.PollInterval, History: b.o.History,
	})
	if err != nil {
		return nil, err // not a typed nil in the interface
	}
	return s, nil
}

func (b *mysqlBackend) container() (containers.Spec, Container, bool) {
	return b.spec, b.o.Container, b.local
}
