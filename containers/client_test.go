package containers

import "testing"

// TestIsLocalAddress: Client.Local's verdict. Containers publish on the
// daemon host's loopback, so only a daemon on this machine will do.
func TestIsLocalAddress(t *testing.T) {
	tests := []struct {
		address string
		want    bool
	}{
		{"unix:///var/run/docker.sock", true},
		{"unix:///run/user/1000/podman/podman.sock", true},
		{"npipe:////./pipe/docker_engine", true},
		{"tcp://127.0.0.1:2375", true},
		{"tcp://127.0.0.2:2376", true},
		{"tcp://localhost:2375", true},
		{"tcp://[::1]:2375", true},
		{"tcp://remotehost:2376", false},
		{"tcp://192.0.2.10:2376", false},
		{"tcp://[2001:db8::1]:2376", false},
		{"tcp://localhost.example.com:2376", false},
		{"ssh://user@remotehost", false},
		{"not a url", false},
	}
	for _, tt := range tests {
		if got := isLocalAddress(tt.address); got != tt.want {
			t.Errorf("isLocalAddress(%q) = %v, want %v", tt.address, got, tt.want)
		}
	}
}
