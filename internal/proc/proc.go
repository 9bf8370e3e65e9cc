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
