// Package containertest provides what tests need to exercise container
// provisioning on a real Docker Engine with no registry access: a registry
// on 127.0.0.1 (Debian's docker-registry), images built in Go from Debian's
// etcd-server, mariadb-server and busybox-static binaries and pushed there
// (so pulling them is a real pull with real layer progress), unique names
// with cleanup, and readiness probes for the databases inside.
//
// Prerequisites (what CI must provide): a Docker Engine reachable through
// DOCKER_HOST or /var/run/docker.sock that allows insecure registries on
// 127.0.0.0/8 (the default), and the Debian packages docker-registry,
// etcd-server, mariadb-server (mariadb-server-core is enough) and
// busybox-static, plus ldd (libc-bin) and sleep (coreutils), which every
// Debian system has. No service needs starting: each test starts its own
// registry.
//
// Every helper takes a testing.TB, calls tb.Helper, and registers its own
// cleanup. When something the tests need is missing (no engine answers, a
// Debian binary is not installed) the test is skipped with the reason, or
// fails instead when K3_TEST_REQUIRE=all is set (see Need).
package containertest

import (
	"fmt"
	"testing"

	"github.com/k3/k3-storage/internal/testenv"
)

// RequireEnv names the environment variable that turns skips into failures:
// K3_TEST_REQUIRE=all (or a comma-separated list containing "all" or
// "docker") makes every missing prerequisite fail the test, as CI wants.
const RequireEnv = testenv.RequireEnv

// Required reports whether missing prerequisites must fail rather than skip.
func Required() bool { return testenv.Required("docker") }

// Need stops the test when err is not nil: a skip naming what is missing
// (counted under "docker" in the package's summary) and why, or a fatal
// failure under K3_TEST_REQUIRE=all (see testenv.Need). It does nothing
// when err is nil.
func Need(tb testing.TB, what string, err error) {
	tb.Helper()
	if err != nil {
		testenv.Need(tb, "docker", fmt.Errorf("%s: %w", what, err))
	}
}
