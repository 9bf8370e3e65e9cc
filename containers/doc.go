// Package containers discovers a container runtime that speaks the Docker
// Engine API and provisions a database container (MySQL or etcd) on it for
// k3-storage: pull the image with live progress, create a named volume and
// the container with loopback-only published ports, start it, and later
// remove it only if this process created it or adopted it as its own orphan.
//
// It is the only package of the module that imports the Docker SDK. The
// engine consumes it through a small interface of its own; nothing here
// knows about backends, configs or the console.
//
// Ownership is recorded on the container itself, in labels (see
// LabelManagedBy and the other Label constants): the creating process's id,
// host, start time, PID namespace and boot id, so that a later process can
// tell a container whose owner still runs (reuse it, never remove it) from
// an orphan left by a process that was killed (adopt it and remove it on
// exit). An owner that this process cannot check (another host, another
// PID namespace) is presumed alive. Labels cannot change, so a container
// that was adopted still names its dead creator: the adopter marks it as
// taken with an exclusive flock held for as long as it owns the container,
// which the kernel releases if the adopter dies (see DefaultLockDir). A
// container without these labels is never stopped or removed, whatever its
// name.
//
// Secrets: a Spec's Env carries passwords. Env values never appear in
// errors, in Progress reports, in labels or in Spec.String; the spec hash
// label covers them only through SHA-256.
package containers
