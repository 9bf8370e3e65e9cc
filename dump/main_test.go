package dump_test

import (
	"os"
	"testing"

	"github.com/k3/k3-storage/internal/testenv"
)

// TestMain says, after the run, how many tests skipped for want of a
// MySQL server (see testenv).
func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }
