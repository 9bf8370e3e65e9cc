package containers

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
)

func TestMySQLSpecEnv(t *testing.T) {
	tests := []struct {
		name string
		p    MySQLParams
		want []string
	}{
		{"root with password and database", MySQLParams{Name: "m", User: "root", Password: "pw", Database: "k3"},
			[]string{"MYSQL_ROOT_PASSWORD=pw", "MYSQL_DATABASE=k3"}},
		{"empty user means root", MySQLParams{Name: "m", Password: "pw"},
			[]string{"MYSQL_ROOT_PASSWORD=pw"}},
		{"non-root user gets the password too", MySQLParams{Name: "m", User: "app", Password: "pw", Database: "k3"},
			[]string{"MYSQL_ROOT_PASSWORD=pw", "MYSQL_DATABASE=k3", "MYSQL_USER=app", "MYSQL_PASSWORD=pw"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := MySQLSpec(tt.p)
			if !slices.Equal(s.Env, tt.want) {
				t.Errorf("Env = %q, want %q", s.Env, tt.want)
			}
		})
	}
}

func TestMySQLSpecDefaults(t *testing.T) {
	s := MySQLSpec(MySQLParams{Name: "k3-mysql", Image: "mysql:8.0", Password: "pw"})
	want := Spec{
		Name: "k3-mysql", Image: "mysql:8.0", Env: []string{"MYSQL_ROOT_PASSWORD=pw"},
		Ports:  []Port{{HostIP: "127.0.0.1", HostPort: 3306, ContainerPort: 3306}},
		Volume: "k3-mysql-data", MountPath: "/var/lib/mysql", Backend: "mysql",
	}
	if fmt.Sprint(s.Ports) != fmt.Sprint(want.Ports) || s.Name != want.Name || s.Image != want.Image ||
		s.Volume != want.Volume || s.MountPath != want.MountPath || s.Backend != want.Backend || s.Cmd != nil {
		t.Errorf("MySQLSpec defaults = %v, want %v", s, want)
	}
	if err := s.Validate(); err != nil {
		t.Errorf("Validate: %v", err)
	}
	s = MySQLSpec(MySQLParams{Name: "m", HostIP: "::1", Port: 13306, Image: "mariadb:11", Volume: "v", Password: "pw"})
	if got := s.Ports[0]; got != (Port{HostIP: "::1", HostPort: 13306, ContainerPort: 3306}) || s.Image != "mariadb:11" || s.Volume != "v" {
		t.Errorf("MySQLSpec overrides = %v", s)
	}
	if err := s.Validate(); err != nil {
		t.Errorf("Validate: %v", err)
	}
}

// The image and the root password come from the caller's configuration:
// MySQLSpec and EtcdSpec default neither, and a spec without them is
// invalid.
func TestSpecRequiredParams(t *testing.T) {
	tests := []struct {
		name string
		spec Spec
		want string // what the error names
	}{
		{"mysql without password", MySQLSpec(MySQLParams{Name: "m", Image: "mysql:8.0"}), "MYSQL_ROOT_PASSWORD"},
		{"mysql without password, user app", MySQLSpec(MySQLParams{Name: "m", Image: "mysql:8.0", User: "app"}), "MYSQL_ROOT_PASSWORD"},
		{"mysql without image", MySQLSpec(MySQLParams{Name: "m", Password: "pw"}), "没有指定镜像"},
		{"etcd without image", EtcdSpec(EtcdParams{Name: "e", MaxRequestBytes: 1 << 20}), "没有指定镜像"},
		{"etcd without max request bytes", EtcdSpec(EtcdParams{Name: "e", Image: "etcd:1"}), "--max-request-bytes 为 0"},
		{"etcd with negative max request bytes", EtcdSpec(EtcdParams{Name: "e", Image: "etcd:1", MaxRequestBytes: -1}), "--max-request-bytes 为 -1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.spec.Validate()
			if !errors.Is(err, ErrInvalidSpec) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Validate = %v, want ErrInvalidSpec naming %s", err, tt.want)
			}
			for _, kv := range tt.spec.Env {
				if kv == "MYSQL_ROOT_PASSWORD=password" {
					t.Errorf("env %q: the password was defaulted", kv)
				}
			}
		})
	}
}

func flag(cmd []string, name string) (string, bool) {
	for _, a := range cmd {
		if v, ok := strings.CutPrefix(a, "--"+name+"="); ok {
			return v, true
		}
	}
	return "", false
}

func TestEtcdSpec(t *testing.T) {
	tests := []struct {
		name               string
		p                  EtcdParams
		client, peer       int
		advertise, peerURL string
	}{
		{"default ports", EtcdParams{Name: "k3-etcd"}, 2379, 2380, "http://127.0.0.1:2379", "http://127.0.0.1:2380"},
		{"other client port takes the next as peer", EtcdParams{Name: "e", ClientPort: 12379}, 12379, 12380, "http://127.0.0.1:12379", "http://127.0.0.1:12380"},
		{"ipv6 loopback", EtcdParams{Name: "e", HostIP: "::1", ClientPort: 2379}, 2379, 2380, "http://[::1]:2379", "http://127.0.0.1:2380"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := tt.p
			p.Image, p.MaxRequestBytes = "quay.io/coreos/etcd:v3.5.0", 2621440
			s := EtcdSpec(p)
			if err := s.Validate(); err != nil {
				t.Fatalf("Validate: %v", err)
			}
			if s.Cmd[0] != "/usr/local/bin/etcd" || s.Image != p.Image || s.Backend != "etcd" {
				t.Errorf("cmd[0] %q image %q backend %q", s.Cmd[0], s.Image, s.Backend)
			}
			if len(s.Ports) != 1 || s.Ports[0].HostPort != tt.client || s.Ports[0].ContainerPort != tt.client {
				t.Errorf("Ports = %v, want client port %d published as is", s.Ports, tt.client)
			}
			member := tt.p.Name
			want := map[string]string{
				"name":                        member,
				"data-dir":                    "/etcd-data/data",
				"listen-client-urls":          "http://0.0.0.0:" + strconv.Itoa(tt.client),
				"advertise-client-urls":       tt.advertise,
				"listen-peer-urls":            "http://0.0.0.0:" + strconv.Itoa(tt.peer),
				"initial-advertise-peer-urls": tt.peerURL,
				"initial-cluster":             member + "=" + tt.peerURL,
				"initial-cluster-state":       "new",
			}
			for f, v := range want {
				if got, ok := flag(s.Cmd, f); !ok || got != v {
					t.Errorf("--%s = %q (present %v), want %q", f, got, ok, v)
				}
			}
			if !strings.HasPrefix(EtcdDataDir, s.MountPath+"/") {
				t.Errorf("data dir %s is not on the volume mounted at %s", EtcdDataDir, s.MountPath)
			}
			if mrb, _ := flag(s.Cmd, "max-request-bytes"); mrb != "2621440" {
				t.Errorf("--max-request-bytes = %q, want the caller's 2621440", mrb)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	good := EtcdSpec(EtcdParams{Name: "k3-etcd", Image: "etcd:1", MaxRequestBytes: 1 << 20})
	tests := []struct {
		name   string
		mutate func(*Spec)
	}{
		{"empty name", func(s *Spec) { s.Name = "" }},
		{"name with slash", func(s *Spec) { s.Name = "a/b" }},
		{"empty image", func(s *Spec) { s.Image = " " }},
		{"all interfaces", func(s *Spec) { s.Ports[0].HostIP = "0.0.0.0" }},
		{"empty host ip", func(s *Spec) { s.Ports[0].HostIP = "" }},
		{"ipv6 any", func(s *Spec) { s.Ports[0].HostIP = "::" }},
		{"lan address", func(s *Spec) { s.Ports[0].HostIP = "192.168.1.10" }},
		{"host name", func(s *Spec) { s.Ports[0].HostIP = "localhost" }},
		{"port zero", func(s *Spec) { s.Ports[0].HostPort = 0 }},
		{"port too large", func(s *Spec) { s.Ports[0].ContainerPort = 70000 }},
		{"volume without mount path", func(s *Spec) { s.MountPath = "" }},
		{"mount path without volume", func(s *Spec) { s.Volume = "" }},
		{"relative mount path", func(s *Spec) { s.MountPath = "data" }},
		{"mount at root", func(s *Spec) { s.MountPath = "/" }},
		{"env without =", func(s *Spec) { s.Env = []string{"SECRET"} }},
		{"port published twice", func(s *Spec) { s.Ports = append(s.Ports, s.Ports[0]) }},
	}
	if err := good.Validate(); err != nil {
		t.Fatalf("good spec: %v", err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := good
			s.Ports = slices.Clone(good.Ports)
			tt.mutate(&s)
			if err := s.Validate(); !errors.Is(err, ErrInvalidSpec) {
				t.Errorf("Validate = %v, want ErrInvalidSpec", err)
			}
		})
	}
	s := good
	s.Ports = []Port{{HostIP: "::1", HostPort: 1, ContainerPort: 1}}
	if err := s.Validate(); err != nil {
		t.Errorf("::1 rejected: %v", err)
	}
}

func TestSpecHash(t *testing.T) {
	a := MySQLSpec(MySQLParams{Name: "m", Password: "one"})
	if a.Hash() != MySQLSpec(MySQLParams{Name: "m", Password: "one"}).Hash() {
		t.Error("hash of equal specs differs")
	}
	if len(a.Hash()) != 64 {
		t.Errorf("hash %q is not hex SHA-256", a.Hash())
	}
	changes := map[string]Spec{
		"password": MySQLSpec(MySQLParams{Name: "m", Password: "two"}),
		"image":    MySQLSpec(MySQLParams{Name: "m", Password: "one", Image: "mysql:8.4"}),
		"port":     MySQLSpec(MySQLParams{Name: "m", Password: "one", Port: 3307}),
		"volume":   MySQLSpec(MySQLParams{Name: "m", Password: "one", Volume: "other"}),
	}
	for what, b := range changes {
		if a.Hash() == b.Hash() {
			t.Errorf("changing the %s keeps the hash", what)
		}
	}
	c := a
	c.Cmd = []string{"mysqld", "--x"}
	if a.Hash() == c.Hash() {
		t.Error("changing the command keeps the hash")
	}
	if strings.Contains(a.Hash(), "one") {
		t.Error("hash contains the password")
	}
}

func TestSpecStringRedactsEnv(t *testing.T) {
	const secret = "hunter2-Zq9"
	s := MySQLSpec(MySQLParams{Name: "m", User: "app", Password: secret})
	for _, out := range []string{s.String(), fmt.Sprint(s), fmt.Sprintf("%v", s), fmt.Sprintf("%+v", s), fmt.Sprintf("%#v", s), fmt.Sprint(&s), fmt.Sprintf("%v", []Spec{s})} {
		if strings.Contains(out, secret) {
			t.Errorf("spec rendering leaks the password: %s", out)
		}
		if !strings.Contains(out, "MYSQL_ROOT_PASSWORD=<已隐藏>") {
			t.Errorf("spec rendering does not name the env keys: %s", out)
		}
	}
}

func TestLoopback(t *testing.T) {
	tests := []struct {
		host string
		ip   string
		ok   bool
	}{
		{"localhost", "127.0.0.1", true},
		{"LOCALHOST", "127.0.0.1", true},
		{"127.0.0.1", "127.0.0.1", true},
		{"::1", "::1", true},
		{"[::1]", "::1", true},
		{"db.example.com", "", false},
		{"10.0.0.5", "", false},
		{"0.0.0.0", "", false},
		{"", "", false},
	}
	for _, tt := range tests {
		ip, ok := Loopback(tt.host)
		if ip != tt.ip || ok != tt.ok {
			t.Errorf("Loopback(%q) = %q, %v; want %q, %v", tt.host, ip, ok, tt.ip, tt.ok)
		}
	}
}
