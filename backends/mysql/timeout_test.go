package mysql_test

import (
	"errors"
	"net"
	"testing"
	"time"

	"github.com/k3/k3-storage/backends"
	"github.com/k3/k3-storage/backends/mysql"
	"github.com/k3/k3-storage/backends/mysql/mysqltest"
)

// TestWriterVanishesMidTransaction: a writer's connection goes silent right
// after it took the meta row lock that every writer queues on (a network
// partition, say). The write, called without a deadline, must still return
// within RequestTimeout; writers of another Store queued behind the lock
// must give up within RequestTimeout each rather than the server's default
// of 50s; and the server must end the silent session, releasing the lock,
// within 3×RequestTimeout, after which writing works again.
func TestWriterVanishesMidTransaction(t *testing.T) {
	opts := mysqltest.NewDatabase(t)
	const timeout = time.Second
	const slack = 2 * time.Second // a loaded machine
	opts.RequestTimeout = timeout
	other := open(t, opts)
	proxy := mysqltest.NewProxy(t, opts)
	vanishing := open(t, proxy.Options(opts))
	ctx := t.Context() // no deadline: the Store must bring its own

	frozen := proxy.FreezeOn("UPDATE k3_meta SET current_rev")
	start := time.Now()
	_, err := vanishing.Put(ctx, "/vanish/a", []byte("v"))
	took := time.Since(start)
	select {
	case <-frozen:
	default:
		t.Fatalf("the write's connection did not freeze (Put: %v)", err)
	}
	if err == nil || errors.Is(err, backends.ErrPermanent) {
		t.Fatalf("Put on a connection gone silent: %v, want a retryable error", err)
	}
	if took > timeout+slack {
		t.Fatalf("Put on a connection gone silent took %v, want about RequestTimeout (%v)", took, timeout)
	}
	t.Logf("Put on a silent connection failed after %v: %v", took.Round(time.Millisecond), err)

	// The server still holds the lock of the silent session.
	var rev int64
	attempts := 0
	for {
		attempts++
		begin := time.Now()
		rev, err = other.Put(ctx, "/vanish/b", []byte("v"))
		if d := time.Since(begin); d > timeout+slack {
			t.Fatalf("Put queued behind the silent writer took %v, want about RequestTimeout (%v): %v", d, timeout, err)
		}
		if err == nil {
			break
		}
		if time.Since(start) > 3*timeout+3*slack {
			t.Fatalf("the server still holds the silent writer's lock after %v: %v", time.Since(start), err)
		}
	}
	t.Logf("the lock was released %v after the writer went silent (%d attempts)", time.Since(start).Round(time.Millisecond), attempts)
	if attempts == 1 {
		t.Errorf("the first write after the freeze succeeded: the frozen writer held no lock, so this test proved nothing")
	}
	// The silent writer's transaction was rolled back, and its Store
	// writes again (on a new connection).
	if _, err := other.Get(ctx, "/vanish/a"); !errors.Is(err, backends.ErrNotFound) {
		t.Fatalf("Get of the silent writer's key: %v, want ErrNotFound (rolled back)", err)
	}
	if r, err := vanishing.Put(ctx, "/vanish/a", []byte("v")); err != nil || r != rev+1 {
		t.Fatalf("Put by the Store whose connection went silent: %d, %v; want revision %d", r, err, rev+1)
	}
}

// TestDialTimeoutBoundsHandshake: a server that accepts connections but
// never greets must fail Open within DialTimeout, not OpenTimeout or the
// caller's context.
func TestDialTimeoutBoundsHandshake(t *testing.T) {
	stop := make(chan struct{})
	port := fakeServer(t, func(c net.Conn) { <-stop })
	t.Cleanup(func() { close(stop) })
	start := time.Now()
	s, err := mysql.Open(t.Context(), mysql.Options{Host: "127.0.0.1", Port: port, User: "u", Password: "pw", Database: "k3",
		DialTimeout: 300 * time.Millisecond, OpenTimeout: 30 * time.Second, PollInterval: time.Second})
	if err == nil {
		s.Close()
		t.Fatal("Open succeeded against a server that never answered")
	}
	if took := time.Since(start); took > 3*time.Second {
		t.Fatalf("Open took %v with a 300ms DialTimeout: the handshake is not bounded by it", took)
	}
	if errors.Is(err, backends.ErrPermanent) {
		t.Fatalf("silent server marked permanent: %v", err)
	}
}
