package etcdtest_test

import (
	"context"
	"os"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/k3/k3-storage/backends/etcd"
	"github.com/k3/k3-storage/backends/etcd/etcdtest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// roundTrip writes and reads a key through a Store on endpoints.
func roundTrip(t *testing.T, endpoints []string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	s, err := etcd.Open(ctx, etcd.Options{Endpoints: endpoints})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	rev, err := s.Put(ctx, "/etcdtest/k", []byte("v"))
	if err != nil {
		t.Fatal(err)
	}
	if kv, err := s.Get(ctx, "/etcdtest/k"); err != nil || kv.ModRevision != rev {
		t.Fatalf("Get = %+v, %v", kv, err)
	}
}

func TestStart(t *testing.T) {
	eps := etcdtest.Start(t)
	if len(eps) == 0 {
		t.Fatal("no endpoints")
	}
	roundTrip(t, eps)
}

func TestClusterStopRestart(t *testing.T) {
	c := etcdtest.StartCluster(t, 3)
	eps := c.Endpoints()
	if len(eps) != 3 || c.Size() != 3 {
		t.Fatalf("endpoints %v", eps)
	}
	for _, stop := range []struct {
		name string
		fn   func(int)
	}{{"Stop", c.Stop}, {"Kill", c.Kill}} {
		lead := c.Leader()
		if lead < 0 {
			t.Fatal("no leader")
		}
		stop.fn(lead)
		deadline := time.Now().Add(20 * time.Second)
		for c.Leader() < 0 || c.Leader() == lead {
			if time.Now().After(deadline) {
				t.Fatalf("no new leader after %s of the leader", stop.name)
			}
			time.Sleep(20 * time.Millisecond)
		}
		roundTrip(t, eps)
		if err := c.Restart(lead); err != nil {
			t.Fatal(err)
		}
		if got := c.Endpoints(); got[lead] != eps[lead] {
			t.Fatalf("member %d moved from %s to %s", lead, eps[lead], got[lead])
		}
		roundTrip(t, []string{eps[lead]})
	}
}

func TestLaunchClose(t *testing.T) {
	c, err := etcdtest.Launch(etcdtest.Config{}, "")
	if err != nil {
		t.Fatal(err)
	}
	roundTrip(t, c.Endpoints())
	c.Close()
	c.Close()
	if _, err := os.Stat(c.DataDir()); !os.IsNotExist(err) {
		t.Fatalf("data directory %s left behind: %v", c.DataDir(), err)
	}
}
