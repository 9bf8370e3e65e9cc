package containertest

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
)

// pollInterval is how often the readiness probes retry.
const pollInterval = 100 * time.Millisecond

// WaitMySQL polls the MySQL-protocol server at addr (host:port) until user
// can log in with password and SELECT 1 answers, and returns the pool,
// closed at cleanup. It fails the test with the last error when ctx ends
// first. database may be "".
func WaitMySQL(ctx context.Context, tb testing.TB, addr, user, password, database string) *sql.DB {
	tb.Helper()
	cfg := mysql.NewConfig()
	cfg.User, cfg.Passwd, cfg.Net, cfg.Addr, cfg.DBName = user, password, "tcp", addr, database
	cfg.Timeout, cfg.ReadTimeout, cfg.WriteTimeout = 2*time.Second, 5*time.Second, 5*time.Second
	cfg.Logger = quietLogger{} // connection resets while the server starts are expected
	conn, err := mysql.NewConnector(cfg)
	if err != nil {
		tb.Fatalf("mysql connector for %s: %v", addr, err)
	}
	db := sql.OpenDB(conn)
	tb.Cleanup(func() { db.Close() })
	err = poll(ctx, func(ctx context.Context) error {
		var one int
		return db.QueryRowContext(ctx, "SELECT 1").Scan(&one)
	})
	if err != nil {
		tb.Fatalf("MySQL at %s (user %s) did not answer: %v", addr, user, err)
	}
	return db
}

type quietLogger struct{}

func (quietLogger) Print(...any) {}

// WaitEtcd polls etcd's /health on endpoint (http://host:port) until it
// reports healthy, and fails the test with the last error when ctx ends first.
func WaitEtcd(ctx context.Context, tb testing.TB, endpoint string) {
	tb.Helper()
	err := poll(ctx, func(ctx context.Context) error {
		var h struct {
			Health string `json:"health"`
		}
		if err := getJSON(ctx, endpoint+"/health", &h); err != nil {
			return err
		}
		if h.Health != "true" {
			return fmt.Errorf("health %q", h.Health)
		}
		return nil
	})
	if err != nil {
		tb.Fatalf("etcd at %s did not become healthy: %v", endpoint, err)
	}
}

// EtcdPut writes key=value through etcd's v3 JSON gateway.
func EtcdPut(ctx context.Context, endpoint, key, value string) error {
	body := map[string]string{
		"key":   base64.StdEncoding.EncodeToString([]byte(key)),
		"value": base64.StdEncoding.EncodeToString([]byte(value)),
	}
	var resp struct{}
	return postJSON(ctx, endpoint+"/v3/kv/put", body, &resp)
}

// EtcdGet reads key through etcd's v3 JSON gateway; found is false when the
// key does not exist.
func EtcdGet(ctx context.Context, endpoint, key string) (value string, found bool, err error) {
	var resp struct {
		KVs []struct {
			Value string `json:"value"`
		} `json:"kvs"`
	}
	body := map[string]string{"key": base64.StdEncoding.EncodeToString([]byte(key))}
	if err := postJSON(ctx, endpoint+"/v3/kv/range", body, &resp); err != nil {
		return "", false, err
	}
	if len(resp.KVs) == 0 {
		return "", false, nil
	}
	v, err := base64.StdEncoding.DecodeString(resp.KVs[0].Value)
	return string(v), true, err
}

// poll calls try every pollInterval until it succeeds or ctx ends; each
// try gets at most 5 s.
func poll(ctx context.Context, try func(context.Context) error) error {
	tick := time.NewTicker(pollInterval)
	defer tick.Stop()
	for {
		tctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		err := try(tctx)
		cancel()
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w (last error: %v)", ctx.Err(), err)
		case <-tick.C:
		}
	}
}

func getJSON(ctx context.Context, url string, out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	return doJSON(req, out)
}

func postJSON(ctx context.Context, url string, in, out any) error {
	data, err := json.Marshal(in)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(data))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	return doJSON(req, out)
}

func doJSON(req *http.Request, out any) error {
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s %s: %s: %s", req.Method, req.URL, resp.Status, data)
	}
	return json.Unmarshal(data, out)
}
