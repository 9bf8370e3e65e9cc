package native

import (
	"errors"
	"testing"
)

// TestNewEtcdWithoutServer: a program that links no etcd server gets
// ErrNoEtcdServer, before anything touches the data directory.
func TestNewEtcdWithoutServer(t *testing.T) {
	dir := t.TempDir() + "/etcd"
	_, err := NewEtcd(EtcdConfig{DataDir: dir, ClientPort: 2379, PeerPort: 2380, MaxRequestBytes: 1 << 20})
	if !errors.Is(err, ErrNoEtcdServer) {
		t.Fatalf("NewEtcd without Launch: %v, want ErrNoEtcdServer", err)
	}
}
