package mysql_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/k3/k3-storage/backends"
	"github.com/k3/k3-storage/backends/mysql"
	"github.com/k3/k3-storage/backends/mysql/mysqltest"
)

// TestCountRevOneReadView hammers one prefix with writers of two Stores
// (two processes, in effect) while readers take CountRev: through the
// Store, and its statement on sessions of their own under REPEATABLE READ
// and READ COMMITTED. Each count must equal the number of keys at its
// revision, rebuilt from a watch that saw every change: the count and the
// meta row's revision come from one InnoDB read view at either level.
func TestCountRevOneReadView(t *testing.T) {
	opts := mysqltest.NewDatabase(t)
	a, b := open(t, opts), open(t, opts)
	ctx := ctxOf(t)
	const prefix, keys, writers, perWriter = "/c/", 400, 4, 150
	key := func(i int) string { return fmt.Sprintf("%s%04d", prefix, i%keys) }

	// Seed every other key, so the range scan has rows to count.
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w * 2; i < keys; i += 2 * writers {
				if _, err := a.Put(ctx, key(i), []byte("seed")); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	n0, rev0, err := a.CountRev(ctx, prefix)
	if err != nil || n0 != keys/2 {
		t.Fatalf("CountRev after seeding = %d, %d, %v; want %d", n0, rev0, err, keys/2)
	}
	all, err := a.Watch(ctx, prefix, rev0+1)
	if err != nil {
		t.Fatal(err)
	}

	type reader struct {
		name  string
		count func(context.Context) (n, rev int64, err error)
	}
	readers := []reader{{"Store.CountRev", func(ctx context.Context) (int64, int64, error) { return a.CountRev(ctx, prefix) }}}
	for _, level := range []string{"REPEATABLE READ", "READ COMMITTED"} {
		conn, err := mysqltest.OpenDB(t, opts).Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.Close() })
		if _, err := conn.ExecContext(ctx, "SET SESSION TRANSACTION ISOLATION LEVEL "+level); err != nil {
			t.Fatal(err)
		}
		q, args := mysql.CountRevQuery(prefix)
		readers = append(readers, reader{level, func(ctx context.Context) (n, rev int64, err error) {
			err = conn.QueryRowContext(ctx, q, args...).Scan(&rev, &n)
			return n, rev, err
		}})
	}

	start, done := make(chan struct{}), make(chan struct{})
	var writes sync.WaitGroup
	for w := range writers {
		s := []*mysql.Store{a, b}[w%2]
		writes.Add(1)
		go func() {
			defer writes.Done()
			<-start
			for i := range perWriter {
				k := key(w*97 + i*31)
				var err error
				if i%2 == 1 {
					if _, err = s.Delete(ctx, k, 0); errors.Is(err, backends.ErrNotFound) {
						err = nil
					}
				} else {
					_, err = s.Put(ctx, k, []byte("v"))
				}
				if err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	go func() { writes.Wait(); close(done) }()

	type sample struct {
		reader   string
		n, rev   int64
		finished bool
	}
	samples := make(chan sample, 1<<16)
	var reads sync.WaitGroup
	for _, r := range readers {
		reads.Add(1)
		go func() {
			defer reads.Done()
			for running := true; running; {
				select {
				case <-done:
					running = false
				default:
				}
				n, rev, err := r.count(ctx)
				if err != nil {
					t.Errorf("%s: %v", r.name, err)
					return
				}
				samples <- sample{r.name, n, rev, !running}
			}
		}()
	}
	close(start)
	reads.Wait()
	close(samples)
	if t.Failed() {
		return
	}

	var final int64
	var got []sample
	for sm := range samples {
		got = append(got, sm)
		final = max(final, sm.rev)
	}
	counts := map[int64]int64{rev0: n0}
	n, last := n0, rev0
	for last < final {
		select {
		case ev := <-all:
			if ev.Err != nil {
				t.Fatal(ev.Err)
			}
			switch ev.Type {
			case backends.Created:
				n++
			case backends.Deleted:
				n--
			}
			last = ev.KV.ModRevision
			counts[last] = n
		case <-ctx.Done():
			t.Fatalf("the watch stopped at revision %d before %d", last, final)
		}
	}
	during := map[string]int{}
	for _, sm := range got {
		want, ok := counts[sm.rev]
		if !ok {
			t.Fatalf("%s: revision %d is none of the writes", sm.reader, sm.rev)
		}
		if sm.n != want {
			t.Fatalf("%s counted %d keys at revision %d; there were %d", sm.reader, sm.n, sm.rev, want)
		}
		if sm.rev > rev0 && !sm.finished {
			during[sm.reader]++
		}
	}
	for _, r := range readers {
		if during[r.name] == 0 {
			t.Errorf("%s took no count while the writers ran", r.name)
		}
	}
	t.Logf("counts taken while %d writes ran: %v", writers*perWriter, during)
}
