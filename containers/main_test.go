package containers_test

import (
	"os"
	"testing"

	"github.com/k3/k3-storage/internal/testenv"
)

// TestMain says, after the run, how many tests skipped for want of the
// Docker Engine or a Debian package (see testenv).
func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }
