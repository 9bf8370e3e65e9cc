package containers

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/docker/docker/client"
)

// PingTimeout bounds the ping that verifies a runtime candidate.
const PingTimeout = 2 * time.Second

// DefaultPullStallTimeout is how long a pull may go without any message
// from the daemon before it is given up (see WithPullStallTimeout).
const DefaultPullStallTimeout = 60 * time.Second

// Client talks to one Docker-compatible engine. Make one with Discover or
// NewClient; Close it when done: Close releases the locks that mark the
// containers this client created or adopted as taken (see DefaultLockDir).
// Its methods are safe for concurrent use.
type Client struct {
	api        *client.Client
	address    string
	apiVersion string
	local      bool
	tls        *tls.Config
	owner      Owner
	lockDir    string
	// pullStall: a pull with no daemon message for this long is cancelled.
	pullStall time.Duration
	// ownerWait bounds how long Ensure waits for a container that another
	// live k3-storage process has created but not started yet.
	ownerWait time.Duration
	// cleanupTimeout bounds the removal of what a failed Ensure created;
	// it runs even when the caller's context is already cancelled.
	cleanupTimeout time.Duration

	mu sync.Mutex
	// locks holds the lock file of every container this client created or
	// adopted and has not removed yet, by container ID.
	locks map[string]*os.File
}

// Option configures a Client.
type Option func(*Client)

// WithOwner sets the identity recorded in the labels of containers this
// client creates and compared with the labels of existing ones. The default
// is CurrentOwner(). Embedders and tests use it to act on behalf of another
// process.
func WithOwner(o Owner) Option { return func(c *Client) { c.owner = o } }

// WithOwnerWait sets how long Ensure waits for a container that another live
// k3-storage process created but has not started yet (default 30 s).
func WithOwnerWait(d time.Duration) Option { return func(c *Client) { c.ownerWait = d } }

// WithLockDir sets the directory of the container locks (default
// DefaultLockDir). Every k3-storage process of the host must use the same
// one, or two of them may adopt the same orphan.
func WithLockDir(dir string) Option { return func(c *Client) { c.lockDir = dir } }

// WithPullStallTimeout sets how long a pull may go without any message from
// the daemon before Ensure cancels it with a *PullError wrapping
// ErrPullStalled (default DefaultPullStallTimeout; 0 or less: never). A
// registry that accepts connections but does not answer otherwise keeps a
// pull waiting for minutes.
func WithPullStallTimeout(d time.Duration) Option { return func(c *Client) { c.pullStall = d } }

// WithTLSConfig makes the client speak TLS to a tcp:// address with cfg
// (client certificate, CA pool, verification); other addresses ignore it.
// Discover sets it from DOCKER_TLS_VERIFY and DOCKER_CERT_PATH for a tcp
// DOCKER_HOST.
func WithTLSConfig(cfg *tls.Config) Option { return func(c *Client) { c.tls = cfg } }

// NewClient connects to the engine at address (unix:///path or tcp://host:port)
// and verifies it with a ping bounded by PingTimeout and ctx. The API version
// is negotiated with the engine.
func NewClient(ctx context.Context, address string, opts ...Option) (*Client, error) {
	c := &Client{
		address:        address,
		local:          isLocalAddress(address),
		owner:          CurrentOwner(),
		lockDir:        DefaultLockDir,
		pullStall:      DefaultPullStallTimeout,
		ownerWait:      30 * time.Second,
		cleanupTimeout: 30 * time.Second,
		locks:          map[string]*os.File{},
	}
	for _, o := range opts {
		o(c)
	}
	copts := []client.Opt{client.WithAPIVersionNegotiation()}
	if c.tls != nil && strings.HasPrefix(address, "tcp://") {
		copts = append(copts, client.WithHTTPClient(&http.Client{
			Transport:     &http.Transport{TLSClientConfig: c.tls},
			CheckRedirect: client.CheckRedirect,
		}))
	}
	copts = append(copts, client.WithHost(address))
	api, err := client.NewClientWithOpts(copts...)
	if err != nil {
		return nil, fmt.Errorf(errDockerClient, address, err)
	}
	ctx, cancel := context.WithTimeout(ctx, PingTimeout)
	defer cancel()
	ping, err := api.Ping(ctx)
	if err != nil {
		api.Close()
		return nil, fmt.Errorf(errPing, address, err)
	}
	if ping.APIVersion == "" {
		api.Close()
		return nil, fmt.Errorf(errPing, address, errNoDockerAPI)
	}
	api.NegotiateAPIVersionPing(ping)
	c.api, c.apiVersion = api, api.ClientVersion()
	return c, nil
}

// errNoDockerAPI: something answered but not as a Docker Engine API.
var errNoDockerAPI = errors.New(txtErrNoDockerAPI)

// Address is the engine's address, e.g. unix:///var/run/docker.sock.
func (c *Client) Address() string { return c.address }

// APIVersion is the API version negotiated with the engine, e.g. "1.41".
func (c *Client) APIVersion() string { return c.apiVersion }

// Owner is the identity this client records on the containers it creates.
func (c *Client) Owner() Owner { return c.owner }

// Local reports whether the engine runs on this machine, so that the ports
// it publishes on the loopback address are reachable here: a unix socket
// (or a Windows named pipe), or tcp to a loopback address. A remote daemon
// (tcp://otherhost:2376) would create the database on the other machine's
// loopback while this process checks and connects to its own: callers must
// not provision containers through it.
func (c *Client) Local() bool { return c.local }

func isLocalAddress(address string) bool {
	u, err := client.ParseHostURL(address)
	if err != nil {
		return false
	}
	switch u.Scheme {
	case "unix", "npipe":
		return true
	case "tcp", "http", "https":
		host := u.Hostname()
		if host == "localhost" {
			return true
		}
		ip := net.ParseIP(host)
		return ip != nil && ip.IsLoopback()
	}
	return false
}

// Close releases the connection and the locks of the containers this
// client created or adopted, which stay as they are: a later process sees
// them as orphans and may adopt them. Call Remove first to remove them.
func (c *Client) Close() error {
	c.mu.Lock()
	for id, f := range c.locks {
		f.Close()
		delete(c.locks, id)
	}
	c.mu.Unlock()
	return c.api.Close()
}

// keepLock records f, holding the lock of container id, as this client's.
func (c *Client) keepLock(id string, f *os.File) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if old, ok := c.locks[id]; ok && old != f {
		old.Close()
	}
	c.locks[id] = f
}

// holdsLock reports whether this client holds the lock of container id.
func (c *Client) holdsLock(id string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, ok := c.locks[id]
	return ok
}

// releaseLock lets go of the lock of container id, if this client holds it.
// gone says the container no longer exists, so its lock file is removed
// too (before the lock is released: nobody can lock it afresh).
func (c *Client) releaseLock(id string, gone bool) {
	c.mu.Lock()
	f, ok := c.locks[id]
	delete(c.locks, id)
	c.mu.Unlock()
	if !ok {
		return
	}
	if gone {
		_ = os.Remove(f.Name())
	}
	f.Close()
}
