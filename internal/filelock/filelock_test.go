//go:build unix

package filelock_test

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/k3/k3-storage/internal/filelock"
)

func open(t *testing.T, path string) *os.File {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDONLY|os.O_CREATE, 0o444)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// Two opens of one file stand for two owners; probes are not owners.
func TestOwnersAndProbes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.lock")
	a, b, probe := open(t, path), open(t, path), open(t, path)
	if err := filelock.TryExclusive(a); err != nil {
		t.Fatal(err)
	}
	if err := filelock.TryExclusive(b); !errors.Is(err, filelock.ErrHeld) {
		t.Fatalf("second owner: %v, want ErrHeld", err)
	}
	if held, err := filelock.HeldElsewhere(probe); err != nil || !held {
		t.Fatalf("probe while owned: %v, %v", held, err)
	}
	if err := filelock.Unlock(a); err != nil {
		t.Fatal(err)
	}
	if held, err := filelock.HeldElsewhere(probe); err != nil || held {
		t.Fatalf("probe after release: %v, %v", held, err)
	}
	// A probe that stays is waited out briefly, then counts as held.
	if err := filelock.TryShared(probe); err != nil {
		t.Fatal(err)
	}
	if err := filelock.TryExclusive(b); !errors.Is(err, filelock.ErrHeld) {
		t.Fatalf("owner under a probe that never ends: %v, want ErrHeld", err)
	}
	filelock.Unlock(probe)
	if err := filelock.TryExclusive(b); err != nil {
		t.Fatalf("owner once the probe ended: %v", err)
	}
}

// TestReleasedWhenProcessDies: the kernel releases the lock of a process
// killed by SIGKILL.
func TestReleasedWhenProcessDies(t *testing.T) {
	if path := os.Getenv("K3_FILELOCK_HELPER"); path != "" {
		f, err := os.Open(path)
		if err == nil {
			err = filelock.TryExclusive(f)
		}
		if err != nil {
			fmt.Println("error:", err)
			os.Exit(1)
		}
		fmt.Println("locked")
		time.Sleep(time.Hour)
		os.Exit(2)
	}
	path := filepath.Join(t.TempDir(), "x.lock")
	f := open(t, path)
	cmd := exec.Command(os.Args[0], "-test.run=^TestReleasedWhenProcessDies$")
	cmd.Env = append(os.Environ(), "K3_FILELOCK_HELPER="+path)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	if line, _ := bufio.NewReader(out).ReadString('\n'); line != "locked\n" {
		t.Fatalf("helper said %q", line)
	}
	if err := filelock.TryExclusive(f); !errors.Is(err, filelock.ErrHeld) {
		t.Fatalf("lock while the helper holds it: %v", err)
	}
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	if err := filelock.TryExclusive(f); err != nil {
		t.Fatalf("lock after the holder was killed: %v", err)
	}
}
