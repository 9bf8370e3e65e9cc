//go:build !k3_no_embedded_etcd

package main

import (
	"github.com/k3/k3-storage/native"
	"github.com/k3/k3-storage/native/etcdembed"
)

// etcdServer is the etcd server native mode runs inside this process.
func etcdServer() native.EtcdLauncher { return etcdembed.Launch }
