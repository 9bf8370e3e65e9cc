//go:build k3_no_embedded_etcd

package main

import "github.com/k3/k3-storage/native"

// etcdServer is nil in this build, which leaves the etcd server out. It
// exists only to measure what linking the server costs the launch
// (engine's BenchmarkMemoryLaunch builds it side by side with the
// product); k3-storage is never shipped so.
func etcdServer() native.EtcdLauncher { return nil }
