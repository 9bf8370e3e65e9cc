package containers

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

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
	o := Owner{PID: 123, Host: "h", StartTime: 456, PIDNamespace: "pid:[4026531836]", BootID: "b"}
	if got := ownerFromLabels(o.labels()); got != o {
		t.Errorf("round trip = %+v, want %+v", got, o)
	}
}

// TestOwnerJudge: the decision on an owner's liveness from its labels. The
// process probe is consulted only when the owner's PID means something
// here: same host, same boot, same PID namespace.
func TestOwnerJudge(t *testing.T) {
	me := Owner{PID: 100, Host: "h", StartTime: 5, PIDNamespace: "pid:[4026531836]", BootID: "boot-1"}
	same := func(edit func(*Owner)) Owner {
		o := Owner{PID: 200, Host: "h", StartTime: 7, PIDNamespace: me.PIDNamespace, BootID: me.BootID}
		edit(&o)
		return o
	}
	tests := []struct {
		name      string
		me, owner Owner
		process   liveness // what the probe says about the owner's PID
		want      liveness
		probed    bool
	}{
		{"same namespace, process alive", me, same(func(*Owner) {}), ownerAlive, ownerAlive, true},
		{"same namespace, process gone", me, same(func(*Owner) {}), ownerDead, ownerDead, true},
		{"other host", me, same(func(o *Owner) { o.Host = "elsewhere" }), ownerDead, ownerUnknown, false},
		{"other PID namespace (sibling container)", me, same(func(o *Owner) { o.PIDNamespace = "pid:[4026532500]" }), ownerDead, ownerUnknown, false},
		{"other PID namespace, our pid alive", me, same(func(o *Owner) { o.PIDNamespace = "pid:[4026532500]" }), ownerAlive, ownerUnknown, false},
		{"rebooted since", me, same(func(o *Owner) { o.BootID = "boot-0" }), ownerAlive, ownerDead, false},
		// The init PID namespace has the same inode on every boot: the boot
		// id decides first.
		{"rebooted, other namespace", me, same(func(o *Owner) { o.BootID = "boot-0"; o.PIDNamespace = "pid:[1]" }), ownerAlive, ownerDead, false},
		{"other host, other boot", me, same(func(o *Owner) { o.Host, o.BootID = "elsewhere", "boot-0" }), ownerDead, ownerUnknown, false},
		{"labels of an older k3-storage", me, same(func(o *Owner) { o.PIDNamespace, o.BootID = "", "" }), ownerDead, ownerDead, true},
		{"no /proc here", Owner{PID: 100, Host: "h"}, same(func(*Owner) {}), ownerAlive, ownerAlive, true},
		{"no pid recorded", me, same(func(o *Owner) { o.PID = 0 }), ownerAlive, ownerDead, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			probed := false
			got := tt.me.judge(tt.owner, func(o Owner) liveness {
				probed = true
				if o != tt.owner {
					t.Errorf("probe asked about %+v, want %+v", o, tt.owner)
				}
				return tt.process
			})
			if got != tt.want || probed != tt.probed {
				t.Errorf("judge = %v (probed %v), want %v (probed %v)", got, probed, tt.want, tt.probed)
			}
		})
	}
}

func TestCurrentOwnerNamespaces(t *testing.T) {
	me := CurrentOwner()
	ns, err := os.Readlink("/proc/self/ns/pid")
	if err != nil {
		t.Skipf("no /proc/self/ns/pid: %v", err)
	}
	if me.PIDNamespace != ns || !strings.HasPrefix(ns, "pid:[") {
		t.Errorf("PIDNamespace = %q, want %q", me.PIDNamespace, ns)
	}
	if len(me.BootID) != 36 {
		t.Errorf("BootID = %q, want a UUID", me.BootID)
	}
	child := startSleeper(t)
	o, err := ProcessOwner(child.Process.Pid)
	if err != nil || o.PIDNamespace != me.PIDNamespace || o.BootID != me.BootID {
		t.Errorf("ProcessOwner(child) = %+v, %v; want this process's namespace and boot", o, err)
	}
}
