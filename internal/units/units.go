// Package units formats quantities for people, the same way everywhere
// k3-storage shows them: headless lines, JSON-free text, the console.
package units

import (
	"fmt"
	"strconv"
)

// Bytes renders a byte count in binary (IEC) units, one decimal above a
// KiB: 512 B, 1.5 KiB, 12.3 MiB, 2.0 GiB. Negative counts render as 0 B.
func Bytes(n int64) string {
	const unit = 1024
	if n < 0 {
		n = 0
	}
	if n < unit {
		return strconv.FormatInt(n, 10) + " B"
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit && exp < 4; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTP"[exp])
}
