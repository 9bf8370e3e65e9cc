package engine

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/k3/k3-storage/backends"
	"github.com/k3/k3-storage/backends/mysql"
	"github.com/k3/k3-storage/containers"
)

// MySQLOptions configure the MySQL backend: the adapter's own options (its
// fields and zero values, see mysql.Options) plus what the engine does
// around it. The engine adds no defaults of its own: k3-storage's config
// file is the one home of the defaults a user sees.
type MySQLOptions struct {
	mysql.Options
	// ConnectBudget is how long to keep retrying the first connection; 0
	// means a single attempt.
	ConnectBudget time.Duration
	// Container is provisioned when Host is localhost, 127.0.0.1 or ::1.
	Container Container
	// Native is the machine's own mariadbd or mysqld, run where a
	// container would be when none can be (see NativeMode).
	Native Native
}

// defaultRootPassword is the root password of a database k3-storage
// provisions when the config leaves the password empty, as the original
// service did; the engine then connects with it too.
const defaultRootPassword = "password"

type mysqlBackend struct {
	o      MySQLOptions
	spec   containers.Spec
	local  bool
	hostIP string // the loopback address of a local host
}

func newMySQLBackend(o MySQLOptions) *mysqlBackend {
	b := &mysqlBackend{o: o}
	if ip, ok := containers.Loopback(o.Host); ok && o.Container.Auto {
		if b.o.Password == "" {
			b.o.Password = defaultRootPassword
		}
		b.local, b.hostIP = true, ip
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

func (b *mysqlBackend) budget() time.Duration { return b.o.ConnectBudget }

func (b *mysqlBackend) secrets() []string { return []string{b.o.Password} }

func (b *mysqlBackend) explain(err error) error {
	switch {
	case errors.Is(err, backends.ErrAccessDenied):
		return fmt.Errorf(errLoginRefused, nameMySQL, b.o.User, err)
	case errors.Is(err, mysql.ErrTLSRequired):
		return fmt.Errorf(errTLSRequired, err)
	}
	return nil
}

func (b *mysqlBackend) open(ctx context.Context) (backends.Store, error) {
	s, err := mysql.Open(ctx, b.o.Options)
	if err != nil {
		return nil, err // not a typed nil in the interface
	}
	return s, nil
}

func (b *mysqlBackend) container() (containers.Spec, Container, bool) {
	return b.spec, b.o.Container, b.local
}

func (b *mysqlBackend) nativeMode() NativeMode { return b.o.Native.Mode }

func (b *mysqlBackend) native(home string) (nativeServer, error) {
	return newMySQLNative(b.o.Options, b.o.Container, b.o.Native, b.o.Password, b.hostIP, home, b.o.ConnectBudget)
}
