package proc

import (
	"errors"
	"os/exec"
	"slices"
	"syscall"
	"testing"
	"time"
)

func TestParseStartTime(t *testing.T) {
	// Field 22 is 98765; the command name holds spaces and parentheses.
	stat := "4242 (evil) name (x)) S 1 4242 4242 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 98765 1000 10 18446744073709551615\n"
	got, err := ParseStartTime([]byte(stat))
	if err != nil || got != 98765 {
		t.Fatalf("ParseStartTime = %d, %v; want 98765", got, err)
	}
	for _, bad := range []string{"", "4242 comm S 1", "4242 (c) S 1 2 3", "4242 (c) S 1 4242 4242 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 x 1000"} {
		if _, err := ParseStartTime([]byte(bad)); err == nil {
			t.Errorf("ParseStartTime(%q) succeeded", bad)
		}
	}
}

func TestProcessIdentity(t *testing.T) {
	cmd := exec.Command("sleep", "300")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	pid := cmd.Process.Pid
	start, err := StartTime(pid)
	if err != nil || start == 0 {
		t.Fatalf("StartTime = %d, %v", start, err)
	}
	args, err := Cmdline(pid)
	if err != nil || !slices.Equal(args, []string{"sleep", "300"}) {
		t.Fatalf("Cmdline = %q, %v", args, err)
	}
	if z, err := Zombie(pid); err != nil || z {
		t.Fatalf("Zombie of a running process = %v, %v", z, err)
	}
	// Killed but not yet reaped: a zombie, still with its start time.
	cmd.Process.Signal(syscall.SIGKILL)
	deadline := time.Now().Add(10 * time.Second)
	for {
		z, err := Zombie(pid)
		if err != nil {
			t.Fatal(err)
		}
		if z {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the killed process never became a zombie")
		}
		time.Sleep(time.Millisecond)
	}
	cmd.Wait()
	if _, err := StartTime(pid); !errors.Is(err, ErrNoProcess) {
		t.Fatalf("StartTime after reaping: %v, want ErrNoProcess", err)
	}
	if _, err := Cmdline(pid); !errors.Is(err, ErrNoProcess) {
		t.Fatalf("Cmdline after reaping: %v, want ErrNoProcess", err)
	}
	if BootID() == "" {
		t.Fatal("no boot id")
	}
}

// TestStopped: a process is reported stopped only once SIGSTOP has halted
// it, and no longer after SIGCONT.
func TestStopped(t *testing.T) {
	cmd := exec.Command("sleep", "60")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	pid := cmd.Process.Pid
	if stopped, err := Stopped(pid); err != nil || stopped {
		t.Fatalf("running process: stopped %v, %v", stopped, err)
	}
	if err := cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		stopped, err := Stopped(pid)
		if err != nil {
			t.Fatal(err)
		}
		if stopped {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("not stopped 10s after SIGSTOP")
		}
		time.Sleep(time.Millisecond)
	}
	if err := cmd.Process.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	for {
		stopped, err := Stopped(pid)
		if err != nil {
			t.Fatal(err)
		}
		if !stopped {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("still stopped after SIGCONT")
		}
		time.Sleep(time.Millisecond)
	}
}
