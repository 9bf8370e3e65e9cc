package engine_test

// Health check figures, against real servers (a private MariaDB, an etcd
// process, an embedded etcd behind a proxy):
//
//	go test ./engine -run '^$' -bench 'BenchmarkHealthDetection' -benchtime 20x -timeout 60m
//	go test ./engine -run '^$' -bench 'BenchmarkHealthCost' -benchtime 10x -timeout 60m
//
// BenchmarkHealthDetection measures, with the default interval and
// timeout, how long after an outage begins the down event is emitted, and
// how long after the backend is back the up event is; each iteration is
// one outage. BenchmarkHealthCost measures the Store's write throughput
// with the checks off, at the default interval and at the smallest one,
// alternating, and counts the down events the checks report meanwhile
// (each one a false alarm: nothing is down).

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/k3/k3-storage/backends"
	"github.com/k3/k3-storage/backends/etcd"
	"github.com/k3/k3-storage/backends/etcd/etcdtest"
	"github.com/k3/k3-storage/backends/mysql"
	"github.com/k3/k3-storage/backends/mysql/mysqltest"
	"github.com/k3/k3-storage/configs"
	"github.com/k3/k3-storage/engine"
	"github.com/k3/k3-storage/engine/lifecycle"
)

// defaultHealth is what k3-storage runs with: the config's interval and
// the engine's timeout.
func defaultHealth() engine.Health {
	return engine.Health{Interval: time.Duration(configs.Default().Storage.HealthInterval)}
}

// benchMySQL starts a private MariaDB for a benchmark and returns it with
// the options of a store on its database k3.
func benchMySQL(b *testing.B) (*mysqltest.Server, mysql.Options) {
	b.Helper()
	srv := mysqltest.NewServer(b)
	srv.MustStart(b)
	opts := srv.Options()
	opts.Database = "k3"
	return srv, opts
}

// outage is a way to make a backend unreachable and reachable again.
type outage struct {
	begin, end func() error
}

func BenchmarkHealthDetection(b *testing.B) {
	b.Run("mysql", func(b *testing.B) {
		srv, opts := benchMySQL(b)
		ctx, cancel := context.WithTimeout(b.Context(), 10*time.Minute) // bounds the restarts
		defer cancel()
		direct := engine.Options{Backend: engine.MySQL, Health: defaultHealth(),
			MySQL: engine.MySQLOptions{Options: opts, ConnectBudget: time.Minute}}
		b.Run("refused", func(b *testing.B) {
			detection(b, direct, outage{func() error { srv.Kill(); return nil }, func() error { return srv.Start(ctx) }})
		})
		b.Run("sigstop", func(b *testing.B) {
			detection(b, direct, outage{srv.Pause, srv.Resume})
		})
		b.Run("blackhole", func(b *testing.B) {
			proxy := mysqltest.NewProxy(b, opts)
			viaProxy := direct
			viaProxy.MySQL.Options = proxy.Options(opts)
			detection(b, viaProxy, outage{func() error { proxy.Blackhole(); return nil }, func() error { proxy.Heal(); return nil }})
		})
	})
	b.Run("etcd", func(b *testing.B) {
		proc := etcdtest.StartProcess(b)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		defer cancel()
		direct := engine.Options{Backend: engine.Etcd, Health: defaultHealth(),
			Etcd: engine.EtcdOptions{Options: etcd.Options{Endpoints: []string{proc.Endpoint}}, ConnectBudget: time.Minute}}
		b.Run("refused", func(b *testing.B) {
			detection(b, direct, outage{func() error { proc.Kill(); return nil }, func() error { return proc.Start(ctx) }})
		})
		b.Run("sigstop", func(b *testing.B) {
			detection(b, direct, outage{proc.Pause, proc.Resume})
		})
		b.Run("blackhole", func(b *testing.B) {
			c := etcdtest.StartCluster(b, 1)
			viaProxy := direct
			viaProxy.Etcd.Endpoints = c.Endpoints()
			detection(b, viaProxy, outage{func() error { c.Blackhole(0); return nil }, func() error { c.Heal(0); return nil }})
		})
	})
}

// detection runs one outage per iteration under a ready engine and reports
// the percentiles of the time from its beginning to the down event and
// from its end (the backend answers again) to the up event.
func detection(b *testing.B, opts engine.Options, o outage) {
	w := startWatched(b, opts)
	interval := opts.Health.Interval
	var down, up []time.Duration
	for b.Loop() {
		// Outages begin at a random point of the check cycle, as real
		// ones do; right after an up event they would all begin just
		// after a check.
		time.Sleep(rand.N(interval))
		began := time.Now()
		if err := o.begin(); err != nil {
			b.Fatal(err)
		}
		ev := w.next(lifecycle.HealthDown, time.Minute, "outage")
		down = append(down, ev.Time.Sub(began))
		time.Sleep(rand.N(interval)) // and end at a random point too
		if err := o.end(); err != nil {
			b.Fatal(err)
		}
		ended := time.Now() // a restarted server answers when end returns
		ev = w.next(lifecycle.HealthUp, time.Minute, "end of the outage")
		up = append(up, ev.Time.Sub(ended))
	}
	b.StopTimer()
	b.ReportMetric(percentile(down, 50), "detect-p50-ms")
	b.ReportMetric(percentile(down, 99), "detect-p99-ms")
	b.ReportMetric(percentile(down, 100), "detect-max-ms")
	b.ReportMetric(percentile(up, 50), "recover-p50-ms")
	b.ReportMetric(percentile(up, 99), "recover-p99-ms")
	b.ReportMetric(0, "ns/op") // the loop's time is mostly waiting by design
}

// percentile returns the p-th percentile (nearest rank) of ds in
// milliseconds.
func percentile(ds []time.Duration, p int) float64 {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := max((len(s)*p+99)/100-1, 0)
	return float64(s[i].Microseconds()) / 1000
}

func BenchmarkHealthCost(b *testing.B) {
	b.Run("mysql", func(b *testing.B) {
		_, opts := benchMySQL(b)
		cost(b, func(h engine.Health) engine.Options {
			return engine.Options{Backend: engine.MySQL, Health: h, MySQL: engine.MySQLOptions{Options: opts, ConnectBudget: time.Minute}}
		})
	})
	b.Run("etcd", func(b *testing.B) {
		// A server process of its own, as in production: an embedded one
		// would share this process's scheduler and collector with the load.
		eps := []string{etcdtest.StartProcess(b).Endpoint}
		cost(b, func(h engine.Health) engine.Options {
			return engine.Options{Backend: engine.Etcd, Health: h, Etcd: engine.EtcdOptions{Options: etcd.Options{Endpoints: eps}, ConnectBudget: time.Minute}}
		})
	})
}

// costPhase is how long each configuration writes in a round.
const costPhase = 3 * time.Second

// cost runs, per iteration, one round of three phases in rotating order:
// an engine with the checks off, one at the default interval and one at
// the smallest, each writing for costPhase from 32 goroutines (enough to
// keep every pooled connection busy). It reports the median write rate of
// each and the ratios to the rate without checks, the down events the
// checks reported (each a false alarm unless the server really stalled:
// see failed-puts), and the puts that failed.
func cost(b *testing.B, optsFor func(engine.Health) engine.Options) {
	checks := []struct {
		name   string
		health engine.Health
	}{
		{"off", engine.Health{}},
		{"default", defaultHealth()},
		{"100ms", engine.Health{Interval: 100 * time.Millisecond}},
	}
	rates := make(map[string][]float64)
	var downs, failed, round int
	for b.Loop() {
		for k := range checks {
			c := checks[(k+round)%len(checks)]
			w := startWatched(b, optsFor(c.health))
			rate, errs := writeRate(w.store)
			rates[c.name] = append(rates[c.name], rate)
			failed += errs
			b.Logf("round %d, checks %s: %.0f puts/s, %d failed", round, c.name, rate, errs)
			for _, ev := range w.shutdown() {
				if ev.Kind == lifecycle.KindHealth && ev.Health.State == lifecycle.HealthDown {
					downs++
					b.Logf("false alarm (%s): %v", c.name, ev.Err)
				}
			}
		}
		round++
	}
	off := medianRate(rates["off"])
	b.ReportMetric(off, "off-puts/s")
	b.ReportMetric(medianRate(rates["default"])/off, "default/off")
	b.ReportMetric(medianRate(rates["100ms"])/off, "100ms/off")
	b.ReportMetric(float64(downs), "false-downs")
	b.ReportMetric(float64(failed), "failed-puts")
	b.ReportMetric(0, "ns/op")
}

// writeRate puts keys from 32 goroutines for costPhase and returns the
// successful puts per second and the number that failed (a server
// overloaded by whatever else runs on the machine times requests out;
// that happens with the checks on or off, and is reported, not hidden).
func writeRate(s backends.Store) (rate float64, failed int) {
	var ok, bad, seq atomic.Int64
	ctx, cancel := context.WithTimeout(context.Background(), costPhase)
	defer cancel()
	var wg sync.WaitGroup
	for range 32 {
		wg.Go(func() {
			for ctx.Err() == nil {
				i := seq.Add(1)
				_, err := s.Put(ctx, fmt.Sprintf("/bench/%d", i%10_000), benchValue)
				switch {
				case err == nil:
					ok.Add(1)
				case ctx.Err() == nil:
					bad.Add(1)
				}
			}
		})
	}
	wg.Wait()
	return float64(ok.Load()) / costPhase.Seconds(), int(bad.Load())
}

func medianRate(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[len(s)/2]
}

// benchValue is a small object, as k3 stores them.
var benchValue = []byte(`{"kind":"Pod","apiVersion":"v1","metadata":{"name":"pod","namespace":"default"}}`)
