// Package proc identifies processes of this machine through /proc: a
// process's start time, so that a pid reused by an unrelated process is not
// mistaken for the one recorded, its command line, and the kernel's boot id,
// so that a pid recorded before a reboot is not trusted after it.
package proc

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"syscall"
	"time"
)

// ErrNoProcess: no process has that pid (in this PID namespace).
var ErrNoProcess = errors.New(txtErrNoProcess)

// StartTime reads field 22 (starttime, in clock ticks since boot) of
// /proc/<pid>/stat. It fails with an error matching ErrNoProcess when
// there is no such process, and with another error when /proc cannot be
// read (no /proc on this system).
func StartTime(pid int) (uint64, error) {
	data, err := read(pid, "stat")
	if err != nil {
		return 0, err
	}
	return ParseStartTime(data)
}

// Zombie reports whether pid has exited and waits for its parent to reap
// it (state Z or X): it no longer runs, though its pid is still taken.
func Zombie(pid int) (bool, error) {
	data, err := read(pid, "stat")
	if err != nil {
		return false, err
	}
	fields, err := statFields(data)
	if err != nil {
		return false, err
	}
	return string(fields[0]) == "Z" || string(fields[0]) == "X", nil
}

// Stopped reports whether every thread of pid is stopped by a signal
// (state T): SIGSTOP returns before the target's threads have all halted,
// and a thread still running may yet answer a request.
func Stopped(pid int) (bool, error) {
	tasks, err := os.ReadDir("/proc/" + strconv.Itoa(pid) + "/task")
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return false, fmt.Errorf(errProcess, pid, ErrNoProcess)
		}
		return false, fmt.Errorf(errProcess, pid, err)
	}
	for _, t := range tasks {
		data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/task/" + t.Name() + "/stat")
		if errors.Is(err, os.ErrNotExist) {
			continue // the thread exited meanwhile
		}
		if err != nil {
			return false, fmt.Errorf(errProcess, pid, err)
		}
		fields, err := statFields(data)
		if err != nil {
			return false, err
		}
		if st := string(fields[0]); st != "T" && st != "t" {
			return false, nil
		}
	}
	return true, nil
}

// Freeze stops p with SIGSTOP and returns once every thread of it has
// halted (see Stopped), or an error after timeout: for tests that stand
// for a hung server.
func Freeze(p *os.Process, timeout time.Duration) error {
	if err := p.Signal(syscall.SIGSTOP); err != nil {
		return err
	}
	deadline := time.Now().Add(timeout)
	for {
		stopped, err := Stopped(p.Pid)
		if err != nil || stopped {
			return err
		}
		if time.Now().After(deadline) {
			return fmt.Errorf(errNotStopped, p.Pid, timeout)
		}
		// Polled: waitpid(WUNTRACED) would race the reaper that exec.Cmd.Wait runs.
		time.Sleep(time.Millisecond)
	}
}

// read returns /proc/<pid>/<name>.
func read(pid int, name string) ([]byte, error) {
	if pid <= 0 {
		return nil, fmt.Errorf(errProcess, pid, ErrNoProcess)
	}
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/" + name)
	if errors.Is(err, os.ErrNotExist) || errors.Is(err, syscall.ESRCH) {
		return nil, fmt.Errorf(errProcess, pid, ErrNoProcess)
	}
	if err != nil {
		return nil, fmt.Errorf(errProcess, pid, err)
	}
	return data, nil
}

// statFields splits a stat line after the command name (field 2), which
// is in parentheses and may itself contain spaces and parentheses: fields
// are counted from the last ')'. It checks that field 22 is there.
func statFields(stat []byte) ([][]byte, error) {
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return nil, errors.New(txtStatNoParen)
	}
	fields := bytes.Fields(stat[i+1:])
	if len(fields) < 20 {
		return nil, fmt.Errorf(errStatFields, len(fields))
	}
	return fields, nil
}

// ParseStartTime returns field 22 of a /proc/<pid>/stat line.
func ParseStartTime(stat []byte) (uint64, error) {
	fields, err := statFields(stat)
	if err != nil {
		return 0, err
	}
	v, err := strconv.ParseUint(string(fields[19]), 10, 64)
	if err != nil {
		return 0, fmt.Errorf(errStatStart, err)
	}
	return v, nil
}

// Cmdline returns the arguments pid was started with (/proc/<pid>/cmdline),
// program first. It fails with an error matching ErrNoProcess when there
// is no such process; a zombie has none.
func Cmdline(pid int) ([]string, error) {
	data, err := read(pid, "cmdline")
	if err != nil {
		return nil, err
	}
	data = bytes.TrimSuffix(data, []byte{0})
	if len(data) == 0 {
		return nil, nil
	}
	var args []string
	for _, a := range bytes.Split(data, []byte{0}) {
		args = append(args, string(a))
	}
	return args, nil
}

// BootID is the kernel's random boot id, "" when it cannot be read.
func BootID() string {
	b, err := os.ReadFile("/proc/sys/kernel/random/boot_id")
	if err != nil {
		return ""
	}
	return string(bytes.TrimSpace(b))
}
