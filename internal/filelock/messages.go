package filelock

// The package's user-facing text, in the language of k3-storage's users.
const (
	txtErrHeld        = "锁被另一个进程持有"
	txtErrUnsupported = "此平台不支持文件锁"
	errFlock          = "flock %s: %w"
)
