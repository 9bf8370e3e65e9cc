package containers

import (
	"os"
	"os/exec"
	"testing"
)

func TestParseStatStartTime(t *testing.T) {
	// Field 22 is 98765; the command name holds spaces and parentheses.
	stat := "4242 (evil) name (x)) S 1 4242 4242 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 98765 1000 10 18446744073709551615\n"
	got, err := parseStatStartTime([]byte(stat))
	if err != nil || got != 98765 {
		t.Fatalf("parseStatStartTime = %d, %v; want 98765", got, err)
	}
	for _, bad := range []string{"", "4242 comm S 1", "4242 (c) S 1 2 3", "4242 (c) S 1 4242 4242 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 x 1000"} {
		if _, err := parseStatStartTime([]byte(bad)); err == nil {
			t.Errorf("parseStatStartTime(%q) succeeded", bad)
		}
	}
}

func startSleeper(t *testing.T) *exec.Cmd {
	t.Helper()
	cmd := exec.Command("sleep", "300")
	if err := cmd.Start(); err != nil {
		t.Fatalf("start sleep: %v", err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	return cmd
}

func TestOwnerLiveness(t *testing.T) {
	me := CurrentOwner()
	if me.PID != os.Getpid() || me.StartTime == 0 {
		t.Fatalf("CurrentOwner = %+v: want this pid and a start time from /proc", me)
	}
	host, _ := os.Hostname()
	if me.Host != host {
		t.Fatalf("CurrentOwner host %q, want %q", me.Host, host)
	}

	child := startSleeper(t)
	alive, err := ProcessOwner(child.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	if alive.StartTime < me.StartTime {
		t.Errorf("child started at %d, before this process (%d)", alive.StartTime, me.StartTime)
	}

	dead := startSleeper(t)
	deadOwner, err := ProcessOwner(dead.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	dead.Process.Kill()
	dead.Wait()
	if _, err := ProcessOwner(dead.Process.Pid); err == nil {
		t.Fatalf("ProcessOwner of a reaped process succeeded")
	}

	tests := []struct {
		name  string
		owner Owner
		want  liveness
	}{
		{"this process", me, ownerAlive},
		{"running child", alive, ownerAlive},
		{"killed child", deadOwner, ownerDead},
		{"pid reused by another process", Owner{PID: alive.PID, Host: host, StartTime: alive.StartTime + 1}, ownerDead},
		{"no start time recorded, pid alive", Owner{PID: alive.PID, Host: host}, ownerAlive},
		{"no pid recorded", Owner{Host: host}, ownerDead},
		{"other host", Owner{PID: deadOwner.PID, Host: host + "-elsewhere", StartTime: 1}, ownerUnknown},
	}
	for _, tt := range tests {
		if got := me.check(tt.owner); got != tt.want {
			t.Errorf("%s: check(%+v) = %v, want %v", tt.name, tt.owner, got, tt.want)
		}
	}
}

func TestOwnerLabelsRoundTrip(t *testing.T) {
	o := Owner{PID: 123, Host: "h", StartTime: 456}
	if got := ownerFromLabels(o.labels()); got != o {
		t.Errorf("round trip = %+v, want %+v", got, o)
	}
}
