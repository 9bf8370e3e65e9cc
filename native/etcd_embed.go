//go:build !k3_no_embedded_etcd

package native

import (
	"net/url"

	"go.etcd.io/etcd/server/v3/embed"
)

// Raft timing of the embedded server. A single member on loopback has no
// peers to hear from, so short ticks cost nothing but make its election at
// start (after 1 to ElectionMs/TickMs ticks) quick; etcd's defaults
// (100ms, 1s) would make a start take up to a second longer.
const (
	etcdTickMs     = 20
	etcdElectionMs = 200
)

// launch starts an embedded etcd server (go.etcd.io/etcd/server/v3/embed,
// the version of the client k3-storage uses) as a single-member cluster.
func launch(c launchConfig) (server, error) {
	cfg := embed.NewConfig()
	cfg.Name = c.name
	cfg.Dir = c.dir
	cfg.ListenClientUrls, cfg.AdvertiseClientUrls = []url.URL{c.client}, []url.URL{c.client}
	cfg.ListenPeerUrls, cfg.AdvertisePeerUrls = []url.URL{c.peer}, []url.URL{c.peer}
	cfg.InitialCluster = c.name + "=" + c.peer.String()
	cfg.InitialClusterToken = c.name
	cfg.ClusterState = embed.ClusterStateFlagNew // a restart goes by the data
	cfg.MaxRequestBytes = c.maxRequestBytes
	cfg.TickMs, cfg.ElectionMs = etcdTickMs, etcdElectionMs
	cfg.ZapLoggerBuilder = embed.NewZapLoggerBuilder(c.logger)
	cfg.Logger = "zap"
	e, err := embed.StartEtcd(cfg)
	if err != nil {
		return nil, err
	}
	return embedded{e}, nil
}

type embedded struct{ e *embed.Etcd }

func (s embedded) ready() <-chan struct{}   { return s.e.Server.ReadyNotify() }
func (s embedded) errs() <-chan error       { return s.e.Err() }
func (s embedded) stopped() <-chan struct{} { return s.e.Server.StopNotify() }
func (s embedded) close()                   { s.e.Close() }
