package etcd

import (
	"errors"
	"fmt"
	"testing"

	"github.com/k3/k3-storage/backends"
)

func TestRedact(t *testing.T) {
	base := fmt.Errorf("dial http://u:s3cret@host: %w", backends.ErrNotFound)
	err := backends.Permanent(redact(base, "s3cret"))
	if got, want := err.Error(), "dial http://u:****@host: key not found"; got != want {
		t.Errorf("redacted text %q, want %q", got, want)
	}
	if !errors.Is(err, backends.ErrNotFound) || !errors.Is(err, backends.ErrPermanent) {
		t.Errorf("redaction lost the error chain: %v", err)
	}
	if redact(base, "") != base || redact(base, "absent") != base {
		t.Error("an error without secrets was wrapped")
	}
	if redact(nil, "x") != nil {
		t.Error("redact(nil) is not nil")
	}
}
