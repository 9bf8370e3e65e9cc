//go:build !unix

package containers

import "os"

const oNoFollow = 0

func lockExclusive(dir, id string) (*os.File, error) { return nil, errLocksUnsupported }

func lockHeldElsewhere(dir, id string) (bool, error) { return false, errLocksUnsupported }
