package containers

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"syscall"

	"github.com/k3/k3-storage/internal/proc"
)

// Labels put on every container (and the volume) k3-storage creates. They
// are the on-disk contract between k3-storage processes: `docker ps --filter
// label=k3-storage.managed-by` lists what k3-storage manages.
const (
	LabelManagedBy  = "k3-storage.managed-by" // always ManagedBy
	LabelOwnerPID   = "k3-storage.owner.pid"
	LabelOwnerHost  = "k3-storage.owner.host"
	LabelOwnerStart = "k3-storage.owner.start-time" // /proc/<pid>/stat field 22; "0" when unknown
	LabelOwnerPIDNS = "k3-storage.owner.pid-ns"     // readlink /proc/self/ns/pid, e.g. "pid:[4026531836]"; "" when unknown
	LabelOwnerBoot  = "k3-storage.owner.boot-id"    // /proc/sys/kernel/random/boot_id; "" when unknown
	LabelSpecHash   = "k3-storage.spec-hash"        // Spec.Hash
	LabelBackend    = "k3-storage.backend"          // Spec.Backend
	ManagedBy       = "k3-storage"
)

// Owner identifies the process that owns a container: its PID, the host it
// runs on (os.Hostname) and its start time in clock ticks since boot
// (/proc/<pid>/stat field 22), so that a PID reused by an unrelated process
// is not mistaken for the owner. StartTime 0 means unknown (no /proc).
//
// A PID means something only inside its PID namespace and until the next
// boot, so both are recorded too: PIDNamespace is the link target of
// /proc/self/ns/pid ("pid:[4026531836]") and BootID the kernel's boot id.
// Two k3-storage processes in sibling containers with host networking share
// a hostname but not their PIDs; the namespace tells them apart. "" means
// unknown (no /proc, or a container labelled by an older k3-storage).
type Owner struct {
	PID          int
	Host         string
	StartTime    uint64
	PIDNamespace string
	BootID       string
}

// CurrentOwner identifies this process.
func CurrentOwner() Owner {
	o, err := ProcessOwner(os.Getpid())
	if err != nil { // no /proc: identify by pid and host alone
		host, _ := os.Hostname()
		return Owner{PID: os.Getpid(), Host: host}
	}
	return o
}

// ProcessOwner identifies the running process pid on this host. pid is read
// in this process's PID namespace, so that is the namespace recorded. It
// fails when the process does not exist or /proc cannot be read.
func ProcessOwner(pid int) (Owner, error) {
	start, err := proc.StartTime(pid)
	if err != nil {
		return Owner{}, err
	}
	host, _ := os.Hostname()
	ns, _ := os.Readlink("/proc/self/ns/pid")
	return Owner{PID: pid, Host: host, StartTime: start, PIDNamespace: ns, BootID: proc.BootID()}, nil
}

func (o Owner) labels() map[string]string {
	return map[string]string{
		LabelOwnerPID:   strconv.Itoa(o.PID),
		LabelOwnerHost:  o.Host,
		LabelOwnerStart: strconv.FormatUint(o.StartTime, 10),
		LabelOwnerPIDNS: o.PIDNamespace,
		LabelOwnerBoot:  o.BootID,
	}
}

func ownerFromLabels(l map[string]string) Owner {
	pid, _ := strconv.Atoi(l[LabelOwnerPID])
	start, _ := strconv.ParseUint(l[LabelOwnerStart], 10, 64)
	return Owner{PID: pid, Host: l[LabelOwnerHost], StartTime: start, PIDNamespace: l[LabelOwnerPIDNS], BootID: l[LabelOwnerBoot]}
}

// liveness of a container's owner as seen from this process.
type liveness int

const (
	ownerAlive liveness = iota
	ownerDead
	ownerUnknown // cannot be checked from here (another host or PID namespace)
)

func (l liveness) String() string {
	switch l {
	case ownerAlive:
		return "alive"
	case ownerDead:
		return "dead"
	case ownerUnknown:
		return "unknown"
	}
	return fmt.Sprintf("liveness(%d)", int(l))
}

// check tells whether the owner o is alive, seen from the process me, by
// looking its PID up in /proc. See judge for the rules.
func (me Owner) check(o Owner) liveness { return me.judge(o, processLiveness) }

// judge decides whether the owner o is alive, seen from me, asking probe
// about the process only when o's PID is meaningful here:
//
//   - another host: unknown, presumed alive by the caller (never take over
//     what may still be in use);
//   - same host, another boot id: dead, the machine rebooted since;
//   - same boot, another PID namespace: unknown, o.PID names a process we
//     cannot see (a sibling container with host networking);
//   - otherwise probe's verdict on o.PID and o.StartTime.
//
// An empty PIDNamespace or BootID on either side (no /proc, or labels of an
// older k3-storage) skips that comparison.
func (me Owner) judge(o Owner, probe func(Owner) liveness) liveness {
	if o.Host != me.Host {
		return ownerUnknown
	}
	if o.BootID != "" && me.BootID != "" && o.BootID != me.BootID {
		return ownerDead
	}
	if o.PIDNamespace != "" && me.PIDNamespace != "" && o.PIDNamespace != me.PIDNamespace {
		return ownerUnknown
	}
	if o.PID <= 0 {
		return ownerDead
	}
	return probe(o)
}

// processLiveness looks the owner's PID up in this process's PID namespace.
func processLiveness(o Owner) liveness {
	start, err := proc.StartTime(o.PID)
	switch {
	case err == nil:
		if o.StartTime != 0 && start != o.StartTime {
			return ownerDead // the pid was reused by another process
		}
		return ownerAlive
	case errors.Is(err, proc.ErrNoProcess):
		return ownerDead
	}
	// No /proc on this system: fall back to signal 0.
	p, err := os.FindProcess(o.PID)
	if err != nil {
		return ownerDead
	}
	err = p.Signal(syscall.Signal(0))
	if err == nil || errors.Is(err, syscall.EPERM) {
		return ownerAlive
	}
	return ownerDead
}
