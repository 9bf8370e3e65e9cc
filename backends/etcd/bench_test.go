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
// `benchstat -col /impl` shows the adapter's overhead, and then both
// alternately in one loop (impl=paired), which reports their median times
// and ratio: on a shared machine the pairing cancels most of the noise
// that separate runs pick up. See BENCHMARKS.md.

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

// fill writes the benchmark prefixes.
func fill(eps []string, sizes ...int) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	for _, n := range sizes {
		if err := etcdtest.Fill(ctx, eps, n, func(i int) (string, []byte) {
			return benchKey(n, i), []byte(benchValue)
		}); err != nil {
			return err
		}
	}
	return nil
}

// benchKey is key i of the prefix of n keys: pods spread over 1,000
// namespaces.
func benchKey(n, i int) string { return fmt.Sprintf("%sns-%03d/pod-%07d", benchPrefix(n), i%1000, i) }

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

// op is one operation under test; it fails the benchmark itself.
type op func(b *testing.B)

// compare runs raw and store separately and then paired. The functions
// make each variant's op once per benchmark (so they can set up state).
func compare(b *testing.B, store, raw func(b *testing.B, s *etcd.Store, cli *clientv3.Client) op) {
	s, cli := benchClients(b)
	var storeOp, rawOp op
	b.Run("impl=raw", func(b *testing.B) {
		rawOp = raw(b, s, cli)
		report(b, "", measure(b, rawOp))
	})
	b.Run("impl=store", func(b *testing.B) {
		storeOp = store(b, s, cli)
		report(b, "", measure(b, storeOp))
	})
	b.Run("impl=paired", func(b *testing.B) {
		var rawLat, storeLat []time.Duration
		for i := 0; b.Loop(); i++ {
			// Alternate which goes first, so neither always runs warm.
			if i%2 == 0 {
				rawLat = append(rawLat, timed(b, rawOp))
				storeLat = append(storeLat, timed(b, storeOp))
			} else {
				storeLat = append(storeLat, timed(b, storeOp))
				rawLat = append(rawLat, timed(b, rawOp))
			}
		}
		r, s := percentile(rawLat, 50), percentile(storeLat, 50)
		b.ReportMetric(float64(r.Microseconds()), "raw-p50-µs")
		b.ReportMetric(float64(s.Microseconds()), "store-p50-µs")
		b.ReportMetric(float64(s)/float64(r), "store/raw")
	})
}

func timed(b *testing.B, o op) time.Duration {
	start := time.Now()
	o(b)
	return time.Since(start)
}

// measure runs o in the benchmark loop and returns each run's duration.
func measure(b *testing.B, o op) []time.Duration {
	var lat []time.Duration
	for b.Loop() {
		lat = append(lat, timed(b, o))
	}
	return lat
}

// report adds the median and 99th percentile of lat to b's results.
func report(b *testing.B, prefix string, lat []time.Duration) {
	b.ReportMetric(float64(percentile(lat, 50).Microseconds()), prefix+"p50-µs")
	b.ReportMetric(float64(percentile(lat, 99).Microseconds()), prefix+"p99-µs")
}

func percentile(lat []time.Duration, p int) time.Duration {
	if len(lat) == 0 {
		return 0
	}
	lat = slices.Clone(lat)
	slices.Sort(lat)
	return lat[min(len(lat)*p/100, len(lat)-1)]
}

func BenchmarkGet(b *testing.B) {
	const n = 10_000
	keys := make([]string, n)
	for i := range keys {
		keys[i] = fmt.Sprintf("%sns-%03d/pod-%07d", benchPrefix(n), i%1000, i)
	}
	compare(b, func(b *testing.B, s *etcd.Store, _ *clientv3.Client) op {
		i := 0
		return func(b *testing.B) {
			i++
			if _, err := s.Get(b.Context(), keys[(i*7919)%n]); err != nil {
				b.Fatal(err)
			}
		}
	}, func(b *testing.B, _ *etcd.Store, cli *clientv3.Client) op {
		i := 0
		return func(b *testing.B) {
			i++
			resp, err := cli.Get(b.Context(), keys[(i*7919)%n])
			if err != nil || len(resp.Kvs) != 1 {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkCreate(b *testing.B) {
	run := time.Now().UnixNano()
	value := []byte(benchValue)
	compare(b, func(b *testing.B, s *etcd.Store, _ *clientv3.Client) op {
		i := 0
		return func(b *testing.B) {
			i++
			if _, err := s.Create(b.Context(), fmt.Sprintf("/bench/create/%d/store/%d", run, i), value); err != nil {
				b.Fatal(err)
			}
		}
	}, func(b *testing.B, _ *etcd.Store, cli *clientv3.Client) op {
		i := 0
		return func(b *testing.B) {
			i++
			key := fmt.Sprintf("/bench/create/%d/raw/%d", run, i)
			resp, err := cli.Txn(b.Context()).
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
	compare(b, func(b *testing.B, s *etcd.Store, _ *clientv3.Client) op {
		const key = "/bench/cas/store"
		rev, err := s.Put(b.Context(), key, value)
		if err != nil {
			b.Fatal(err)
		}
		return func(b *testing.B) {
			if rev, err = s.Update(b.Context(), key, value, rev); err != nil {
				b.Fatal(err)
			}
		}
	}, func(b *testing.B, _ *etcd.Store, cli *clientv3.Client) op {
		const key = "/bench/cas/raw"
		put, err := cli.Put(b.Context(), key, benchValue)
		if err != nil {
			b.Fatal(err)
		}
		rev := put.Header.Revision
		return func(b *testing.B) {
			resp, err := cli.Txn(b.Context()).
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
			compare(b, func(b *testing.B, s *etcd.Store, _ *clientv3.Client) op {
				return func(b *testing.B) {
					page, err := s.List(b.Context(), prefix, backends.ListOptions{Limit: 100})
					if err != nil || len(page.Items) != 100 || !page.More {
						b.Fatalf("page of %d, more %v, err %v", len(page.Items), page.More, err)
					}
				}
			}, func(b *testing.B, _ *etcd.Store, cli *clientv3.Client) op {
				return func(b *testing.B) {
					resp, err := cli.Get(b.Context(), prefix, clientv3.WithPrefix(), clientv3.WithLimit(100))
					if err != nil || len(resp.Kvs) != 100 || !resp.More {
						b.Fatalf("page of %d, err %v", len(resp.Kvs), err)
					}
				}
			})
		})
	}
}

// BenchmarkListDeep reads the page of 100 keys after a key in the middle
// of prefixes of different sizes, as paging through a prefix does. The
// raw call is one range read from After to the end of the prefix; the
// Store, which has read the prefix's first page and so knows it is large,
// reads narrow ranges around After when the prefix is large (see list.go).
func BenchmarkListDeep(b *testing.B) {
	for _, n := range []int{10_000, 100_000} {
		prefix := benchPrefix(n)
		after := benchKey(n, 500) // ns-500/pod-0000500: half the keys follow
		check := func(b *testing.B, got int, more bool, err error) {
			if err != nil || got != 100 || !more {
				b.Fatalf("page of %d after %q, more %v, err %v", got, after, more, err)
			}
		}
		b.Run(fmt.Sprintf("keys=%d", n), func(b *testing.B) {
			compare(b, func(b *testing.B, s *etcd.Store, _ *clientv3.Client) op {
				if _, err := s.List(b.Context(), prefix, backends.ListOptions{Limit: 100}); err != nil {
					b.Fatal(err)
				}
				return func(b *testing.B) {
					page, err := s.List(b.Context(), prefix, backends.ListOptions{After: after, Limit: 100})
					check(b, len(page.Items), page.More, err)
				}
			}, func(b *testing.B, _ *etcd.Store, cli *clientv3.Client) op {
				return func(b *testing.B) {
					resp, err := cli.Get(b.Context(), after+"\x00", clientv3.WithRange(backends.PrefixEnd(prefix)), clientv3.WithLimit(101))
					check(b, min(len(resp.Kvs), 100), len(resp.Kvs) > 100, err)
				}
			})
		})
	}
}

func BenchmarkCount(b *testing.B) {
	const n = 100_000
	prefix := benchPrefix(n)
	compare(b, func(b *testing.B, s *etcd.Store, _ *clientv3.Client) op {
		return func(b *testing.B) {
			if got, err := s.Count(b.Context(), prefix); err != nil || got != n {
				b.Fatalf("Count = %d, %v", got, err)
			}
		}
	}, func(b *testing.B, _ *etcd.Store, cli *clientv3.Client) op {
		return func(b *testing.B) {
			resp, err := cli.Get(b.Context(), prefix, clientv3.WithPrefix(), clientv3.WithCountOnly())
			if err != nil || resp.Count != n {
				b.Fatalf("count %d, %v", resp.Count, err)
			}
		}
	})
}

// BenchmarkWatchLatency measures the time from calling Put to receiving its
// event on a running watch (with previous values, as Store.Watch has them);
// p50-µs and p99-µs are the latency percentiles.
func BenchmarkWatchLatency(b *testing.B) {
	value := []byte("v")
	compare(b, func(b *testing.B, s *etcd.Store, _ *clientv3.Client) op {
		// The watch outlives this sub-benchmark: the paired one uses it.
		ch, err := s.Watch(context.WithoutCancel(b.Context()), "/bench/watch/store/", 0)
		if err != nil {
			b.Fatal(err)
		}
		return func(b *testing.B) {
			rev, err := s.Put(b.Context(), "/bench/watch/store/k", value)
			if err != nil {
				b.Fatal(err)
			}
			if ev := <-ch; ev.KV.ModRevision != rev {
				b.Fatalf("event at %d (%v), want %d", ev.KV.ModRevision, ev.Err, rev)
			}
		}
	}, func(b *testing.B, _ *etcd.Store, cli *clientv3.Client) op {
		ch := cli.Watch(context.WithoutCancel(b.Context()), "/bench/watch/raw/", clientv3.WithPrefix(), clientv3.WithPrevKV())
		return func(b *testing.B) {
			put, err := cli.Put(b.Context(), "/bench/watch/raw/k", string(value))
			if err != nil {
				b.Fatal(err)
			}
			if resp := <-ch; len(resp.Events) != 1 || resp.Events[0].Kv.ModRevision != put.Header.Revision {
				b.Fatalf("watch response %+v", resp)
			}
		}
	})
}
