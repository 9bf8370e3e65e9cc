package configs_test

import (
	"bytes"
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/k3/k3-storage/configs"
)

func TestExampleLoads(t *testing.T) {
	cfg, warns, err := configs.Load("config-example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(warns) != 0 {
		t.Fatalf("the example warns: %q", warns)
	}
	if cfg.Storage.Type != configs.TypeMemory {
		t.Fatalf("example type %q, want memory so that it runs anywhere", cfg.Storage.Type)
	}
	// The example documents every default explicitly; it must agree with them
	// (apart from the example password), so that neither can go stale.
	want := configs.Default()
	want.Storage.MySQL.Password = "password"
	if !reflect.DeepEqual(cfg, want) {
		t.Fatalf("example differs from the defaults:\n got %+v\nwant %+v", cfg, want)
	}
	for _, typ := range []string{"mysql", "etcd"} {
		data, _ := os.ReadFile("config-example.yaml")
		switched := strings.Replace(string(data), "type: memory", "type: "+typ, 1)
		cfg, _, err := configs.Parse("switched.yaml", []byte(switched))
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

// TestDefaultsComplete: Default is the one home of the defaults, so it sets
// every field, except those whose documented default is the zero value.
func TestDefaultsComplete(t *testing.T) {
	zeroByDesign := map[string]bool{
		"Storage.MySQL.Password":              true,
		"Storage.Etcd.Username":               true,
		"Storage.Etcd.Password":               true,
		"Storage.Etcd.TLS.CAFile":             true,
		"Storage.Etcd.TLS.CertFile":           true,
		"Storage.Etcd.TLS.KeyFile":            true,
		"Storage.Etcd.TLS.ServerName":         true,
		"Storage.Etcd.TLS.InsecureSkipVerify": true,
		"Storage.MySQL.TLS.CAFile":            true,
		"Storage.MySQL.TLS.CertFile":          true,
		"Storage.MySQL.TLS.KeyFile":           true,
		"Storage.MySQL.TLS.ServerName":        true,
		"Storage.MySQL.Container.PurgeVolume": true,
		"Storage.Etcd.Container.PurgeVolume":  true,
		"Storage.MySQL.Native.DataDir":        true,
		"Storage.MySQL.Native.Binary":         true,
		"Storage.Etcd.Native.DataDir":         true,
	}
	var walk func(path string, v reflect.Value)
	leaves := 0
	walk = func(path string, v reflect.Value) {
		if v.Kind() == reflect.Struct {
			for i := range v.NumField() {
				walk(strings.TrimPrefix(path+"."+v.Type().Field(i).Name, "."), v.Field(i))
			}
			return
		}
		leaves++
		if v.IsZero() != zeroByDesign[path] {
			t.Errorf("Default().%s = %#v; zero by design: %v", path, v.Interface(), zeroByDesign[path])
		}
	}
	walk("", reflect.ValueOf(configs.Default()))
	if leaves < 30 {
		t.Fatalf("walked only %d fields", leaves)
	}
}

// TestDefaultsDocumented: every setting's doc comment (or its group's, or
// its type's) states its default.
func TestDefaultsDocumented(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), "config.go", nil, parser.ParseComments)
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, decl := range f.Decls {
		gen, ok := decl.(*ast.GenDecl)
		if !ok || gen.Tok != token.TYPE {
			continue
		}
		st, ok := gen.Specs[0].(*ast.TypeSpec).Type.(*ast.StructType)
		if !ok {
			continue
		}
		typeDoc := gen.Doc.Text()
		groupDoc := ""
		for _, field := range st.Fields.List {
			if field.Doc != nil {
				groupDoc = field.Doc.Text()
			}
			if id, ok := field.Type.(*ast.Ident); ok && id.Obj != nil && id.Name != "Duration" {
				continue // a section: its type is checked itself
			}
			checked++
			if !strings.Contains(groupDoc+typeDoc, "efault") {
				t.Errorf("%s.%s: no default documented", gen.Specs[0].(*ast.TypeSpec).Name, field.Names[0])
			}
		}
	}
	if checked < 25 {
		t.Fatalf("checked only %d fields", checked)
	}
}

func TestOriginalFormat(t *testing.T) {
	cfg, warns, err := configs.Parse("orig.yaml", []byte(`
storage:
  type: mysql
  mysql: {host: db.example, port: 3307, user: k3, password: s3cret, database: k3db, max_open_conns: 20, max_idle_conns: 20}
  etcd: {endpoints: [http://10.0.0.1:2379, https://10.0.0.2:2379], dial_timeout: 2s, username: "u", password: "p"}
`))
	if err != nil || len(warns) != 0 {
		t.Fatal(err, warns)
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
}

// TestDerivedDefaults: a default that depends on another field follows the
// file, and a zero that stands for the default never reaches the caller.
func TestDerivedDefaults(t *testing.T) {
	tests := []struct {
		name, yaml string
		check      func(configs.Config) bool
	}{
		{"volume follows a changed name", "storage:\n  mysql:\n    container:\n      name: db\n",
			func(c configs.Config) bool {
				return c.Storage.MySQL.Container.Volume == "db-data" && c.Storage.Etcd.Container.Volume == "k3-storage-etcd-data"
			}},
		{"empty volume is the default", "storage:\n  etcd:\n    container:\n      volume: \"\"\n",
			func(c configs.Config) bool { return c.Storage.Etcd.Container.Volume == "k3-storage-etcd-data" }},
		{"null volume is the default", "storage:\n  etcd:\n    container:\n      name: e\n      volume: ~\n",
			func(c configs.Config) bool { return c.Storage.Etcd.Container.Volume == "e-data" }},
		{"volume given", "storage:\n  mysql:\n    container:\n      name: db\n      volume: keep\n",
			func(c configs.Config) bool { return c.Storage.MySQL.Container.Volume == "keep" }},
		{"history zero", "storage:\n  memory:\n    history: 0\n",
			func(c configs.Config) bool { return c.Storage.Memory.History == 100000 }},
		{"history given", "storage:\n  memory:\n    history: 7\n",
			func(c configs.Config) bool { return c.Storage.Memory.History == 7 }},
		{"stop timeout zero", "storage:\n  mysql:\n    container:\n      stop_timeout: 0s\n",
			func(c configs.Config) bool {
				return c.Storage.MySQL.Container.StopTimeout == configs.Duration(10*time.Second)
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, _, err := configs.Parse("d.yaml", []byte(tt.yaml))
			if err != nil {
				t.Fatal(err)
			}
			if !tt.check(cfg) {
				t.Fatalf("decoded as %+v", cfg.Storage)
			}
		})
	}
	d := configs.Default()
	if d.Storage.MySQL.Container.Volume != "k3-storage-mysql-data" || d.Storage.Memory.History != 100000 {
		t.Fatalf("Default() leaves derived fields unset: %+v", d.Storage)
	}
}

func TestBadConfigs(t *testing.T) {
	tests := []struct {
		name, yaml string
		want       string // the whole first line of the error, after "bad.yaml"
	}{
		{"unknown type", "storage:\n  type: mysq\n", `:2: storage.type: 未知的类型 "mysq"（可选: memory、mysql、etcd）`},
		{"type in capitals", "storage:\n  type: MySQL\n", `:2: storage.type: 未知的类型 "MySQL"`},
		{"unknown top-level field", "storage:\n  type: memory\nstorge: {}\n", `:3: storge: 未知字段，是否想写 storage？（可选: storage）`},
		{"unknown mysql field", "storage:\n  mysql:\n    hots: x\n", `:3: storage.mysql.hots: 未知字段，是否想写 host？（可选: host, port, user, password, database, max_open_conns, max_idle_conns, connect_timeout, poll_interval, tls, container, native）`},
		{"unknown etcd field", "storage:\n  etcd:\n    endpoint: [http://a:1]\n", `:3: storage.etcd.endpoint: 未知字段，是否想写 endpoints？`},
		{"native mode", "storage:\n  mysql:\n    native: {mode: sometimes}\n", `:3: storage.mysql.native.mode: 未知的模式 "sometimes"（可选: auto、always、never）`},
		{"native always without auto", "storage:\n  etcd:\n    container: {auto: false}\n    native:\n      mode: always\n", `:5: storage.etcd.native.mode: always 需要 storage.etcd.container.auto: true（auto: false 表示只连接，不启动任何数据库）`},
		{"native data dir relative", "storage:\n  etcd:\n    native: {data_dir: data/etcd}\n", `:3: storage.etcd.native.data_dir: "data/etcd" 不是绝对路径`},
		{"native binary relative", "storage:\n  mysql:\n    native: {binary: mariadbd}\n", `:3: storage.mysql.native.binary: "mariadbd" 不是绝对路径`},
		{"native binary missing", "storage:\n  mysql:\n    native: {binary: /nonexistent/mariadbd}\n", `:3: storage.mysql.native.binary: 无法读取 "/nonexistent/mariadbd"：文件不存在`},
		{"native binary a directory", "storage:\n  mysql:\n    native: {binary: /usr}\n", `:3: storage.mysql.native.binary: "/usr" 不是普通文件`},
		{"native binary not executable", "storage:\n  mysql:\n    native: {binary: /etc/passwd}\n", `:3: storage.mysql.native.binary: "/etc/passwd" 没有执行权限`},
		{"etcd has no native binary", "storage:\n  etcd:\n    native: {binary: /usr/bin/etcd}\n", `:3: storage.etcd.native.binary: 未知字段（可选: mode, data_dir）`},
		{"unknown field far off", "storage:\n  color: blue\n", `:2: storage.color: 未知字段（可选: type, health_interval, memory, mysql, etcd）`},
		{"port zero", "storage:\n  mysql:\n    port: 0\n", `:3: storage.mysql.port: 0 超出范围（应为 1-65535）`},
		{"port too big", "storage:\n  mysql:\n    port: 65536\n", `:3: storage.mysql.port: 65536 超出范围（应为 1-65535）`},
		{"port negative", "storage:\n  mysql:\n    port: -1\n", `:3: storage.mysql.port: -1 超出范围`},
		{"port not a number", "storage:\n  mysql:\n    port: abc\n", `:3: storage.mysql.port: "abc" 不是整数`},
		{"port huge", "storage:\n  mysql:\n    port: 99999999999999\n", `:3: storage.mysql.port: "99999999999999" 超出范围`},
		{"port as list", "storage:\n  mysql:\n    port: [1]\n", `:3: storage.mysql.port: 应为单个值，实际是列表`},
		{"idle above open", "storage:\n  mysql:\n    max_open_conns: 5\n    max_idle_conns: 6\n", `:4: storage.mysql.max_idle_conns: 6 大于 max_open_conns（5）`},
		{"open zero", "storage:\n  mysql:\n    max_open_conns: 0\n    max_idle_conns: 0\n", `:3: storage.mysql.max_open_conns: 0 太小（至少为 1）`},
		{"idle negative", "storage:\n  mysql:\n    max_idle_conns: -2\n", `:3: storage.mysql.max_idle_conns: -2 是负数（应为 0 到 max_open_conns）`},
		{"host with port", "storage:\n  mysql:\n    host: localhost:3306\n", `:3: storage.mysql.host: "localhost:3306" 包含端口`},
		{"host url", "storage:\n  mysql:\n    host: mysql://db\n", `:3: storage.mysql.host: "mysql://db" 是一个 URL`},
		{"host empty", "storage:\n  mysql:\n    host: \"\"\n", `:3: storage.mysql.host: 不能为空`},
		{"bad database name", "storage:\n  mysql:\n    database: \"k3; DROP\"\n", `:3: storage.mysql.database: 无效的数据库名 "k3; DROP"`},
		{"bad duration", "storage:\n  etcd:\n    dial_timeout: 5 seconds\n", `:3: storage.etcd.dial_timeout: 无效的时长 "5 seconds"（应为数字加单位`},
		{"duration without unit", "storage:\n  etcd:\n    dial_timeout: 5\n", `:3: storage.etcd.dial_timeout: 无效的时长 "5"：需要单位（如 5s 或 5ms）`},
		{"negative duration", "storage:\n  etcd:\n    dial_timeout: -1s\n", `:3: storage.etcd.dial_timeout: 无效的时长 "-1s"：不能为负数`},
		{"zero dial timeout", "storage:\n  etcd:\n    dial_timeout: 0s\n", `:3: storage.etcd.dial_timeout: 0s 太短`},
		{"poll too fast", "storage:\n  mysql:\n    poll_interval: 1ms\n", `:3: storage.mysql.poll_interval: 1ms 太短（至少 10ms）`},
		{"endpoint no scheme", "storage:\n  etcd:\n    endpoints: [127.0.0.1:2379]\n", `:3: storage.etcd.endpoints[0]: "127.0.0.1:2379" 不是有效的 URL`},
		{"endpoint bad scheme", "storage:\n  etcd:\n    endpoints:\n      - http://a:1\n      - ftp://b:2\n", `:5: storage.etcd.endpoints[1]: "ftp://b:2" 不是有效的 URL：不支持的协议 "ftp"`},
		{"endpoint bad port", "storage:\n  etcd:\n    endpoints: [\"http://127.0.0.1:70000\"]\n", `:3: storage.etcd.endpoints[0]: "http://127.0.0.1:70000" 中的端口 "70000" 超出范围`},
		{"endpoint unparsable", "storage:\n  etcd:\n    endpoints: [\"http://[::1\"]\n", `:3: storage.etcd.endpoints[0]: "http://[::1" 不是有效的 URL`},
		{"endpoint with path", "storage:\n  etcd:\n    endpoints: [\"http://a:1/v3\"]\n", `:3: storage.etcd.endpoints[0]: "http://a:1/v3" 不是有效的端点：只能包含协议、主机和端口`},
		{"endpoints empty", "storage:\n  etcd:\n    endpoints: []\n", `:3: storage.etcd.endpoints: 没有任何端点`},
		{"endpoints scalar", "storage:\n  etcd:\n    endpoints: http://a:1\n", `:3: storage.etcd.endpoints: 应为列表，实际是 "http://a:1"`},
		{"username without password", "storage:\n  etcd:\n    username: root\n", `:3: storage.etcd.username: "root" 已设置，但 password 为空`},
		{"password without username", "storage:\n  etcd:\n    password: pw\n", `:3: storage.etcd.password: 已设置，但 username 为空`},
		{"tls cert without key", "storage:\n  etcd:\n    tls:\n      cert_file: /etc/hostname\n", `:3: storage.etcd.tls: cert_file 和 key_file 必须同时设置`},
		{"tls missing ca", "storage:\n  etcd:\n    tls:\n      ca_file: /nonexistent/ca.pem\n", `:4: storage.etcd.tls.ca_file: 无法读取 "/nonexistent/ca.pem"：文件不存在`},
		{"health too often", "storage:\n  health_interval: 10ms\n", `:2: storage.health_interval: 10ms 太短（至少 100ms）`},
		{"health zero", "storage:\n  health_interval: 0s\n", `:2: storage.health_interval: 0s 太短（至少 100ms）`},
		{"mysql tls mode misspelt", "storage:\n  mysql:\n    tls:\n      mode: verify_full\n", `:4: storage.mysql.tls.mode: 未知的模式 "verify_full"，是否想写 verify-full？（可选: disabled、preferred、required、verify-ca、verify-full）`},
		{"mysql tls mode unknown", "storage:\n  mysql:\n    tls:\n      mode: on\n", `:4: storage.mysql.tls.mode: 未知的模式 "on"（可选: disabled、preferred、required、verify-ca、verify-full）`},
		{"mysql tls mode empty", "storage:\n  mysql:\n    tls:\n      mode: \"\"\n", `:4: storage.mysql.tls.mode: 未知的模式 ""`},
		{"mysql tls ca unverified", "storage:\n  mysql:\n    tls:\n      mode: required\n      ca_file: /etc/hostname\n", `:5: storage.mysql.tls.ca_file: 只在 mode 为 verify-ca 或 verify-full 时使用（当前为 required）`},
		{"mysql tls ca by default mode", "storage:\n  mysql:\n    tls:\n      ca_file: /etc/hostname\n", `:4: storage.mysql.tls.ca_file: 只在 mode 为 verify-ca 或 verify-full 时使用（当前为 preferred）`},
		{"mysql tls server name", "storage:\n  mysql:\n    tls:\n      mode: verify-ca\n      server_name: db\n", `:5: storage.mysql.tls.server_name: 只在 mode 为 verify-full 时检查（当前为 verify-ca）`},
		{"mysql tls cert when disabled", "storage:\n  mysql:\n    tls:\n      mode: disabled\n      cert_file: /etc/hostname\n      key_file: /etc/hostname\n", `:5: storage.mysql.tls.cert_file: mode 为 disabled 时不使用客户端证书`},
		{"mysql tls key without cert", "storage:\n  mysql:\n    tls:\n      key_file: /etc/hostname\n", `:3: storage.mysql.tls: cert_file 和 key_file 必须同时设置`},
		{"mysql tls missing ca", "storage:\n  mysql:\n    tls:\n      mode: verify-full\n      ca_file: /nonexistent/ca.pem\n", `:5: storage.mysql.tls.ca_file: 无法读取 "/nonexistent/ca.pem"：文件不存在`},
		{"mysql tls unknown field", "storage:\n  mysql:\n    tls:\n      ssl_ca: x\n", `:4: storage.mysql.tls.ssl_ca: 未知字段`},
		{"bool not bool", "storage:\n  mysql:\n    container:\n      auto: maybe\n", `:4: storage.mysql.container.auto: "maybe" 不是 true 或 false`},
		{"bad container name", "storage:\n  mysql:\n    container:\n      name: \"my db\"\n", `:4: storage.mysql.container.name: 无效的容器名 "my db"`},
		{"empty image", "storage:\n  etcd:\n    container:\n      image: \"\"\n", `:4: storage.etcd.container.image: 无效的镜像名 ""`},
		{"negative history", "storage:\n  memory:\n    history: -5\n", `:3: storage.memory.history: -5 是负数`},
		{"duplicate key", "storage:\n  type: mysql\n  type: etcd\n", `:3: storage.type: 重复设置（第一次在第 2 行）`},
		{"storage scalar", "storage: mysql\n", `:1: storage: 应为一组设置（键: 值），实际是 "mysql"`},
		{"top-level list", "- storage\n", `:1: 应为一组设置（键: 值），实际是列表`},
		{"yaml syntax", "storage:\n  type: [memory\n", `:2: YAML 语法错误：第 2 行的 [ 没有闭合（缺少 ]，或元素之间缺少 ,）`},
		{"tab indentation", "storage:\n\ttype: memory\n", `:2: YAML 语法错误：第 2 行以制表符缩进；YAML 只能用空格缩进`},
		{"empty file", "", `: 文件是空的`},
		{"only comments", "# nothing here\n", `: 文件是空的`},
		{"null document", "~\n", `:1: 文件没有任何设置`},
		{"two documents", "storage: {}\n---\nstorage: {}\n", `:2: 包含多个 YAML 文档（删除多余的 ---）`},
		{"alias", "a: &x 1\nstorage: *x\n", `:1: a: 未知字段`},
	}
	if len(tests) < 49 {
		t.Fatalf("only %d bad inputs", len(tests))
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, warns, err := configs.Parse("bad.yaml", []byte(tt.yaml))
			if err == nil {
				t.Fatalf("accepted:\n%s", tt.yaml)
			}
			if warns != nil {
				t.Fatalf("warnings with an error: %q", warns)
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

// TestSyntaxErrorLines: a YAML syntax error names the line the user must
// fix, which is often not the line yaml.v3 reports (given in the comments).
func TestSyntaxErrorLines(t *testing.T) {
	tests := []struct {
		name, yaml string
		line       int
		msg        string // a part of the message
	}{
		// yaml.v3: line 1.
		{"indentation between levels", "storage:\n  type: mysql\n  mysql:\n    host: a\n   port: 3306\n",
			5, "第 5 行缩进了 3 个空格，与上文的层级（0、2、4 个空格）都对不齐"},
		// yaml.v3: line 4.
		{"indentation left of every level", "storage:\n  type: mysql\n  mysql:\n    host: a\n port: 3306\n",
			5, "第 5 行缩进了 1 个空格，与上文的层级（0、2、4 个空格）都对不齐"},
		{"indentation deeper than a value", "storage:\n  type: mysql\n  mysql:\n    host: a\n      port: 3306\n",
			5, "第 5 行比上一行缩进得多（6 个空格），但上一行的键已经有值"},
		// yaml.v3: line 2.
		{"first key indented too far", "storage:\n    type: memory\n  mysql: {}\n",
			3, "第 3 行缩进了 2 个空格，与上文的层级（0、4 个空格）都对不齐"},
		// yaml.v3: line 1.
		{"comments and blank lines between", "storage:\n  mysql:\n    host: a\n  # port below\n\n   port: 3306\n",
			6, "第 6 行缩进了 3 个空格"},
		// yaml.v3: line 3.
		{"unclosed [", "storage:\n  type: mysql\n  etcd:\n    endpoints: [http://a:1\n    dial_timeout: 5s\n",
			4, "第 4 行的 [ 没有闭合"},
		// yaml.v3: line 2.
		{"unclosed {", "storage:\n  type: mysql\n  mysql: {host: a, port: 1\n  etcd: {}\n",
			3, "第 3 行的 { 没有闭合"},
		// yaml.v3: line 3 (the end: the [ is on line 0, counted from 0).
		{"unclosed [ on the first line", "storage: [memory\n\n\n", 1, "第 1 行的 [ 没有闭合"},
		// yaml.v3: line 5.
		{"unclosed multi-line [", "storage:\n  mysql:\n    host: a\n    port: 1\n  etcd:\n    endpoints: [\n      http://a:1,\n    dial_timeout: 5s\n",
			6, "第 6 行的 [ 没有闭合"},
		// yaml.v3: line 4, "did not find expected node content".
		{"unclosed [ after a trailing comma", "storage:\n  etcd:\n    endpoints: [\n      http://a:1,\n", 3, "第 3 行的 [ 没有闭合"},
		{"mismatched bracket", "storage:\n  type: memory\n  mysql: {host: a]\n", 3, "第 3 行的 { 没有闭合"},
		// yaml.v3: line 2, "found character that cannot start any token".
		{"leading tab", "storage:\n\ttype: memory\n", 2, "第 2 行以制表符缩进；YAML 只能用空格缩进"},
		// yaml.v3: line 2, "found a tab character that violates indentation".
		{"tab after a value", "storage:\n  type: memory\n\tmysql: {}\n", 3, "第 3 行以制表符缩进"},
		// yaml.v3: line 4, "found a tab character that violates indentation".
		{"tab deeper down", "storage:\n  type: memory\n  mysql:\n    host: a\n\tport: 1\n", 5, "第 5 行以制表符缩进"},
		{"spaces then a tab", "storage:\n  type: memory\n  \tmysql: {}\n", 3, "第 3 行以制表符缩进"},
		// yaml.v3: no line at all.
		{"mapping value on the first line", "storage: type: memory\n", 1, "这里不能出现“: ”"},
		{"mapping value after a value", "storage:\n  type: memory\n  mysql: host: a\n", 3, "这里不能出现“: ”"},
		{"colon inside a value", "storage:\n  mysql:\n    host: a: b\n", 3, "值里含有冒号加空格时请给值加引号"},
		// yaml.v3: line 1.
		{"stray colon", "storage:\n  type: memory\n  : x\n", 3, "“:” 前面缺少键名"},
		{"lone colon", "storage:\n  type: memory\n  :\n", 3, "“:” 前面缺少键名"},
		{"list item among keys", "storage:\n  type: memory\n  - a\n", 3, "不能是列表项"},
		{"text after a quoted value", "storage:\n  type: memory\n  mysql: \"a\" b\n", 3, "这里应为“键: 值”"},
		{"key without colon", "storage:\n  type: memory\n  mysql\n    host: a\n", 3, "缺少“:”"},
		// yaml.v3: line 4, "found unexpected end of stream".
		{"unterminated double quote", "storage:\n  type: memory\n  mysql:\n    host: \"abc\n    port: 1\n", 4, "第 4 行的引号没有闭合"},
		{"unterminated single quote", "storage:\n  type: memory\n  mysql:\n    host: 'abc\n    port: 1\n", 4, "第 4 行的引号没有闭合"},
		// yaml.v3: line 3, "did not find expected key".
		{"quote closed by the next one", "storage:\n  type: memory\n  mysql:\n    host: \"abc\n    port: 1\n    user: \"x\"\n",
			4, "第 4 行的引号一直延续到第 6 行"},
		{"bad escape on a later line", "storage:\n  type: \"a\n  b\\qb\"\n", 3, "未知的转义"},
		{"reserved character", "storage:\n  type: @memory\n", 2, "值不能以 @ 开头"},
		{"item among keys of a list", "storage:\n  etcd:\n    endpoints:\n      - http://a:1\n      tls: {}\n", 5, "这里应为列表项"},
		{"second document", "storage:\n  type: memory\n---\nx: [\n", 4, "第 4 行的 [ 没有闭合"},
		{"CRLF line breaks", "storage:\r\n  type: mysql\r\n  mysql:\r\n    host: a\r\n   port: 3306\r\n", 5, "第 5 行缩进了 3 个空格"},
		{"byte order mark", "\xef\xbb\xbfstorage:\n  type: [memory\n", 2, "第 2 行的 [ 没有闭合"},
		// yaml.v3: no line.
		{"invalid UTF-8", "storage:\n  type: memory\n  mysql:\n    host: \xff\n", 4, "不是有效的 UTF-8"},
		{"control character", "storage:\n  mysql:\n    host: a\x01\n", 3, "控制字符"},
		{"undefined alias", "storage:\n  type: *x\n", 2, "未定义的锚点"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := configs.Parse("bad.yaml", []byte(tt.yaml))
			var ce *configs.Error
			if !errors.As(err, &ce) {
				t.Fatalf("want a *configs.Error, got %v", err)
			}
			if ce.Line != tt.line || !strings.HasPrefix(ce.Msg, "YAML 语法错误：") || !strings.Contains(ce.Msg, tt.msg) {
				t.Fatalf("error:\n  %v\nwant line %d and a syntax error saying %q", err, tt.line, tt.msg)
			}
			if ce.Err == nil || !strings.HasPrefix(ce.Err.Error(), "yaml: ") {
				t.Fatalf("the yaml.v3 error is not kept as the cause: %v", ce.Err)
			}
			if strings.Contains(ce.Msg, "yaml.v3") {
				t.Fatalf("untranslated: %s", ce.Msg)
			}
		})
	}
}

func TestWarnings(t *testing.T) {
	tests := []struct{ name, yaml, want string }{
		{"storage only", "storage:\n", "配置文件 w.yaml 的 storage 段没有任何设置，使用默认的 memory 后端"},
		{"storage with comments only", "storage:\n  # type: mysql\n", "配置文件 w.yaml 的 storage 段没有任何设置，使用默认的 memory 后端"},
		{"storage null", "storage: ~\n", "配置文件 w.yaml 的 storage 段没有任何设置，使用默认的 memory 后端"},
		{"storage empty mapping", "storage: {}\n", "配置文件 w.yaml 的 storage 段没有任何设置，使用默认的 memory 后端"},
		{"empty mapping", "{}\n", "配置文件 w.yaml 没有任何设置，使用默认的 memory 后端"},
		{"type set", "storage:\n  type: memory\n", ""},
		{"a section set", "storage:\n  memory: {history: 5}\n", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, warns, err := configs.Parse("w.yaml", []byte(tt.yaml))
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(warns, "\n"); got != tt.want {
				t.Fatalf("warnings %q, want %q", got, tt.want)
			}
			if cfg.Storage.Type != configs.TypeMemory {
				t.Fatalf("type %q", cfg.Storage.Type)
			}
		})
	}
	path := filepath.Join(t.TempDir(), "x.yaml")
	if err := os.WriteFile(path, []byte("storage:\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, warns, err := configs.LoadSource(configs.Source{Path: path, Origin: "--config"})
	if err != nil || len(warns) != 1 || !strings.Contains(warns[0], path) || !reflect.DeepEqual(cfg, configs.Default()) {
		t.Fatalf("LoadSource: %+v, %q, %v; want the defaults and a warning naming %s", cfg, warns, err, path)
	}
}

func TestEveryProblemReported(t *testing.T) {
	_, _, err := configs.Parse("bad.yaml", []byte("storage:\n  type: x\n  mysql:\n    port: 0\n"))
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
		"storage:\n  mysql:\n    password: *" + secret + "\n",
		"storage:\n  mysql:\n    password: \"" + secret + "\n",
		"storage:\n  mysql:\n    password: [" + secret + "\n",
		"storage:\n  mysql:\n    password: @" + secret + "\n",
		"storage:\n  mysql:\n    password: " + secret + ": x\n",
	} {
		_, _, err := configs.Parse("bad.yaml", []byte(doc))
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
	large := filepath.Join(dir, "large.yaml")
	if err := os.WriteFile(large, bytes.Repeat([]byte("#\n"), 1<<19+1), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct{ path, want string }{
		{filepath.Join(dir, "missing.yaml"), "missing.yaml: 文件不存在"},
		{dir, ": 是一个目录，不是配置文件"},
		{large, "large.yaml: 文件超过 1048576 字节，不像是配置文件"},
	}
	if os.Geteuid() != 0 { // root reads anything
		tests = append(tests, struct{ path, want string }{unreadable, "secret.yaml: 无法读取文件：权限不足"})
	}
	for _, tt := range tests {
		_, _, err := configs.Load(tt.path)
		if err == nil || !strings.HasSuffix(err.Error(), tt.want) {
			t.Errorf("Load(%q) = %v, want %q", tt.path, err, tt.want)
		}
	}
	if os.Geteuid() == 0 {
		// Root reads any file, but not a path through a regular file.
		_, _, err := configs.Load(filepath.Join(unreadable, "x.yaml"))
		if err == nil || !strings.HasSuffix(err.Error(), "x.yaml: 无法读取文件") {
			t.Errorf("Load through a file = %v, want a read error", err)
		}
	}
}

func TestFind(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	env := map[string]string{}
	getenv := func(k string) string { return env[k] }

	src, err := configs.Find("", false, getenv)
	if err != nil || src.Origin != "built-in" || src.String() != "configs/config-example.yaml（内置）" {
		t.Fatalf("empty dir: %+v, %v; want the built-in example", src, err)
	}
	cfg, warns, err := configs.LoadSource(src)
	if err != nil || cfg.Storage.Type != "memory" || len(warns) != 0 {
		t.Fatalf("loading the built-in example: %v %q", err, warns)
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
	if src, _ := configs.Find("", false, getenv); src.Path != "configs/config-example.yaml" || src.Origin != "example" {
		t.Fatalf("got %+v, want configs/config-example.yaml", src)
	}
	write(".config.yaml")
	if src, _ := configs.Find("", false, getenv); src.Path != ".config.yaml" {
		t.Fatalf("got %+v, want .config.yaml", src)
	}
	env["CONFIG_PATH"] = ""
	if src, err := configs.Find("", false, getenv); err != nil || src.Path != ".config.yaml" {
		t.Fatalf("empty CONFIG_PATH: %+v, %v; want it treated as unset", src, err)
	}
	write("env.yaml")
	env["CONFIG_PATH"] = "env.yaml"
	if src, _ := configs.Find("", false, getenv); src.Path != "env.yaml" || src.Origin != "CONFIG_PATH" {
		t.Fatalf("got %+v, want env.yaml from CONFIG_PATH", src)
	}
	write("flag.yaml")
	if src, _ := configs.Find("flag.yaml", true, getenv); src.Path != "flag.yaml" || src.Origin != "--config" {
		t.Fatalf("got %+v, want flag.yaml from --config", src)
	}
	if _, err := configs.Find("nope.yaml", true, getenv); err == nil || err.Error() != "nope.yaml: 文件不存在（由 --config 指定）" {
		t.Fatalf("missing --config file: %v", err)
	}
	_, err = configs.Find("", true, getenv)
	var ce *configs.Error
	if !errors.As(err, &ce) || err.Error() != "--config: 路径为空；不指定 --config 时按查找顺序选择配置文件" {
		t.Fatalf("--config '': %v; want an *Error naming --config", err)
	}
	env["CONFIG_PATH"] = "gone.yaml"
	if _, err := configs.Find("", false, getenv); err == nil || err.Error() != "gone.yaml: 文件不存在（由 CONFIG_PATH 指定）" {
		t.Fatalf("missing CONFIG_PATH file: %v", err)
	}
}

func FuzzParse(f *testing.F) {
	f.Add(mustReadF(f, "config-example.yaml"))
	f.Add([]byte("storage: {type: etcd, etcd: {endpoints: [http://a:1]}}"))
	f.Add([]byte("storage:\n  mysql:\n    port: 0x10\n"))
	f.Add([]byte("storage:\n  type: mysql\n  mysql:\n    host: a\n   port: 3306\n"))
	f.Add([]byte("storage:\n\ttype: [memory\n  etcd: {endpoints: [\"x\n"))
	f.Add([]byte("storage:\r\n  mysql: |\r\n   a\r\n  etcd: 'b\u2028c'\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, warns, err := configs.Parse("fuzz.yaml", data)
		if err == nil {
			if cfg.Storage.Type == "" || cfg.Storage.MySQL.Container.Volume == "" {
				t.Fatalf("accepted without defaults: %+v", cfg)
			}
			return
		}
		if warns != nil {
			t.Fatalf("warnings with an error: %q", warns)
		}
		if !strings.HasPrefix(err.Error(), "fuzz.yaml") {
			t.Fatalf("error does not name the file: %v", err)
		}
		// No line beyond the text (counting every YAML line break).
		lines := 1
		for _, b := range []string{"\n", "\r", "\u0085", "\u2028", "\u2029"} {
			lines += bytes.Count(data, []byte(b))
		}
		var ce *configs.Error
		if errors.As(err, &ce) && ce.Line > lines {
			t.Fatalf("error at line %d of a %d-line text: %v", ce.Line, lines, err)
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
