// Package native runs a database server on this machine for k3-storage
// when no container can provide one: the machine's own mariadbd or mysqld
// as a child process on a private data directory (MySQL), or an etcd
// server embedded in this process (Etcd), started by the EtcdLauncher its
// config names: the server itself is in package native/etcdembed, linked
// only by the programs that pass it. Like containers, it knows nothing of
// backends, configs or the console; the engine consumes it.
//
// # Data directories
//
// Each server keeps its data in a directory of its own, by default
// $XDG_DATA_HOME/k3-storage/<mysql|etcd>-<port> (see DataHome and
// DataDir), kept after exit so that the next run finds the data again.
// Besides the server's files it holds k3-storage's:
//
//	k3-storage.lock   the owner's lock (see below)
//	k3-storage.json   the running server's identity (MySQL): pid, start time, boot id, binary, port
//	k3-storage.ready  the database was set up from the config once (MySQL)
//
// # Ownership
//
// The rules are those of containers: k3-storage stops only a server it
// started, or one it adopted as an orphan of a k3-storage process that
// died; never a server someone else runs. "This data directory is owned"
// is an exclusive flock(2) on k3-storage.lock, held by the process that
// started or adopted the server for as long as it owns it and released by
// the kernel when that process dies (see internal/filelock). So:
//
//   - the lock held by another process: a live k3-storage runs (or is
//     starting) the server; use it as an existing database and never stop
//     it (Busy);
//   - the lock free and k3-storage.json naming a process that still runs
//     and is that server (same pid, start time, boot id, and a command line
//     with this directory's option file): the orphan of a killed
//     k3-storage; take the lock and stop it on exit (Adopted);
//   - otherwise nothing of ours runs there: take the lock and start one
//     (Claimed).
//
// A pid is never signalled on the strength of a pid file alone: its start
// time and command line must match what was recorded when it was started.
//
// An embedded etcd cannot be an orphan: it lives and dies with the
// k3-storage process that runs it, its data safe on disk. Other k3
// processes share it by connecting to its endpoint while that process
// runs; a process that finds the lock held uses it as an existing server.
package native
