// Package etcdembed runs etcd servers inside this process for package
// native: Launch is the native.EtcdLauncher k3-storage uses, built on
// go.etcd.io/etcd/server/v3/embed at the version of the client k3-storage
// uses.
//
// It is a package of its own so that only programs that want the server
// link it: Go initialises every linked package before main, and the
// server's cost every launch about 5 ms and the binary 13 MB. k3-storage
// links it; a program embedding the engine passes Launch as
// engine.EtcdOptions.Server to have native etcd too.
package etcdembed

import (
	"net/url"

	"go.etcd.io/etcd/server/v3/embed"

	"github.com/k3/k3-storage/native"
)

// Raft timing of the embedded server. A single member on loopback has no
// peers to hear from, so short ticks cost nothing but make its election at
// start (after 1 to ElectionMs/TickMs ticks) quick; etcd's defaults
// (100ms, 1s) would make a start take up to a second longer.
const (
	tickMs     = 20
	electionMs = 200
)

// Launch starts an etcd server in this process as the single-member
// cluster l describes; see native.EtcdLauncher.
func Launch(l native.EtcdLaunch) (native.EtcdServer, error) {
	cfg := embed.NewConfig()
	cfg.Name = l.Name
	cfg.Dir = l.Dir
	cfg.ListenClientUrls, cfg.AdvertiseClientUrls = []url.URL{l.Client}, []url.URL{l.Client}
	cfg.ListenPeerUrls, cfg.AdvertisePeerUrls = []url.URL{l.Peer}, []url.URL{l.Peer}
	cfg.InitialCluster = l.Name + "=" + l.Peer.String()
	cfg.InitialClusterToken = l.Name
	cfg.ClusterState = embed.ClusterStateFlagNew // a restart goes by the data
	cfg.MaxRequestBytes = l.MaxRequestBytes
	cfg.TickMs, cfg.ElectionMs = tickMs, electionMs
	cfg.ZapLoggerBuilder = embed.NewZapLoggerBuilder(l.Logger)
	cfg.Logger = "zap"
	e, err := embed.StartEtcd(cfg)
	if err != nil {
		return nil, err
	}
	return server{e}, nil
}

// server adapts *embed.Etcd to native.EtcdServer.
type server struct{ e *embed.Etcd }

func (s server) Ready() <-chan struct{}   { return s.e.Server.ReadyNotify() }
func (s server) Err() <-chan error        { return s.e.Err() }
func (s server) Stopped() <-chan struct{} { return s.e.Server.StopNotify() }
func (s server) Close()                   { s.e.Close() }
