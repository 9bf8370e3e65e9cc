package mysql_test

// Benchmarks: each Store operation next to the same statements written by
// hand with database/sql on the same tables and server, plus watch latency.
// See BENCHMARKS.md for the command and figures.

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/k3/k3-storage/backends"
	"github.com/k3/k3-storage/backends/mysql"
	"github.com/k3/k3-storage/backends/mysql/mysqltest"
)

// benchValue is a small object, as k3 stores them.
var benchValue = []byte(`{"kind":"Pod","apiVersion":"v1","metadata":{"name":"pod","namespace":"default"}}`)

// benchEnv is a Store and a raw pool (same pool bounds, same connection
// settings: binary character set, strict mode, interpolated parameters)
// on one database.
type benchEnv struct {
	store *mysql.Store
	raw   *sql.DB
	opts  mysql.Options
}

func newBenchEnv(b *testing.B) *benchEnv {
	b.Helper()
	opts := mysqltest.NewDatabase(b)
	s := open(b, opts)
	raw := mysqltest.OpenDB(b, opts)
	raw.SetMaxOpenConns(opts.MaxOpenConns) // the same pool as the Store's
	raw.SetMaxIdleConns(opts.MaxIdleConns)
	return &benchEnv{store: s, raw: raw, opts: opts}
}

// seed inserts n keys prefix%08d in bulk, straight into k3_kv, at one new
// revision (writing them one by one would take minutes).
func (e *benchEnv) seed(b *testing.B, prefix string, n int) []string {
	b.Helper()
	ctx := b.Context()
	tx, err := e.raw.BeginTx(ctx, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, "UPDATE k3_meta SET current_rev = LAST_INSERT_ID(current_rev + 1) WHERE id = 1")
	if err != nil {
		b.Fatal(err)
	}
	rev, _ := res.LastInsertId()
	keys := make([]string, n)
	const batch = 1000
	for start := 0; start < n; start += batch {
		var q strings.Builder
		q.WriteString("INSERT INTO k3_kv (k, value, create_rev, mod_rev, version) VALUES ")
		var args []any
		for i := start; i < min(n, start+batch); i++ {
			keys[i] = fmt.Sprintf("%s%08d", prefix, i)
			if i > start {
				q.WriteString(",")
			}
			q.WriteString("( ?, ?, ?, ?, 1)")
			args = append(args, []byte(keys[i]), benchValue, rev, rev)
		}
		if _, err := tx.ExecContext(ctx, q.String(), args...); err != nil {
			b.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
	return keys
}

// rawWrite is the hand-written write transaction: next revision, then fn.
func rawWrite(ctx context.Context, db *sql.DB, fn func(tx *sql.Tx, rev int64) error) (int64, error) {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, "UPDATE k3_meta SET current_rev = LAST_INSERT_ID(current_rev + 1) WHERE id = 1")
	if err != nil {
		return 0, err
	}
	rev, err := res.LastInsertId()
	if err != nil {
		return 0, err
	}
	if err := fn(tx, rev); err != nil {
		return 0, err
	}
	return rev, tx.Commit()
}

func rawCreate(ctx context.Context, db *sql.DB, key string, value []byte) (int64, error) {
	return rawWrite(ctx, db, func(tx *sql.Tx, rev int64) error {
		if _, err := tx.ExecContext(ctx, "INSERT INTO k3_kv (k, value, create_rev, mod_rev, version) VALUES (?, ?, ?, ?, 1)", []byte(key), value, rev, rev); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, "INSERT INTO k3_log (rev, k, type, value, prev_value, create_rev, prev_mod_rev, prev_version) VALUES (?, ?, 1, ?, NULL, ?, 0, 0)", rev, []byte(key), value, rev)
		return err
	})
}

// paired runs the Store's and the hand-written version of one operation
// alternately, flipping their order every iteration, so that both see the
// same server load (other sessions' builds, fsync stalls), and reports each
// one's median time per operation and the ratio of the medians (medians,
// because a single fsync stall on a shared disk would dominate a mean).
// ns/op covers both plus setup, which (if not nil) runs untimed by the pair
// before each iteration.
func paired(b *testing.B, setup, store, raw func(i int)) {
	var ts, tr []time.Duration
	for i := 0; b.Loop(); i++ {
		if setup != nil {
			setup(i)
		}
		first, second, tf, tsec := store, raw, &ts, &tr
		if i%2 == 1 {
			first, second, tf, tsec = raw, store, &tr, &ts
		}
		t0 := time.Now()
		first(i)
		t1 := time.Now()
		second(i)
		*tf = append(*tf, t1.Sub(t0))
		*tsec = append(*tsec, time.Since(t1))
	}
	ms, mr := median(ts), median(tr)
	b.ReportMetric(float64(ms.Nanoseconds()), "store-ns/op")
	b.ReportMetric(float64(mr.Nanoseconds()), "raw-ns/op")
	b.ReportMetric(float64(ms)/float64(mr), "store/raw")
}

func median(d []time.Duration) time.Duration {
	slices.Sort(d)
	return d[len(d)/2]
}

func BenchmarkGet(b *testing.B) {
	e := newBenchEnv(b)
	keys := e.seed(b, "/get/", 10_000)
	ctx := b.Context()
	paired(b, nil, func(i int) {
		if _, err := e.store.Get(ctx, keys[(i*7919)%len(keys)]); err != nil {
			b.Fatal(err)
		}
	}, func(i int) {
		var kv backends.KeyValue
		err := e.raw.QueryRowContext(ctx, "SELECT value, create_rev, mod_rev, version FROM k3_kv WHERE k = ?", []byte(keys[(i*7919+1)%len(keys)])).
			Scan(&kv.Value, &kv.CreateRevision, &kv.ModRevision, &kv.Version)
		if err != nil {
			b.Fatal(err)
		}
	})
}

func BenchmarkCreate(b *testing.B) {
	e := newBenchEnv(b)
	ctx := b.Context()
	run := fmt.Sprint(time.Now().UnixNano()) // b.Loop may run the body more than once
	paired(b, nil, func(i int) {
		if _, err := e.store.Create(ctx, fmt.Sprintf("/create/%s/s%d", run, i), benchValue); err != nil {
			b.Fatal(err)
		}
	}, func(i int) {
		if _, err := rawCreate(ctx, e.raw, fmt.Sprintf("/create/%s/r%d", run, i), benchValue); err != nil {
			b.Fatal(err)
		}
	})
}

func BenchmarkUpdateCAS(b *testing.B) {
	e := newBenchEnv(b)
	ctx := b.Context()
	srev, err := e.store.Put(ctx, "/cas/store", benchValue)
	if err != nil {
		b.Fatal(err)
	}
	rrev, err := e.store.Put(ctx, "/cas/raw", benchValue)
	if err != nil {
		b.Fatal(err)
	}
	k := []byte("/cas/raw")
	paired(b, nil, func(int) {
		if srev, err = e.store.Update(ctx, "/cas/store", benchValue, srev); err != nil {
			b.Fatal(err)
		}
	}, func(int) {
		ifRev := rrev
		rrev, err = rawWrite(ctx, e.raw, func(tx *sql.Tx, rev int64) error {
			res, err := tx.ExecContext(ctx, "INSERT INTO k3_log (rev, k, type, value, prev_value, create_rev, prev_mod_rev, prev_version) "+
				"SELECT ?, k, 2, ?, value, create_rev, mod_rev, version FROM k3_kv WHERE k = ? AND mod_rev = ?", rev, benchValue, k, ifRev)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n != 1 {
				return backends.ErrConflict
			}
			_, err = tx.ExecContext(ctx, "UPDATE k3_kv SET value = ?, mod_rev = ?, version = version + 1 WHERE k = ?", benchValue, rev, k)
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
	})
}

// BenchmarkDelete deletes keys created just before (untimed by the pair).
func BenchmarkDelete(b *testing.B) {
	e := newBenchEnv(b)
	ctx := b.Context()
	run := fmt.Sprint(time.Now().UnixNano())
	// Each side creates its own keys, so both pools are equally warm.
	create := func(who string, i int) (string, int64) {
		key := fmt.Sprintf("/delete/%s/%s%d", run, who, i)
		create := e.store.Create
		if who == "r" {
			create = func(ctx context.Context, key string, value []byte) (int64, error) {
				return rawCreate(ctx, e.raw, key, value)
			}
		}
		rev, err := create(ctx, key, benchValue)
		if err != nil {
			b.Fatal(err)
		}
		return key, rev
	}
	var sKey, rKey string
	var sRev, rRev int64
	paired(b, func(i int) {
		if i%2 == 0 { // neither side always deletes the newest row
			sKey, sRev = create("s", i)
			rKey, rRev = create("r", i)
		} else {
			rKey, rRev = create("r", i)
			sKey, sRev = create("s", i)
		}
	}, func(int) {
		if _, err := e.store.Delete(ctx, sKey, sRev); err != nil {
			b.Fatal(err)
		}
	}, func(int) {
		k := []byte(rKey)
		_, err := rawWrite(ctx, e.raw, func(tx *sql.Tx, rev int64) error {
			res, err := tx.ExecContext(ctx, "INSERT INTO k3_log (rev, k, type, value, prev_value, create_rev, prev_mod_rev, prev_version) "+
				"SELECT ?, k, 3, NULL, value, create_rev, mod_rev, version FROM k3_kv WHERE k = ? AND mod_rev = ?", rev, k, rRev)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n != 1 {
				return backends.ErrConflict
			}
			_, err = tx.ExecContext(ctx, "DELETE FROM k3_kv WHERE k = ?", k)
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
	})
}

// BenchmarkList reads a page of 100 keys at a random position of a prefix
// holding 10,000 or 100,000 keys: the page time must not depend on the
// prefix size. raw is the same single statement (revision row UNION ALL the
// range scan) through database/sql.
func BenchmarkList(b *testing.B) {
	e := newBenchEnv(b)
	sizes := []int{10_000, 100_000}
	keys := map[int][]string{}
	for _, n := range sizes {
		keys[n] = e.seed(b, fmt.Sprintf("/list%d/", n), n)
	}
	ctx := b.Context()
	q := "SELECT 1, NULL, NULL, current_rev, 0, 0 FROM k3_meta WHERE id = 1 UNION ALL " +
		"(SELECT 0, k, value, create_rev, mod_rev, version FROM k3_kv WHERE k > ? AND k < ? ORDER BY k LIMIT ?)"
	for _, n := range sizes {
		prefix := fmt.Sprintf("/list%d/", n)
		end := []byte(backends.PrefixEnd(prefix))
		after := func(i int) string { return keys[n][(i*7919)%(n-100)] }
		b.Run(fmt.Sprintf("keys=%d", n), func(b *testing.B) {
			paired(b, nil, func(i int) {
				page, err := e.store.List(ctx, prefix, backends.ListOptions{After: after(i), Limit: 100})
				if err != nil || len(page.Items) != 100 {
					b.Fatalf("%d items, %v", len(page.Items), err)
				}
			}, func(i int) {
				rows, err := e.raw.QueryContext(ctx, q, []byte(after(i+1)), end, 101)
				if err != nil {
					b.Fatal(err)
				}
				var items []backends.KeyValue
				for rows.Next() {
					var (
						isRev bool
						k     []byte
						kv    backends.KeyValue
					)
					if err := rows.Scan(&isRev, &k, &kv.Value, &kv.CreateRevision, &kv.ModRevision, &kv.Version); err != nil {
						b.Fatal(err)
					}
					if !isRev {
						kv.Key = string(k)
						items = append(items, kv)
					}
				}
				if err := rows.Close(); err != nil || len(items) != 101 {
					b.Fatalf("%d items, %v", len(items), err)
				}
			})
		})
	}
}

func BenchmarkCount(b *testing.B) {
	e := newBenchEnv(b)
	const n = 100_000
	e.seed(b, "/count/", n)
	ctx := b.Context()
	b.Run("keys=100000", func(b *testing.B) {
		paired(b, nil, func(int) {
			if got, err := e.store.Count(ctx, "/count/"); err != nil || got != n {
				b.Fatalf("%d, %v", got, err)
			}
		}, func(int) {
			var got int64
			if err := e.raw.QueryRowContext(ctx, "SELECT COUNT(*) FROM k3_kv WHERE k >= ? AND k < ?", []byte("/count/"), []byte("/count0")).Scan(&got); err != nil || got != n {
				b.Fatalf("%d, %v", got, err)
			}
		})
	})
}

// BenchmarkWatchLatency measures write-to-event latency, from the moment
// the write returned (committed) to the event's arrival: local (the watch
// is on the writing Store, woken by its commit) and cross-store (the watch
// is on another Store with its own pool, which learns of the write only by
// polling, as another process would; default PollInterval). It reports the
// 50th and 99th percentiles.
func BenchmarkWatchLatency(b *testing.B) {
	opts := mysqltest.NewDatabase(b)
	writer := open(b, opts)
	for _, tt := range []struct {
		name    string
		watcher *mysql.Store
	}{
		{"local", writer},
		{"cross-store", open(b, opts)},
	} {
		b.Run(tt.name, func(b *testing.B) {
			ctx, cancel := context.WithCancel(b.Context())
			defer cancel()
			ch, err := tt.watcher.Watch(ctx, "/lat/", 0)
			if err != nil {
				b.Fatal(err)
			}
			var lat []time.Duration
			// Desynchronise writes from the poller's ticker, as real
			// writes are.
			jitter := rand.New(rand.NewPCG(1, 2))
			for b.Loop() {
				b.StopTimer()
				time.Sleep(time.Duration(jitter.IntN(int(opts.PollInterval))))
				b.StartTimer()
				rev, err := writer.Put(ctx, "/lat/k", benchValue)
				if err != nil {
					b.Fatal(err)
				}
				start := time.Now() // the write is committed and acknowledged
				for ev := range ch {
					if ev.Err != nil {
						b.Fatal(ev.Err)
					}
					if ev.KV.ModRevision == rev {
						break
					}
				}
				lat = append(lat, time.Since(start))
			}
			slices.Sort(lat)
			pct := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))].Nanoseconds()) }
			b.ReportMetric(pct(0.50), "p50-ns")
			b.ReportMetric(pct(0.99), "p99-ns")
		})
	}
}
