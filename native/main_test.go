package native

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain checks that stopped servers leave no goroutine behind (the
// watchers of child processes and of their exits).
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
