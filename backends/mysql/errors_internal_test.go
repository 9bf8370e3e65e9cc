package mysql

import (
	"errors"
	"testing"

	"github.com/go-sql-driver/mysql"

	"github.com/k3/k3-storage/backends"
)

// TestOpErrorKeepsChain: an operation that fails because the Store was
// closed under it reports ErrClosed, and the driver's error stays
// reachable with errors.As.
func TestOpErrorKeepsChain(t *testing.T) {
	s := &Store{password: "pw"}
	s.closed.Store(true)
	driverErr := &mysql.MySQLError{Number: 1205, Message: "Lock wait timeout exceeded"}
	err := s.opError("put \"/a\"", driverErr)
	var me *mysql.MySQLError
	if !errors.Is(err, backends.ErrClosed) || !errors.As(err, &me) || me.Number != 1205 {
		t.Fatalf("opError on a closed Store = %v: want ErrClosed and the driver's error in the chain", err)
	}
}
