package containers

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/docker/docker/client"
)

// PingTimeout bounds the ping that verifies a runtime candidate.
const PingTimeout = 2 * time.Second

// Client talks to one Docker-compatible engine. Make one with Discover or
// NewClient; Close it when done. Its methods are safe for concurrent use.
type Client struct {
	api        *client.Client
	address    string
	apiVersion string
	owner      Owner
	// ownerWait bounds how long Ensure waits for a container that another
	// live k3-storage process has created but not started yet.
	ownerWait time.Duration
	// cleanupTimeout bounds the removal of what a failed Ensure created;
	// it runs even when the caller's context is already cancelled.
	cleanupTimeout time.Duration
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

// NewClient connects to the engine at address (unix:///path or tcp://host:port)
// and verifies it with a ping bounded by PingTimeout and ctx. The API version
// is negotiated with the engine.
func NewClient(ctx context.Context, address string, opts ...Option) (*Client, error) {
	api, err := client.NewClientWithOpts(client.WithHost(address), client.WithAPIVersionNegotiation())
	if err != nil {
		return nil, fmt.Errorf("docker client for %s: %w", address, err)
	}
	ctx, cancel := context.WithTimeout(ctx, PingTimeout)
	defer cancel()
	ping, err := api.Ping(ctx)
	if err != nil {
		api.Close()
		return nil, fmt.Errorf("ping %s: %w", address, err)
	}
	if ping.APIVersion == "" {
		api.Close()
		return nil, fmt.Errorf("ping %s: %w", address, errNoDockerAPI)
	}
	api.NegotiateAPIVersionPing(ping)
	c := &Client{
		api:            api,
		address:        address,
		apiVersion:     api.ClientVersion(),
		owner:          CurrentOwner(),
		ownerWait:      30 * time.Second,
		cleanupTimeout: 30 * time.Second,
	}
	for _, o := range opts {
		o(c)
	}
	return c, nil
}

// errNoDockerAPI: something answered but not as a Docker Engine API.
var errNoDockerAPI = errors.New("answered without a Docker API version: not a Docker Engine API")

// Address is the engine's address, e.g. unix:///var/run/docker.sock.
func (c *Client) Address() string { return c.address }

// APIVersion is the API version negotiated with the engine, e.g. "1.41".
func (c *Client) APIVersion() string { return c.apiVersion }

// Owner is the identity this client records on the containers it creates.
func (c *Client) Owner() Owner { return c.owner }

// Close releases the connection. Containers are not touched.
func (c *Client) Close() error { return c.api.Close() }
