package etcdembed_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain checks that stopped servers leave no goroutine behind: the
// server runs in the process that embeds it.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
