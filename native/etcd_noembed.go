//go:build k3_no_embedded_etcd

package native

import "errors"

// launch fails: this build leaves the etcd server out. It exists only to
// measure what linking the server costs the other backends' launch
// (engine's BenchmarkMemoryLaunch builds it side by side with the
// product); k3-storage is never shipped so.
func launch(launchConfig) (server, error) { return nil, errors.New(txtNoEmbeddedEtcd) }
