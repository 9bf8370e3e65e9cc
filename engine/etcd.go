package engine

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"time"

	"github.com/k3/k3-storage/backends"
	"github.com/k3/k3-storage/backends/etcd"
	"github.com/k3/k3-storage/containers"
	"github.com/k3/k3-storage/native"
)

// EtcdOptions configure the etcd backend: the adapter's own options (its
// fields and zero values, see etcd.Options) plus what the engine does
// around it. The engine adds no defaults of its own.
type EtcdOptions struct {
	etcd.Options
	// ConnectBudget is how long to keep retrying the first connection; 0
	// means a single attempt.
	ConnectBudget time.Duration
	// Container is provisioned for the first endpoint whose host is
	// localhost, 127.0.0.1 or ::1 and whose scheme is http.
	Container Container
	// Native is an etcd server embedded in this process, run where a
	// container would be when none can be (see NativeMode).
	Native Native
	// Server starts that server: etcdembed.Launch (package
	// native/etcdembed), as k3-storage passes. nil keeps the server out of
	// programs that do not want to link it (see native.EtcdLauncher);
	// where native etcd would be needed, Start then fails with an
	// *UnavailableError saying there is no server and how to link one.
	Server native.EtcdLauncher
}

type etcdBackend struct {
	o      EtcdOptions
	spec   containers.Spec
	local  bool
	hostIP string // the loopback address of the local endpoint
	port   int    // and its port
}

func newEtcdBackend(o EtcdOptions) *etcdBackend {
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
		b.local, b.hostIP, b.port = true, ip, port
		b.spec = containers.EtcdSpec(containers.EtcdParams{
			Name: o.Container.Name, Image: o.Container.Image, Volume: o.Container.Volume,
			HostIP: ip, ClientPort: port, MaxRequestBytes: etcd.ServerMaxRequestBytes,
		})
		break
	}
	return b
}

func (b *etcdBackend) kind() string { return Etcd }

// address is the endpoint list in Go's %v form, as the original printed it.
func (b *etcdBackend) address() string { return fmt.Sprintf("%v", b.o.Endpoints) }

func (b *etcdBackend) readyText() string { return fmt.Sprintf(msgEtcdReady, b.address()) }

func (b *etcdBackend) budget() time.Duration { return b.o.ConnectBudget }

func (b *etcdBackend) secrets() []string { return []string{b.o.Password} }

func (b *etcdBackend) explain(err error) error {
	if errors.Is(err, backends.ErrAccessDenied) {
		return fmt.Errorf(errLoginRefused, nameEtcd, b.o.Username, err)
	}
	return nil
}

func (b *etcdBackend) open(ctx context.Context) (backends.Store, error) {
	s, err := etcd.Open(ctx, b.o.Options)
	if err != nil {
		return nil, err // not a typed nil in the interface
	}
	return s, nil
}

func (b *etcdBackend) container() (containers.Spec, Container, bool) {
	return b.spec, b.o.Container, b.local
}

func (b *etcdBackend) nativeMode() NativeMode { return b.o.Native.Mode }

func (b *etcdBackend) native(home string) (nativeServer, error) {
	return newEtcdNative(b.o.Container, b.o.Native, b.o.Server, b.hostIP, b.port, home)
}
