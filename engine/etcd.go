package engine

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"time"

	"github.com/k3/k3-storage/backends"
	"github.com/k3/k3-storage/backends/etcd"
	"github.com/k3/k3-storage/containers"
)

// EtcdOptions configure the etcd backend. Zero values take the defaults
// of the config file (see configs).
type EtcdOptions struct {
	// Endpoints are client URLs; default [http://127.0.0.1:2379].
	Endpoints   []string
	DialTimeout time.Duration
	// Username and Password enable etcd authentication; the password never
	// appears in events, errors or output.
	Username, Password string
	// TLS client settings for https endpoints.
	CAFile, CertFile, KeyFile, ServerName string
	InsecureSkipVerify                    bool
	// ConnectTimeout is how long to keep retrying the first connection.
	// 0 means 30s.
	ConnectTimeout time.Duration
	// Container is provisioned for the first endpoint whose host is
	// localhost, 127.0.0.1 or ::1 and whose scheme is http.
	Container Container
}

func (o EtcdOptions) withDefaults() EtcdOptions {
	if len(o.Endpoints) == 0 {
		o.Endpoints = []string{"http://127.0.0.1:2379"}
	}
	o.Container = o.Container.withDefaults(Etcd, containers.DefaultEtcdImage)
	return o
}

type etcdBackend struct {
	o     EtcdOptions
	spec  containers.Spec
	local bool
}

func newEtcdBackend(o EtcdOptions) *etcdBackend {
	o = o.withDefaults()
	b := &etcdBackend{o: o}
	if !o.Container.Auto {
		return b
	}
	for _, ep := range o.Endpoints {
		u, err := url.Parse(ep)
		if err != nil || u.Scheme != "http" {
			continue
		}
		ip, ok := containers.Loopback(u.Hostname())
		if !ok {
			continue
		}
		port := 2379
		if p, err := strconv.Atoi(u.Port()); err == nil {
			port = p
		}
		b.local = true
		b.spec = containers.EtcdSpec(containers.EtcdParams{
			Name: o.Container.Name, Image: o.Container.Image, Volume: o.Container.Volume,
			HostIP: ip, ClientPort: port,
		})
		break
	}
	return b
}

func (b *etcdBackend) kind() string { return Etcd }

// address is the endpoint list in Go's %v form, as the original printed it.
func (b *etcdBackend) address() string { return fmt.Sprintf("%v", b.o.Endpoints) }

func (b *etcdBackend) readyText() string { return fmt.Sprintf(msgEtcdReady, b.address()) }

func (b *etcdBackend) budget() time.Duration {
	if b.o.ConnectTimeout > 0 {
		return b.o.ConnectTimeout
	}
	return 30 * time.Second
}

func (b *etcdBackend) secrets() []string { return []string{b.o.Password} }

func (b *etcdBackend) open(ctx context.Context) (backends.Store, error) {
	s, err := etcd.Open(ctx, etcd.Options{
		Endpoints: b.o.Endpoints, DialTimeout: b.o.DialTimeout,
		Username: b.o.Username, Password: b.o.Password,
		CAFile: b.o.CAFile, CertFile: b.o.CertFile, KeyFile: b.o.KeyFile,
		ServerName: b.o.ServerName, InsecureSkipVerify: b.o.InsecureSkipVerify,
	})
	if err != nil {
		return nil, err // not a typed nil in the interface
	}
	return s, nil
}

func (b *etcdBackend) container() (containers.Spec, Container, bool) {
	return b.spec, b.o.Container, b.local
}
