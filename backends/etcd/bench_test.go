package etcd_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/k3/k3-storage/backends"
	"github.com/k3/k3-storage/backends/etcd"
	"github.com/k3/k3-storage/backends/etcd/etcdtest"
)

// Each benchmark runs the Store operation (impl=store) and the equivalent
// raw clientv3 call (impl=raw) against the same embedded server, so that
// `benchstat -col /impl` shows the adapter's overhead. See BENCHMARKS.md.

// The benchmark server is shared by all benchmarks of a run and holds
// prefixes of 10,000 and 100,000 keys; TestMain closes it.
var benchServer struct {
	once    sync.Once
	cluster *etcdtest.Cluster
	err     error
}

const benchValue = `{"kind":"Pod","apiVersion":"v1","metadata":{"name":"pod"}}`

// benchPrefix returns the prefix holding n keys.
func benchPrefix(n int) string { return fmt.Sprintf("/bench/n%d/", n) }

func benchEndpoints(b *testing.B) []string {
	b.Helper()
	benchServer.once.Do(func() {
		c, err := etcdtest.Launch(etcdtest.Config{Direct: true}, "")
		if err != nil {
			benchServer.err = err
			return
		}
		benchServer.cluster = c
		benchServer.err = fill(c.Endpoints(), 10_000, 100_000)
	})
	if benchServer.err != nil {
		b.Fatal(benchServer.err)
	}
	return benchServer.cluster.Endpoints()
}

func closeBenchServer() {
	if benchServer.cluster != nil {
		benchServer.cluster.Close()
	}
}

// fill writes the benchmark prefixes in transactions of 128 puts.
func fill(eps []string, sizes ...int) error {
	cli, err := clientv3.New(clientv3.Config{Endpoints: eps, Logger: zap.NewNop()})
	if err != nil {
		return err
	}
	defer cli.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	for _, n := range sizes {
		var ops []clientv3.Op
		for i := range n {
			ops = append(ops, clientv3.OpPut(fmt.Sprintf("%sns-%03d/pod-%07d", benchPrefix(n), i%1000, i), benchValue))
			if len(ops) == 128 || i == n-1 {
				if _, err := cli.Txn(ctx).Then(ops...).Commit(); err != nil {
					return err
				}
				ops = ops[:0]
			}
		}
	}
	return nil
}

// benchClients returns a Store and a raw client on the benchmark server.
func benchClients(b *testing.B) (*etcd.Store, *clientv3.Client) {
	b.Helper()
	eps := benchEndpoints(b)
	s := open(b, etcd.Options{Endpoints: eps})
	cli, err := clientv3.New(clientv3.Config{Endpoints: eps, Logger: zap.NewNop()})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { cli.Close() })
	return s, cli
}

// impls runs the store and raw variants as sub-benchmarks.
func impls(b *testing.B, store, raw func(b *testing.B, s *etcd.Store, cli *clientv3.Client)) {
	s, cli := benchClients(b)
	b.Run("impl=raw", func(b *testing.B) { raw(b, s, cli) })
	b.Run("impl=store", func(b *testing.B) { store(b, s, cli) })
}

func BenchmarkGet(b *testing.B) {
	const n = 10_000
	keys := make([]string, n)
	for i := range keys {
		keys[i] = fmt.Sprintf("%sns-%03d/pod-%07d", benchPrefix(n), i%1000, i)
	}
	impls(b, func(b *testing.B, s *etcd.Store, _ *clientv3.Client) {
		ctx := b.Context()
		for i := 0; b.Loop(); i++ {
			if _, err := s.Get(ctx, keys[(i*7919)%n]); err != nil {
				b.Fatal(err)
			}
		}
	}, func(b *testing.B, _ *etcd.Store, cli *clientv3.Client) {
		ctx := b.Context()
		for i := 0; b.Loop(); i++ {
			resp, err := cli.Get(ctx, keys[(i*7919)%n])
			if err != nil || len(resp.Kvs) != 1 {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkCreate(b *testing.B) {
	run := time.Now().UnixNano()
	value := []byte(benchValue)
	impls(b, func(b *testing.B, s *etcd.Store, _ *clientv3.Client) {
		ctx := b.Context()
		for i := 0; b.Loop(); i++ {
			if _, err := s.Create(ctx, fmt.Sprintf("/bench/create/%d/store/%d", run, i), value); err != nil {
				b.Fatal(err)
			}
		}
	}, func(b *testing.B, _ *etcd.Store, cli *clientv3.Client) {
		ctx := b.Context()
		for i := 0; b.Loop(); i++ {
			key := fmt.Sprintf("/bench/create/%d/raw/%d", run, i)
			resp, err := cli.Txn(ctx).
				If(clientv3.Compare(clientv3.ModRevision(key), "=", 0)).
				Then(clientv3.OpPut(key, benchValue)).
				Commit()
			if err != nil || !resp.Succeeded {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkUpdateCAS(b *testing.B) {
	value := []byte(benchValue)
	impls(b, func(b *testing.B, s *etcd.Store, _ *clientv3.Client) {
		ctx := b.Context()
		rev, err := s.Put(ctx, "/bench/cas/store", value)
		if err != nil {
			b.Fatal(err)
		}
		for b.Loop() {
			if rev, err = s.Update(ctx, "/bench/cas/store", value, rev); err != nil {
				b.Fatal(err)
			}
		}
	}, func(b *testing.B, _ *etcd.Store, cli *clientv3.Client) {
		ctx := b.Context()
		const key = "/bench/cas/raw"
		put, err := cli.Put(ctx, key, benchValue)
		if err != nil {
			b.Fatal(err)
		}
		rev := put.Header.Revision
		for b.Loop() {
			resp, err := cli.Txn(ctx).
				If(clientv3.Compare(clientv3.ModRevision(key), "=", rev)).
				Then(clientv3.OpPut(key, benchValue)).
				Commit()
			if err != nil || !resp.Succeeded {
				b.Fatal(err)
			}
			rev = resp.Header.Revision
		}
	})
}

// BenchmarkList reads the first page of 100 keys of prefixes of different
// sizes.
func BenchmarkList(b *testing.B) {
	for _, n := range []int{10_000, 100_000} {
		prefix := benchPrefix(n)
		b.Run(fmt.Sprintf("keys=%d", n), func(b *testing.B) {
			impls(b, func(b *testing.B, s *etcd.Store, _ *clientv3.Client) {
				ctx := b.Context()
				for b.Loop() {
					page, err := s.List(ctx, prefix, backends.ListOptions{Limit: 100})
					if err != nil || len(page.Items) != 100 || !page.More {
						b.Fatalf("page of %d, more %v, err %v", len(page.Items), page.More, err)
					}
				}
			}, func(b *testing.B, _ *etcd.Store, cli *clientv3.Client) {
				ctx := b.Context()
				for b.Loop() {
					resp, err := cli.Get(ctx, prefix, clientv3.WithPrefix(), clientv3.WithLimit(100))
					if err != nil || len(resp.Kvs) != 100 || !resp.More {
						b.Fatalf("page of %d, err %v", len(resp.Kvs), err)
					}
				}
			})
		})
	}
}

func BenchmarkCount(b *testing.B) {
	const n = 100_000
	prefix := benchPrefix(n)
	impls(b, func(b *testing.B, s *etcd.Store, _ *clientv3.Client) {
		ctx := b.Context()
		for b.Loop() {
			if got, err := s.Count(ctx, prefix); err != nil || got != n {
				b.Fatalf("Count = %d, %v", got, err)
			}
		}
	}, func(b *testing.B, _ *etcd.Store, cli *clientv3.Client) {
		ctx := b.Context()
		for b.Loop() {
			resp, err := cli.Get(ctx, prefix, clientv3.WithPrefix(), clientv3.WithCountOnly())
			if err != nil || resp.Count != n {
				b.Fatalf("count %d, %v", resp.Count, err)
			}
		}
	})
}

// BenchmarkWatchLatency measures the time from calling Put to receiving its
// event on a running watch (with previous values, as Store.Watch has
// them), reporting the median and the 99th percentile.
func BenchmarkWatchLatency(b *testing.B) {
	value := []byte("v")
	report := func(b *testing.B, lat []time.Duration) {
		slices.Sort(lat)
		b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
		b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
	}
	impls(b, func(b *testing.B, s *etcd.Store, _ *clientv3.Client) {
		ctx := b.Context()
		ch, err := s.Watch(ctx, "/bench/watch/store/", 0)
		if err != nil {
			b.Fatal(err)
		}
		var lat []time.Duration
		for b.Loop() {
			start := time.Now()
			rev, err := s.Put(ctx, "/bench/watch/store/k", value)
			if err != nil {
				b.Fatal(err)
			}
			ev := <-ch
			lat = append(lat, time.Since(start))
			if ev.KV.ModRevision != rev {
				b.Fatalf("event at %d, want %d", ev.KV.ModRevision, rev)
			}
		}
		report(b, lat)
	}, func(b *testing.B, _ *etcd.Store, cli *clientv3.Client) {
		ctx, cancel := context.WithCancel(b.Context())
		defer cancel()
		ch := cli.Watch(ctx, "/bench/watch/raw/", clientv3.WithPrefix(), clientv3.WithPrevKV())
		var lat []time.Duration
		for b.Loop() {
			start := time.Now()
			put, err := cli.Put(ctx, "/bench/watch/raw/k", string(value))
			if err != nil {
				b.Fatal(err)
			}
			resp := <-ch
			lat = append(lat, time.Since(start))
			if len(resp.Events) != 1 || resp.Events[0].Kv.ModRevision != put.Header.Revision {
				b.Fatalf("watch response %+v", resp)
			}
		}
		report(b, lat)
	})
}
