package native

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/k3/k3-storage/internal/proc"
)

// record identifies a server process k3-storage started, so that a later
// process can tell it from anything else that may have its pid by then.
// It is written to k3-storage.json in the data directory once the server
// runs, and removed when it is stopped.
type record struct {
	PID       int    `json:"pid"`
	StartTime uint64 `json:"start_time"` // /proc/<pid>/stat field 22
	BootID    string `json:"boot_id"`
	// Binary and OptionFile are the program and its --defaults-file, as
	// they appear in the command line.
	Binary     string `json:"binary"`
	OptionFile string `json:"option_file"`
	HostIP     string `json:"host_ip"`
	Port       int    `json:"port"`
}

func readRecord(path string) (record, error) {
	var r record
	data, err := os.ReadFile(path)
	if err != nil {
		return r, err
	}
	if err := json.Unmarshal(data, &r); err != nil {
		return r, fmt.Errorf(errRecord, path, err)
	}
	return r, nil
}

// write replaces the record at path atomically.
func (r record) write(path string) error {
	data, err := json.Marshal(r)
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(data, '\n'), 0o600); err != nil {
		return fmt.Errorf(errWriteRecord, path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf(errWriteRecord, path, err)
	}
	return nil
}

// running reports whether the recorded server still runs: same boot, the
// pid alive (not a zombie) with the recorded start time, and a command
// line of the recorded binary with the recorded option file. Anything
// else with that pid is not ours and must not be touched.
func (r record) running() bool {
	if r.PID <= 0 || r.StartTime == 0 {
		return false
	}
	if b := proc.BootID(); b != "" && r.BootID != "" && b != r.BootID {
		return false // rebooted since
	}
	start, err := proc.StartTime(r.PID)
	if err != nil || start != r.StartTime {
		return false
	}
	if z, err := proc.Zombie(r.PID); err != nil || z {
		return false
	}
	args, err := proc.Cmdline(r.PID)
	if err != nil || len(args) == 0 || args[0] != r.Binary {
		return false
	}
	return slices.Contains(args, "--defaults-file="+r.OptionFile)
}

// process is a server process that this process may signal: a child it
// started, or an adopted orphan identified by its record.
type process struct {
	pid   int
	start uint64
	// For a child: the process, closed exited once cmd.Wait returned,
	// and its outcome. For an orphan, nil: exit is noticed through a
	// pidfd or /proc.
	child   *os.Process
	exited  chan struct{}
	waitErr error
}

// signal sends sig to the process if it is still the one recorded.
func (p *process) signal(sig syscall.Signal) error {
	if p.child != nil {
		// Not reaped before Wait returns, so the pid is still this one's.
		if err := p.child.Signal(sig); err != nil && !errors.Is(err, os.ErrProcessDone) {
			return fmt.Errorf(errSignal, sig, p.pid, err)
		}
		return nil
	}
	// os.FindProcess holds a pidfd on Linux: once the start time has been
	// checked after it, the signal cannot reach a process that reused the
	// pid.
	pr, err := os.FindProcess(p.pid)
	if err != nil {
		return nil
	}
	defer pr.Release()
	if start, err := proc.StartTime(p.pid); err != nil || start != p.start {
		return nil // gone already
	}
	if err := pr.Signal(sig); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf(errSignal, sig, p.pid, err)
	}
	return nil
}

// gone reports whether the process has ended.
func (p *process) gone() bool {
	if p.exited != nil {
		select {
		case <-p.exited:
			return true
		default:
			return false
		}
	}
	start, err := proc.StartTime(p.pid)
	if err != nil || start != p.start {
		return true
	}
	z, err := proc.Zombie(p.pid)
	return err != nil || z
}

// wait waits up to d for the process to end and reports whether it did.
func (p *process) wait(d time.Duration) bool {
	deadline := time.NewTimer(d)
	defer deadline.Stop()
	if p.exited != nil {
		select {
		case <-p.exited:
			return true
		case <-deadline.C:
			return false
		}
	}
	// An orphan is not our child: wait on a pidfd, which becomes readable
	// when the process ends, or else poll /proc.
	if fd, err := unix.PidfdOpen(p.pid, 0); err == nil {
		defer unix.Close(fd)
		if p.gone() { // the pidfd may name a process that reused the pid
			return true
		}
		end := time.Now().Add(d)
		for {
			left := time.Until(end)
			if left <= 0 {
				return p.gone()
			}
			// Rounded up: poll's milliseconds must not end the wait early.
			ms := int((left + time.Millisecond - 1) / time.Millisecond)
			n, err := unix.Poll([]unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}, ms)
			if errors.Is(err, unix.EINTR) {
				continue
			}
			if err != nil || n > 0 {
				return p.gone()
			}
		}
	}
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for !p.gone() {
		select {
		case <-tick.C:
		case <-deadline.C:
			return p.gone()
		}
	}
	return true
}

// stop ends the process: SIGTERM, up to grace for it to exit, then
// SIGKILL. It reports whether it had to kill.
func (p *process) stop(grace time.Duration) (killed bool, err error) {
	if err := p.signal(syscall.SIGTERM); err != nil {
		return false, err
	}
	if p.wait(grace) {
		return false, nil
	}
	if err := p.signal(syscall.SIGKILL); err != nil {
		return true, err
	}
	if !p.wait(30 * time.Second) {
		return true, fmt.Errorf(errNotKilled, p.pid)
	}
	return true, nil
}
