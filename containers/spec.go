package containers

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"net/netip"
	"path"
	"regexp"
	"strconv"
	"strings"
)

// Paths inside the containers. The etcd data dir is a subdirectory of the
// volume so etcd creates it itself with the 0700 mode it insists on.
const (
	MySQLDataPath = "/var/lib/mysql"
	EtcdMountPath = "/etcd-data"
	EtcdDataDir   = EtcdMountPath + "/data"
	EtcdBinary    = "/usr/local/bin/etcd"
)

// Port publishes ContainerPort on HostIP:HostPort. HostIP must be a loopback
// address (127.0.0.1 or ::1): databases provisioned here are never exposed
// beyond this host.
type Port struct {
	HostIP        string
	HostPort      int
	ContainerPort int
}

// String renders the binding as docker does: 127.0.0.1:3306->3306.
func (p Port) String() string {
	return net.JoinHostPort(p.HostIP, strconv.Itoa(p.HostPort)) + "->" + strconv.Itoa(p.ContainerPort)
}

// Spec describes the container to provision. Build one with MySQLSpec or
// EtcdSpec; the zero value is invalid.
type Spec struct {
	Name   string   // container name; fixed per backend so a later run finds it
	Image  string   // image reference; pulled when not present locally
	Env    []string // KEY=value; values may be secrets and are never printed
	Cmd    []string // command; nil means the image's default
	Ports  []Port   // published ports, loopback only
	Volume string   // named volume holding the data; "" for none
	// MountPath is where Volume is mounted in the container (absolute);
	// required exactly when Volume is set.
	MountPath string
	Backend   string // "mysql" or "etcd"; recorded in a label

	// invalid says why MySQLSpec or EtcdSpec could not build a valid spec
	// from its params (a required param missing); Validate reports it.
	// "" for none, as in every spec built by hand.
	invalid string
}

// String describes the spec for logs with env values redacted.
func (s Spec) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, txtSpec, s.Backend, s.Name, s.Image)
	for _, p := range s.Ports {
		fmt.Fprintf(&b, txtSpecPort, p)
	}
	if s.Volume != "" {
		fmt.Fprintf(&b, txtSpecVolume, s.Volume, s.MountPath)
	}
	if len(s.Env) > 0 {
		b.WriteString(txtSpecEnv)
		for _, kv := range s.Env {
			k, _, _ := strings.Cut(kv, "=")
			fmt.Fprintf(&b, txtSpecEnvValue, k)
		}
	}
	return b.String()
}

// GoString keeps %#v from printing env values.
func (s Spec) GoString() string { return "containers.Spec{" + s.String() + "}" }

// Hash is a digest of everything that shapes the container: image, env, cmd,
// ports, volume and mount path. It is stored in a label so an orphan built
// from another spec is recreated rather than adopted. Env values enter it
// only through SHA-256.
func (s Spec) Hash() string {
	canon := struct {
		V         int
		Image     string
		Env       []string
		Cmd       []string
		Ports     []Port
		Volume    string
		MountPath string
	}{1, s.Image, s.Env, s.Cmd, s.Ports, s.Volume, s.MountPath}
	data, err := json.Marshal(canon)
	if err != nil { // cannot happen: plain strings and ints
		panic(err)
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

var containerName = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_.-]*$`)

// Validate reports an error wrapping ErrInvalidSpec if s cannot be
// provisioned safely. It never mentions env values.
func (s Spec) Validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf(errInvalidSpec, ErrInvalidSpec, s.Name, fmt.Sprintf(format, args...))
	}
	if s.invalid != "" {
		return bad("%s", s.invalid)
	}
	if !containerName.MatchString(s.Name) {
		return bad(txtBadName, containerName)
	}
	if !containerName.MatchString(s.Volume) && s.Volume != "" {
		return bad(txtBadVolumeName, s.Volume, containerName)
	}
	if strings.TrimSpace(s.Image) == "" {
		return bad(txtNoImage)
	}
	if (s.Volume == "") != (s.MountPath == "") {
		return bad(txtVolumeMount, s.Volume, s.MountPath)
	}
	if s.MountPath != "" && (!path.IsAbs(s.MountPath) || path.Clean(s.MountPath) == "/") {
		return bad(txtBadMountPath, s.MountPath)
	}
	for i, kv := range s.Env {
		if k, _, ok := strings.Cut(kv, "="); !ok || k == "" {
			return bad(txtBadEnv, i)
		}
	}
	seen := map[string]bool{}
	for _, p := range s.Ports {
		ip, err := netip.ParseAddr(p.HostIP)
		if err != nil || !ip.IsLoopback() {
			return bad(txtNotLoopback, p.HostPort, p.HostIP)
		}
		if p.HostPort < 1 || p.HostPort > 65535 || p.ContainerPort < 1 || p.ContainerPort > 65535 {
			return bad(txtPortRange, p)
		}
		key := strconv.Itoa(p.ContainerPort)
		if seen[key] {
			return bad(txtPortTwice, p.ContainerPort)
		}
		seen[key] = true
	}
	return nil
}

// Loopback maps a configured database host to the loopback address its
// container's ports are published on: "localhost" and "127.0.0.1" give
// "127.0.0.1", "::1" (or "[::1]") gives "::1". ok is false for any other host:
// such a database is only connected to, never provisioned.
func Loopback(host string) (ip string, ok bool) {
	switch strings.ToLower(strings.Trim(host, "[]")) {
	case "localhost", "127.0.0.1":
		return "127.0.0.1", true
	case "::1":
		return "::1", true
	}
	return "", false
}

// MySQLParams are the inputs of MySQLSpec. Image and Password are required
// (the caller's configuration holds their defaults); the other zero values
// are filled in as noted.
type MySQLParams struct {
	Name     string // container name
	Image    string // image reference; required
	Volume   string // "" means Name + "-data"
	HostIP   string // "" means 127.0.0.1
	Port     int    // host port; 0 means 3306
	User     string // "" or "root": only the root account is set up
	Password string // root's password (and User's); required, never defaulted
	Database string // created on first start; "" for none
}

// MySQLSpec returns the spec of a MySQL container following the official
// image's conventions: MYSQL_ROOT_PASSWORD is the configured password,
// MYSQL_DATABASE the database, and MYSQL_USER and MYSQL_PASSWORD are set
// when the user is not root. The server listens on 3306 in the container,
// published on HostIP:Port; data lives in Volume at /var/lib/mysql.
//
// An empty Image or Password gives a spec that Validate (and so Ensure)
// rejects with ErrInvalidSpec: neither is ever defaulted here.
func MySQLSpec(p MySQLParams) Spec {
	if p.Volume == "" {
		p.Volume = p.Name + "-data"
	}
	if p.HostIP == "" {
		p.HostIP = "127.0.0.1"
	}
	if p.Port == 0 {
		p.Port = 3306
	}
	env := []string{"MYSQL_ROOT_PASSWORD=" + p.Password}
	if p.Database != "" {
		env = append(env, "MYSQL_DATABASE="+p.Database)
	}
	if p.User != "" && p.User != "root" {
		env = append(env, "MYSQL_USER="+p.User, "MYSQL_PASSWORD="+p.Password)
	}
	s := Spec{
		Name:      p.Name,
		Image:     p.Image,
		Env:       env,
		Ports:     []Port{{HostIP: p.HostIP, HostPort: p.Port, ContainerPort: 3306}},
		Volume:    p.Volume,
		MountPath: MySQLDataPath,
		Backend:   "mysql",
	}
	if p.Password == "" {
		s.invalid = txtNoRootPassword
	}
	return s
}

// EtcdParams are the inputs of EtcdSpec. Image and MaxRequestBytes are
// required (the caller holds their values); the other zero values are
// filled in as noted.
type EtcdParams struct {
	Name       string // container name; also the member name and cluster token
	Image      string // image reference whose etcd is /usr/local/bin/etcd; required
	Volume     string // "" means Name + "-data"
	HostIP     string // "" means 127.0.0.1
	ClientPort int    // client port from the endpoint; 0 means 2379
	// MaxRequestBytes is etcd's --max-request-bytes: the largest request
	// the server accepts, which bounds the largest value a client can
	// write. Required, > 0; the etcd adapter knows what it needs.
	MaxRequestBytes int
}

// EtcdPeerPort is the peer port of a single-member cluster whose client port
// is clientPort: 2380, or clientPort+1 when the client port is not 2379 (so
// two such clusters side by side do not collide).
func EtcdPeerPort(clientPort int) int {
	if clientPort == 2379 {
		return 2380
	}
	return clientPort + 1
}

// EtcdSpec returns the spec of a single-member etcd cluster. Inside the
// container etcd listens on 0.0.0.0 on the same client port as on the host,
// so the advertised client URL http://HostIP:ClientPort is right from both
// sides; only the client port is published (a single member gets no peer
// traffic). Data lives in Volume, under /etcd-data/data.
//
// An empty Image or a MaxRequestBytes <= 0 gives a spec that Validate (and
// so Ensure) rejects with ErrInvalidSpec: neither is ever defaulted here.
func EtcdSpec(p EtcdParams) Spec {
	if p.Volume == "" {
		p.Volume = p.Name + "-data"
	}
	if p.HostIP == "" {
		p.HostIP = "127.0.0.1"
	}
	if p.ClientPort == 0 {
		p.ClientPort = 2379
	}
	peer := EtcdPeerPort(p.ClientPort)
	url := func(host string, port int) string {
		return "http://" + net.JoinHostPort(host, strconv.Itoa(port))
	}
	member := p.Name
	if member == "" {
		member = "default"
	}
	s := Spec{
		Name:  p.Name,
		Image: p.Image,
		Cmd: []string{
			EtcdBinary,
			"--name=" + member,
			"--data-dir=" + EtcdDataDir,
			"--listen-client-urls=" + url("0.0.0.0", p.ClientPort),
			"--advertise-client-urls=" + url(p.HostIP, p.ClientPort),
			"--listen-peer-urls=" + url("0.0.0.0", peer),
			"--initial-advertise-peer-urls=" + url("127.0.0.1", peer),
			"--initial-cluster=" + member + "=" + url("127.0.0.1", peer),
			"--initial-cluster-state=new",
			"--initial-cluster-token=" + member,
			"--max-request-bytes=" + strconv.Itoa(p.MaxRequestBytes),
		},
		Ports:     []Port{{HostIP: p.HostIP, HostPort: p.ClientPort, ContainerPort: p.ClientPort}},
		Volume:    p.Volume,
		MountPath: EtcdMountPath,
		Backend:   "etcd",
	}
	if p.MaxRequestBytes <= 0 {
		s.invalid = fmt.Sprintf(txtMaxRequestBytes, p.MaxRequestBytes)
	}
	return s
}
