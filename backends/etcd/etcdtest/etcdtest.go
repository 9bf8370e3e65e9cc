// Package etcdtest runs real etcd servers inside the test process (the
// embedded server of go.etcd.io/etcd/server/v3), on loopback ports chosen at
// random, with data in a temporary directory and no log output. It is for
// tests only: nothing outside _test.go files may import it.
//
// Start gives the endpoints of one member (or of an external cluster named
// by K3_TEST_ETCD_ENDPOINTS); StartCluster runs several members that can be
// stopped, killed and restarted to test failover. Clients and peers reach
// the members of a cluster through small TCP proxies, so that Stop, Kill
// and Close cut every connection at once, as a crash would, instead of
// waiting out etcd's graceful shutdown of open watch streams (seconds), and
// nothing lingers for goleak to find.
package etcdtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.etcd.io/etcd/client/pkg/v3/transport"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/server/v3/embed"
	"go.uber.org/zap"

	"github.com/k3/k3-storage/backends/etcd"
)

// EnvEndpoints names the environment variable that points Start at an
// external etcd instead of an embedded one: comma-separated client URLs.
const EnvEndpoints = "K3_TEST_ETCD_ENDPOINTS"

// readyTimeout bounds how long a member may take to become ready.
const readyTimeout = 60 * time.Second

// Config describes the servers to run. The zero value is one member over
// plain HTTP.
type Config struct {
	// Members is the number of members; 0 means 1.
	Members int
	// MaxRequestBytes is the members' --max-request-bytes; 0 means
	// etcd.ServerMaxRequestBytes (what k3 runs in production).
	MaxRequestBytes uint
	// Direct makes clients connect to the members themselves rather than
	// through the per-member proxy: no extra hop (for benchmarks), but Stop
	// then waits for etcd's graceful shutdown. Single-member servers from
	// Start are direct.
	Direct bool
	// CertFile and KeyFile, when set, make members serve clients over TLS
	// with this certificate (endpoints are then https).
	CertFile, KeyFile string
	// ClientCAFile, when set with CertFile, makes members require client
	// certificates signed by this CA.
	ClientCAFile string
}

// Start returns the client endpoints of a single-member etcd that lives
// until the test ends, or those in K3_TEST_ETCD_ENDPOINTS when it is set
// (that cluster is shared: write under prefixes of your own).
func Start(tb testing.TB) []string {
	tb.Helper()
	if env := os.Getenv(EnvEndpoints); env != "" {
		return strings.Split(env, ",")
	}
	return New(tb, Config{Direct: true}).Endpoints()
}

// StartCluster runs an n-member cluster until the test ends.
func StartCluster(tb testing.TB, n int) *Cluster {
	tb.Helper()
	return New(tb, Config{Members: n})
}

// New runs the members cfg describes until the test ends.
func New(tb testing.TB, cfg Config) *Cluster {
	tb.Helper()
	c, err := Launch(cfg, tb.TempDir())
	if err != nil {
		tb.Fatalf("etcdtest: %v", err)
	}
	tb.Cleanup(c.Close)
	return c
}

// Cluster is a set of running (or stopped) embedded etcd members.
type Cluster struct {
	cfg     Config
	dir     string
	ownDir  bool // dir was made by Launch and is removed by Close
	members []*member
	token   string // --initial-cluster-token
	initial string // --initial-cluster
	// mu serialises Stop, Restart and Close.
	mu sync.Mutex
}

// member is one etcd server and the proxies in front of it: one for its
// clients (unless direct) and, in clusters, one for its peers, so that Stop
// and Close cut every connection to it at once.
type member struct {
	name      string
	dir       string
	clientURL url.URL // where the server listens for clients
	peerURL   url.URL // where it listens for peers
	proxy     *proxy  // for clients; nil when direct
	peerProxy *proxy  // for peers; nil for a single member
	etcd      *embed.Etcd
}

// advertisedPeerURL is the URL other members use to reach m.
func (m *member) advertisedPeerURL() url.URL {
	u := m.peerURL
	if m.peerProxy != nil {
		u.Host = m.peerProxy.addr
	}
	return u
}

// stopProxies cuts every connection to m.
func (m *member) stopProxies() {
	if m.proxy != nil {
		m.proxy.stop()
	}
	if m.peerProxy != nil {
		m.peerProxy.stop()
	}
}

// Launch starts the members cfg describes, keeping their data under dir
// ("" = a new temporary directory removed by Close). Use it where no
// testing.TB is at hand (TestMain); otherwise New. The caller must Close
// the cluster.
func Launch(cfg Config, dir string) (*Cluster, error) {
	if cfg.Members <= 0 {
		cfg.Members = 1
	}
	if cfg.MaxRequestBytes == 0 {
		cfg.MaxRequestBytes = etcd.ServerMaxRequestBytes
	}
	c := &Cluster{cfg: cfg, dir: dir}
	if dir == "" {
		d, err := os.MkdirTemp("", "etcdtest-")
		if err != nil {
			return nil, err
		}
		c.dir, c.ownDir = d, true
	}
	// Ports are picked by binding port 0 and releasing it, so another
	// process may take one in between: try again with new ports then.
	var err error
	for range 5 {
		if err = c.launch(); err == nil || !errors.Is(err, syscall.EADDRINUSE) {
			break
		}
	}
	if err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// launch makes and starts every member of a new cluster.
func (c *Cluster) launch() error {
	c.closeMembers()
	scheme := "http"
	if c.cfg.CertFile != "" {
		scheme = "https"
	}
	c.token = randomHex()
	c.members = make([]*member, c.cfg.Members)
	var initial []string
	for i := range c.members {
		ports, err := freePorts(2)
		if err != nil {
			return err
		}
		m := &member{
			name:      fmt.Sprintf("m%d", i),
			dir:       fmt.Sprintf("%s/%s-%d", c.dir, c.token, i),
			clientURL: url.URL{Scheme: scheme, Host: fmt.Sprintf("127.0.0.1:%d", ports[0])},
			peerURL:   url.URL{Scheme: "http", Host: fmt.Sprintf("127.0.0.1:%d", ports[1])},
		}
		c.members[i] = m
		if !c.cfg.Direct {
			if m.proxy, err = newProxy(m.clientURL.Host); err != nil {
				return err
			}
		}
		if c.cfg.Members > 1 {
			if m.peerProxy, err = newProxy(m.peerURL.Host); err != nil {
				return err
			}
		}
		u := m.advertisedPeerURL()
		initial = append(initial, m.name+"="+u.String())
	}
	c.initial = strings.Join(initial, ",")
	for _, m := range c.members {
		e, err := c.startMember(m)
		if err != nil {
			return fmt.Errorf("start member %s: %w", m.name, err)
		}
		m.etcd = e
	}
	return c.waitReady(c.members)
}

// startMember starts the server of m (and its peer proxy, which other
// members need while it starts); waitReady starts the client proxy.
func (c *Cluster) startMember(m *member) (*embed.Etcd, error) {
	if m.peerProxy != nil {
		if err := m.peerProxy.start(); err != nil {
			return nil, err
		}
	}
	return embed.StartEtcd(c.config(m))
}

// config returns the embedded server configuration of member m.
func (c *Cluster) config(m *member) *embed.Config {
	cfg := embed.NewConfig()
	cfg.Name = m.name
	cfg.Dir = m.dir
	cfg.ListenClientUrls = []url.URL{m.clientURL}
	cfg.AdvertiseClientUrls = []url.URL{m.clientURL}
	cfg.ListenPeerUrls = []url.URL{m.peerURL}
	cfg.AdvertisePeerUrls = []url.URL{m.advertisedPeerURL()}
	cfg.InitialCluster = c.initial
	cfg.InitialClusterToken = c.token
	cfg.ClusterState = embed.ClusterStateFlagNew // on restart the WAL decides
	cfg.MaxRequestBytes = c.cfg.MaxRequestBytes
	cfg.UnsafeNoFsync = true // test data need not survive a power cut
	cfg.BcryptCost = 4       // bcrypt.MinCost: auth tests need no strong hashes
	cfg.ZapLoggerBuilder = embed.NewZapLoggerBuilder(zap.NewNop())
	cfg.Logger = "zap"
	if c.cfg.CertFile != "" {
		cfg.ClientTLSInfo = transport.TLSInfo{
			CertFile:       c.cfg.CertFile,
			KeyFile:        c.cfg.KeyFile,
			TrustedCAFile:  c.cfg.ClientCAFile,
			ClientCertAuth: c.cfg.ClientCAFile != "",
		}
	}
	return cfg
}

// waitReady waits until each member has joined the cluster and serves.
func (c *Cluster) waitReady(ms []*member) error {
	timeout := time.After(readyTimeout)
	for _, m := range ms {
		select {
		case <-m.etcd.Server.ReadyNotify():
		case err := <-m.etcd.Err():
			return fmt.Errorf("member %s failed: %w", m.name, err)
		case <-timeout:
			return fmt.Errorf("member %s not ready within %v", m.name, readyTimeout)
		}
		if m.proxy != nil {
			if err := m.proxy.start(); err != nil {
				return err
			}
		}
	}
	return nil
}

// Endpoints returns the client URLs of all members, in member order.
func (c *Cluster) Endpoints() []string {
	eps := make([]string, len(c.members))
	for i := range c.members {
		eps[i] = c.Endpoint(i)
	}
	return eps
}

// Endpoint returns the client URL of member i (that of its proxy, unless
// direct).
func (c *Cluster) Endpoint(i int) string {
	m := c.members[i]
	if m.proxy == nil {
		return m.clientURL.String()
	}
	u := m.clientURL
	u.Host = m.proxy.addr
	return u.String()
}

// DataDir returns the directory that holds the members' data.
func (c *Cluster) DataDir() string { return c.dir }

// Size returns the number of members, running or stopped.
func (c *Cluster) Size() int { return len(c.members) }

// Leader returns the index of the member that the running members agree
// leads the cluster, or -1 if there is none at the moment.
func (c *Cluster) Leader() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.leader()
}

func (c *Cluster) leader() int {
	lead := -1
	for _, m := range c.members {
		if m.etcd == nil {
			continue
		}
		id := m.etcd.Server.Leader()
		for j, o := range c.members {
			if o.etcd != nil && o.etcd.Server.MemberID() == id {
				if lead != -1 && lead != j {
					return -1
				}
				lead = j
			}
		}
	}
	return lead
}

// Stop stops member i as an operator would: a leader hands over
// leadership first. Its clients lose their connections at once (unless the
// cluster is direct); its data stays for Restart.
func (c *Cluster) Stop(i int) { c.stop(i, false) }

// Kill stops member i as a crash would: connections to it are cut and its
// server halts without handing over leadership, so the others elect a new
// leader after an election timeout. Its data stays for Restart.
func (c *Cluster) Kill(i int) { c.stop(i, true) }

func (c *Cluster) stop(i int, hard bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	m := c.members[i]
	m.stopProxies()
	if m.etcd != nil {
		if hard {
			m.etcd.Server.HardStop()
		}
		m.etcd.Close()
		m.etcd = nil
	}
}

// Blackhole holds back all traffic between clients and member i, without
// closing a connection, until Heal: a network that fails silently, or a
// frozen server, as the clients see it. The cluster must not be direct.
func (c *Cluster) Blackhole(i int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.members[i].proxy.blackhole()
}

// Heal ends a Blackhole of member i; what was held back is delivered.
func (c *Cluster) Heal(i int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.members[i].proxy.heal()
}

// Restart starts the given stopped members again (all stopped members if
// none are given) on their old ports and data, and waits until they serve.
// Members that need each other for a quorum are started together.
func (c *Cluster) Restart(members ...int) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(members) == 0 {
		for i, m := range c.members {
			if m.etcd == nil {
				members = append(members, i)
			}
		}
	}
	var started []*member
	for _, i := range members {
		m := c.members[i]
		if m.etcd != nil {
			continue
		}
		e, err := c.startMember(m)
		if err != nil {
			return fmt.Errorf("etcdtest: restart member %s: %w", m.name, err)
		}
		m.etcd = e
		started = append(started, m)
	}
	if err := c.waitReady(started); err != nil {
		return fmt.Errorf("etcdtest: restart: %w", err)
	}
	return nil
}

// Close stops every member and removes the data if Launch made the
// directory. Closing twice is harmless.
func (c *Cluster) Close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closeMembers()
	if c.ownDir {
		os.RemoveAll(c.dir)
		c.ownDir = false
	}
}

// closeMembers stops every member. All connections between members and
// to clients are cut first, so that nothing lingers, and the servers stop
// hard, all at once: a graceful stop would have the leader try to hand over
// leadership to members that are going too, for etcd's request timeout.
func (c *Cluster) closeMembers() {
	var wg sync.WaitGroup
	for _, m := range c.members {
		m.stopProxies()
		if e := m.etcd; e != nil {
			wg.Go(func() {
				e.Server.HardStop()
				e.Close()
			})
		}
		m.etcd = nil
	}
	wg.Wait()
}

// EnableAuth turns on etcd authentication: a root user with rootPassword
// and, unless user is "root", a user with password whose role may read and
// write every key. After it, clients must authenticate.
func (c *Cluster) EnableAuth(tb testing.TB, rootPassword, user, password string) {
	tb.Helper()
	if err := EnableAuth(tb.Context(), c.Endpoints(), rootPassword, user, password); err != nil {
		tb.Fatalf("etcdtest: %v", err)
	}
}

// EnableAuth is Cluster.EnableAuth for any cluster reachable at endpoints.
func EnableAuth(ctx context.Context, endpoints []string, rootPassword, user, password string) error {
	cli, err := newClient(endpoints)
	if err != nil {
		return fmt.Errorf("enable auth: %w", err)
	}
	defer cli.Close()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	steps := []func() error{
		func() error { _, err := cli.UserAdd(ctx, "root", rootPassword); return err },
		func() error { _, err := cli.UserGrantRole(ctx, "root", "root"); return err },
	}
	if user != "root" {
		steps = append(steps,
			func() error { _, err := cli.RoleAdd(ctx, "k3"); return err },
			func() error {
				_, err := cli.RoleGrantPermission(ctx, "k3", "\x00", "\x00", clientv3.PermissionType(clientv3.PermReadWrite))
				return err
			},
			func() error { _, err := cli.UserAdd(ctx, user, password); return err },
			func() error { _, err := cli.UserGrantRole(ctx, user, "k3"); return err },
		)
	}
	steps = append(steps, func() error { _, err := cli.AuthEnable(ctx); return err })
	for _, step := range steps {
		if err := step(); err != nil {
			return fmt.Errorf("enable auth: %w", err)
		}
	}
	return nil
}

// freePorts returns n loopback ports that were free a moment ago.
func freePorts(n int) ([]int, error) {
	ports := make([]int, n)
	for i := range ports {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		defer ln.Close()
		ports[i] = ln.Addr().(*net.TCPAddr).Port
	}
	return ports, nil
}

func randomHex() string {
	b := make([]byte, 6)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// Fill writes the n pairs that kv returns for 0 … n-1 to the cluster at
// endpoints, 128 puts to a transaction (etcd's default --max-txn-ops) and
// eight transactions in flight, so that a million keys load in a minute
// rather than the hours of one round trip each. It is for preparing large
// data sets in benchmarks; it returns the first error.
func Fill(ctx context.Context, endpoints []string, n int, kv func(i int) (string, []byte)) error {
	cli, err := newClient(endpoints)
	if err != nil {
		return fmt.Errorf("fill: %w", err)
	}
	defer cli.Close()
	const batch, workers = 128, 8
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	starts := make(chan int)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for start := range starts {
				ops := make([]clientv3.Op, 0, batch)
				for i := start; i < min(start+batch, n); i++ {
					k, v := kv(i)
					ops = append(ops, clientv3.OpPut(k, string(v)))
				}
				if _, err := cli.Txn(ctx).Then(ops...).Commit(); err != nil {
					cancel(fmt.Errorf("fill: keys %d…%d: %w", start, start+len(ops)-1, err))
					return
				}
			}
		})
	}
feed:
	for start := 0; start < n; start += batch {
		select {
		case starts <- start:
		case <-ctx.Done():
			break feed
		}
	}
	close(starts)
	wg.Wait()
	return context.Cause(ctx)
}

// DeletePrefix deletes every key under prefix in the cluster at endpoints
// (all keys for ""), in one request.
func DeletePrefix(ctx context.Context, endpoints []string, prefix string) error {
	cli, err := newClient(endpoints)
	if err != nil {
		return fmt.Errorf("delete %q: %w", prefix, err)
	}
	defer cli.Close()
	if prefix == "" {
		_, err = cli.Delete(ctx, "\x00", clientv3.WithFromKey())
	} else {
		_, err = cli.Delete(ctx, prefix, clientv3.WithPrefix())
	}
	if err != nil {
		return fmt.Errorf("delete %q: %w", prefix, err)
	}
	return nil
}

// newClient is a plain client of the cluster at endpoints, for helpers that
// set it up or fill it.
func newClient(endpoints []string) (*clientv3.Client, error) {
	return clientv3.New(clientv3.Config{Endpoints: endpoints, DialTimeout: 10 * time.Second, Logger: zap.NewNop()})
}
