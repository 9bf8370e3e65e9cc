package main

import (
	"testing"
	"time"

	"github.com/k3/k3-storage/backends/mysql"
	"github.com/k3/k3-storage/configs"
)

// TestEngineOptionsHealthAndTLS: the health interval and the MySQL TLS
// settings reach the engine as the config says, defaults included.
func TestEngineOptionsHealthAndTLS(t *testing.T) {
	cfg, _, err := configs.Parse("k3.yaml", []byte(`storage:
  type: mysql
  health_interval: 750ms
  mysql:
    host: db.example.com
    tls: {mode: verify-full, ca_file: /etc/hostname, cert_file: /etc/hostname, key_file: /etc/hostname, server_name: db}
`))
	if err != nil {
		t.Fatal(err)
	}
	opts, _ := engineOptions(cfg, configs.Source{}, flags{}, noEnv)
	if opts.Health.Interval != 750*time.Millisecond {
		t.Fatalf("health interval %v, want 750ms", opts.Health.Interval)
	}
	want := mysql.TLS{Mode: mysql.TLSVerifyFull, CAFile: "/etc/hostname", CertFile: "/etc/hostname", KeyFile: "/etc/hostname", ServerName: "db"}
	if opts.MySQL.TLS != want {
		t.Fatalf("MySQL TLS %+v, want %+v", opts.MySQL.TLS, want)
	}

	d, _ := engineOptions(configs.Default(), configs.Source{}, flags{}, noEnv)
	if d.Health.Interval != time.Duration(configs.Default().Storage.HealthInterval) || d.Health.Interval <= 0 {
		t.Fatalf("default health interval %v", d.Health.Interval)
	}
	if d.MySQL.TLS.Mode != mysql.TLSMode(configs.Default().Storage.MySQL.TLS.Mode) {
		t.Fatalf("default TLS mode %q", d.MySQL.TLS.Mode)
	}
}
