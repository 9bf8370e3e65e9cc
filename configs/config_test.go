package configs_test

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/k3/k3-storage/configs"
)

func TestExampleLoads(t *testing.T) {
	cfg, err := configs.Load("config-example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Storage.Type != configs.TypeMemory {
		t.Fatalf("example type %q, want memory so that it runs anywhere", cfg.Storage.Type)
	}
	// The example documents every default explicitly; it must agree with them
	// (apart from the example password), so that neither can go stale.
	want := configs.Default()
	want.Storage.MySQL.Password = "password"
	want.Storage.Memory.History = 100000
	if !reflect.DeepEqual(cfg, want) {
		t.Fatalf("example differs from the defaults:\n got %+v\nwant %+v", cfg, want)
	}
	for _, typ := range []string{"mysql", "etcd"} {
		data, _ := os.ReadFile("config-example.yaml")
		switched := strings.Replace(string(data), "type: memory", "type: "+typ, 1)
		cfg, err := configs.Parse("switched.yaml", []byte(switched))
		if err != nil || cfg.Storage.Type != typ {
			t.Fatalf("switching the example to %s with one word: %v", typ, err)
		}
	}
	if got := configs.Example(); string(got) != string(mustRead(t, "config-example.yaml")) {
		t.Fatal("the built-in example differs from configs/config-example.yaml")
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestOriginalFormat(t *testing.T) {
	cfg, err := configs.Parse("orig.yaml", []byte(`
storage:
  type: mysql
  mysql: {host: db.example, port: 3307, user: k3, password: s3cret, database: k3db, max_open_conns: 20, max_idle_conns: 20}
  etcd: {endpoints: [http://10.0.0.1:2379, https://10.0.0.2:2379], dial_timeout: 2s, username: "u", password: "p"}
`))
	if err != nil {
		t.Fatal(err)
	}
	m := cfg.Storage.MySQL
	if m.Host != "db.example" || m.Port != 3307 || m.User != "k3" || m.Password != "s3cret" || m.Database != "k3db" || m.MaxOpenConns != 20 || m.MaxIdleConns != 20 {
		t.Fatalf("mysql section decoded as %+v", m)
	}
	if m.ConnectTimeout != configs.Duration(45*time.Second) || m.Container.Image != "mysql:8.0" {
		t.Fatalf("defaults not kept for fields the file leaves out: %+v", m)
	}
	e := cfg.Storage.Etcd
	if len(e.Endpoints) != 2 || e.DialTimeout != configs.Duration(2*time.Second) || e.Username != "u" || e.Password != "p" {
		t.Fatalf("etcd section decoded as %+v", e)
	}
	if got := cfg.Storage.Address(); got != "db.example:3307/k3db" {
		t.Fatalf("Address() = %q", got)
	}
	cfg.Storage.Type = configs.TypeEtcd
	if got := cfg.Storage.Address(); got != "[http://10.0.0.1:2379 https://10.0.0.2:2379]" {
		t.Fatalf("Address() = %q", got)
	}
}

func TestBadConfigs(t *testing.T) {
	tests := []struct {
		name, yaml string
		want       string // the whole first line of the error, after "bad.yaml"
	}{
		{"unknown type", "storage:\n  type: mysq\n", `:2: storage.type: unknown type "mysq" (want memory, mysql or etcd)`},
		{"type in capitals", "storage:\n  type: MySQL\n", `:2: storage.type: unknown type "MySQL"`},
		{"unknown top-level field", "storage:\n  type: memory\nstorge: {}\n", `:3: storge: unknown field; did you mean storage? (want storage)`},
		{"unknown mysql field", "storage:\n  mysql:\n    hots: x\n", `:3: storage.mysql.hots: unknown field; did you mean host?`},
		{"unknown etcd field", "storage:\n  etcd:\n    endpoint: [http://a:1]\n", `:3: storage.etcd.endpoint: unknown field; did you mean endpoints?`},
		{"unknown field far off", "storage:\n  color: blue\n", `:2: storage.color: unknown field (want type, memory, mysql, etcd)`},
		{"port zero", "storage:\n  mysql:\n    port: 0\n", `:3: storage.mysql.port: 0 is out of range (want 1-65535)`},
		{"port too big", "storage:\n  mysql:\n    port: 65536\n", `:3: storage.mysql.port: 65536 is out of range (want 1-65535)`},
		{"port negative", "storage:\n  mysql:\n    port: -1\n", `:3: storage.mysql.port: -1 is out of range`},
		{"port not a number", "storage:\n  mysql:\n    port: abc\n", `:3: storage.mysql.port: "abc" is not a whole number`},
		{"port huge", "storage:\n  mysql:\n    port: 99999999999999\n", `:3: storage.mysql.port: "99999999999999" is out of range`},
		{"port as list", "storage:\n  mysql:\n    port: [1]\n", `:3: storage.mysql.port: want a single value, got a list`},
		{"idle above open", "storage:\n  mysql:\n    max_open_conns: 5\n    max_idle_conns: 6\n", `:4: storage.mysql.max_idle_conns: 6 is more than max_open_conns (5)`},
		{"open zero", "storage:\n  mysql:\n    max_open_conns: 0\n    max_idle_conns: 0\n", `:3: storage.mysql.max_open_conns: 0 is too small (want at least 1)`},
		{"idle negative", "storage:\n  mysql:\n    max_idle_conns: -2\n", `:3: storage.mysql.max_idle_conns: -2 is negative`},
		{"host with port", "storage:\n  mysql:\n    host: localhost:3306\n", `:3: storage.mysql.host: "localhost:3306" includes a port`},
		{"host url", "storage:\n  mysql:\n    host: mysql://db\n", `:3: storage.mysql.host: "mysql://db" is a URL`},
		{"host empty", "storage:\n  mysql:\n    host: \"\"\n", `:3: storage.mysql.host: must not be empty`},
		{"bad database name", "storage:\n  mysql:\n    database: \"k3; DROP\"\n", `:3: storage.mysql.database: invalid database name "k3; DROP"`},
		{"bad duration", "storage:\n  etcd:\n    dial_timeout: 5 seconds\n", `:3: storage.etcd.dial_timeout: invalid duration "5 seconds" (want a number with a unit`},
		{"duration without unit", "storage:\n  etcd:\n    dial_timeout: 5\n", `:3: storage.etcd.dial_timeout: invalid duration "5": a unit is required (want e.g. 5s or 5ms)`},
		{"negative duration", "storage:\n  etcd:\n    dial_timeout: -1s\n", `:3: storage.etcd.dial_timeout: invalid duration "-1s": must not be negative`},
		{"zero dial timeout", "storage:\n  etcd:\n    dial_timeout: 0s\n", `:3: storage.etcd.dial_timeout: 0s is too short`},
		{"poll too fast", "storage:\n  mysql:\n    poll_interval: 1ms\n", `:3: storage.mysql.poll_interval: 1ms is too short (want at least 10ms)`},
		{"endpoint no scheme", "storage:\n  etcd:\n    endpoints: [127.0.0.1:2379]\n", `:3: storage.etcd.endpoints[0]: malformed URL "127.0.0.1:2379"`},
		{"endpoint bad scheme", "storage:\n  etcd:\n    endpoints:\n      - http://a:1\n      - ftp://b:2\n", `:5: storage.etcd.endpoints[1]: malformed URL "ftp://b:2": unsupported scheme "ftp"`},
		{"endpoint bad port", "storage:\n  etcd:\n    endpoints: [\"http://127.0.0.1:70000\"]\n", `:3: storage.etcd.endpoints[0]: port "70000" in "http://127.0.0.1:70000" is out of range`},
		{"endpoint unparsable", "storage:\n  etcd:\n    endpoints: [\"http://[::1\"]\n", `:3: storage.etcd.endpoints[0]: malformed URL "http://[::1"`},
		{"endpoint with path", "storage:\n  etcd:\n    endpoints: [\"http://a:1/v3\"]\n", `:3: storage.etcd.endpoints[0]: malformed URL "http://a:1/v3": want only scheme, host and port`},
		{"endpoints empty", "storage:\n  etcd:\n    endpoints: []\n", `:3: storage.etcd.endpoints: no endpoints`},
		{"endpoints scalar", "storage:\n  etcd:\n    endpoints: http://a:1\n", `:3: storage.etcd.endpoints: want a list, got "http://a:1"`},
		{"username without password", "storage:\n  etcd:\n    username: root\n", `:3: storage.etcd.username: "root" is set while password is empty`},
		{"password without username", "storage:\n  etcd:\n    password: pw\n", `:3: storage.etcd.password: set while username is empty`},
		{"tls cert without key", "storage:\n  etcd:\n    tls:\n      cert_file: /etc/hostname\n", `:3: storage.etcd.tls: cert_file and key_file must be set together`},
		{"tls missing ca", "storage:\n  etcd:\n    tls:\n      ca_file: /nonexistent/ca.pem\n", `:4: storage.etcd.tls.ca_file: cannot read "/nonexistent/ca.pem": no such file or directory`},
		{"bool not bool", "storage:\n  mysql:\n    container:\n      auto: maybe\n", `:4: storage.mysql.container.auto: "maybe" is not true or false`},
		{"bad container name", "storage:\n  mysql:\n    container:\n      name: \"my db\"\n", `:4: storage.mysql.container.name: invalid container name "my db"`},
		{"empty image", "storage:\n  etcd:\n    container:\n      image: \"\"\n", `:4: storage.etcd.container.image: invalid image reference ""`},
		{"negative history", "storage:\n  memory:\n    history: -5\n", `:3: storage.memory.history: -5 is negative`},
		{"duplicate key", "storage:\n  type: mysql\n  type: etcd\n", `:3: storage.type: set twice (first on line 2)`},
		{"storage scalar", "storage: mysql\n", `:1: storage: want a mapping of settings, got "mysql"`},
		{"top-level list", "- storage\n", `:1: want a mapping of settings, got a list`},
		{"yaml syntax", "storage:\n  type: [memory\n", `:1: YAML syntax error: did not find expected ',' or ']'`},
		{"tab indentation", "storage:\n\ttype: memory\n", `:2: YAML syntax error: found character that cannot start any token`},
		{"empty file", "", `: file is empty`},
		{"only comments", "# nothing here\n", `: file is empty`},
		{"null document", "~\n", `:1: file has no settings`},
		{"two documents", "storage: {}\n---\nstorage: {}\n", `:2: more than one YAML document`},
		{"alias", "a: &x 1\nstorage: *x\n", `:1: a: unknown field`},
	}
	if len(tests) < 25 {
		t.Fatalf("only %d bad inputs", len(tests))
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := configs.Parse("bad.yaml", []byte(tt.yaml))
			if err == nil {
				t.Fatalf("accepted:\n%s", tt.yaml)
			}
			var ce *configs.Error
			if !errors.As(err, &ce) {
				t.Fatalf("error %T is not a *configs.Error: %v", err, err)
			}
			first, _, _ := strings.Cut(err.Error(), "\n")
			if !strings.HasPrefix(first, "bad.yaml"+tt.want) {
				t.Fatalf("error:\n  %s\nwant it to start with:\n  bad.yaml%s", err, tt.want)
			}
		})
	}
}

func TestEveryProblemReported(t *testing.T) {
	_, err := configs.Parse("bad.yaml", []byte("storage:\n  type: x\n  mysql:\n    port: 0\n"))
	var es configs.Errors
	if !errors.As(err, &es) || len(es) != 2 || es[0].Field != "storage.type" || es[1].Field != "storage.mysql.port" || es[1].Line != 4 {
		t.Fatalf("want two errors (type at line 2, port at line 4), got %#v", err)
	}
}

func TestPasswordNeverInErrors(t *testing.T) {
	const secret = "Sup3r-Secret"
	for _, doc := range []string{
		"storage:\n  mysql:\n    password: [" + secret + "]\n",
		"storage:\n  mysql:\n    password: {a: " + secret + "}\n",
		"storage:\n  etcd:\n    password: " + secret + "\n",
		"storage:\n  etcd:\n    endpoints: [\"http://u:" + secret + "@h:1\"]\n",
	} {
		_, err := configs.Parse("bad.yaml", []byte(doc))
		if err == nil {
			t.Fatalf("accepted %q", doc)
		}
		if strings.Contains(err.Error(), secret) {
			t.Fatalf("error shows the password: %v", err)
		}
	}
}

func TestFileErrors(t *testing.T) {
	dir := t.TempDir()
	unreadable := filepath.Join(dir, "secret.yaml")
	if err := os.WriteFile(unreadable, []byte("storage: {}\n"), 0o000); err != nil {
		t.Fatal(err)
	}
	tests := []struct{ path, want string }{
		{filepath.Join(dir, "missing.yaml"), "missing.yaml: no such file"},
		{dir, ": is a directory, not a config file"},
	}
	if os.Geteuid() != 0 { // root reads anything
		tests = append(tests, struct{ path, want string }{unreadable, "secret.yaml: cannot read the file: permission denied"})
	}
	for _, tt := range tests {
		_, err := configs.Load(tt.path)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Load(%q) = %v, want %q", tt.path, err, tt.want)
		}
	}
	if os.Geteuid() == 0 {
		// Make the file unreadable in a way root also respects: a directory
		// in place of a file's parent is not enough, so use a FIFO-free
		// trick: a path through a regular file.
		_, err := configs.Load(filepath.Join(unreadable, "x.yaml"))
		if err == nil || !strings.Contains(err.Error(), "cannot read the file") {
			t.Errorf("Load through a file = %v, want a read error", err)
		}
	}
}

func TestFind(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	env := map[string]string{}
	getenv := func(k string) string { return env[k] }

	src, err := configs.Find("", getenv)
	if err != nil || src.Origin != "built-in" || src.String() != "configs/config-example.yaml (built-in)" {
		t.Fatalf("empty dir: %+v, %v; want the built-in example", src, err)
	}
	cfg, err := configs.LoadSource(src)
	if err != nil || cfg.Storage.Type != "memory" {
		t.Fatalf("loading the built-in example: %v", err)
	}

	write := func(name string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(name, []byte("storage: {type: memory}\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("configs/config-example.yaml")
	if src, _ := configs.Find("", getenv); src.Path != "configs/config-example.yaml" || src.Origin != "example" {
		t.Fatalf("got %+v, want configs/config-example.yaml", src)
	}
	write(".config.yaml")
	if src, _ := configs.Find("", getenv); src.Path != ".config.yaml" {
		t.Fatalf("got %+v, want .config.yaml", src)
	}
	write("env.yaml")
	env["CONFIG_PATH"] = "env.yaml"
	if src, _ := configs.Find("", getenv); src.Path != "env.yaml" || src.Origin != "CONFIG_PATH" {
		t.Fatalf("got %+v, want env.yaml from CONFIG_PATH", src)
	}
	write("flag.yaml")
	if src, _ := configs.Find("flag.yaml", getenv); src.Path != "flag.yaml" || src.Origin != "--config" {
		t.Fatalf("got %+v, want flag.yaml from --config", src)
	}
	if _, err := configs.Find("nope.yaml", getenv); err == nil || err.Error() != "nope.yaml: no such file (named by --config)" {
		t.Fatalf("missing --config file: %v", err)
	}
	env["CONFIG_PATH"] = "gone.yaml"
	if _, err := configs.Find("", getenv); err == nil || err.Error() != "gone.yaml: no such file (named by CONFIG_PATH)" {
		t.Fatalf("missing CONFIG_PATH file: %v", err)
	}
}

func FuzzParse(f *testing.F) {
	f.Add(mustReadF(f, "config-example.yaml"))
	f.Add([]byte("storage: {type: etcd, etcd: {endpoints: [http://a:1]}}"))
	f.Add([]byte("storage:\n  mysql:\n    port: 0x10\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		_, err := configs.Parse("fuzz.yaml", data)
		if err != nil && !strings.HasPrefix(err.Error(), "fuzz.yaml") {
			t.Fatalf("error does not name the file: %v", err)
		}
	})
}

func mustReadF(f *testing.F, path string) []byte {
	data, err := os.ReadFile(path)
	if err != nil {
		f.Fatal(err)
	}
	return data
}
