package proc

// The package's user-facing text, in the language of k3-storage's users.
const (
	txtErrNoProcess = "没有这个进程"
	errProcess      = "进程 %d: %w"
	txtStatNoParen  = "/proc stat 格式错误: 没有 ')'"
	errStatFields   = "/proc stat 格式错误: 命令名之后只有 %d 个字段"
	errStatStart    = "/proc stat 的启动时间格式错误: %w"
	errNotStopped   = "进程 %d 在 %v 内没有停下"
)
