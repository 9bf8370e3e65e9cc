package native

// The package's user-facing text, in Chinese like the rest of k3-storage.
// Program names, paths, options and SQL stay as they are typed. Secrets
// are never formatted into any of them.
const (
	// Data directories and locks (dir.go).
	txtNoDataHome      = "无法确定数据目录：XDG_DATA_HOME 和 HOME 都未设置"
	errDataDir         = "数据目录 %s: %w"
	errDataDirNotDir   = "数据目录 %s 不是目录"
	errDataDirRelative = "数据目录 %q 不是绝对路径"
	errLock            = "锁文件 %s: %w"
	errPurge           = "删除数据目录 %s: %w"
	errWrite           = "写入 %s: %w"
	errChown           = "修改 %s 的属主: %w"
	errPort            = "端口 %d 超出范围 (1-65535)"

	// Server records and processes (record.go).
	errRecord      = "无法读取 %s: %w"
	errWriteRecord = "写入 %s: %w"
	errSignal      = "向进程 %[2]d 发送 %[1]v: %[3]w"
	errNotKilled   = "进程 %d 在 SIGKILL 之后仍未退出"

	// Finding programs (find.go).
	txtNotFound      = "未找到数据库服务程序"
	errNotFound      = "未找到 %s (已查找: %s)"
	txtOr            = " 或 "
	errBinary        = "数据库服务程序 %s 不可用: %w"
	txtNotRegular    = "不是普通文件"
	txtNotExecutable = "没有执行权限"
	errNoInstaller   = "未找到 %s (初始化 %s 的数据目录需要它；Debian/Ubuntu 上由 mariadb-server 提供)"

	// MySQL (mysql.go).
	txtNoBinary         = "没有指定数据库服务程序"
	txtNoPassword       = "没有指定 root 密码"
	txtNoMySQLUser      = "系统中没有 mysql 用户"
	txtMySQLUserBlocked = "mysql 用户无法进入 %s"
	errVersion          = "无法运行 %s --version: %w %s"
	errDataNotEmpty     = "%s 里有文件，但没有完整的数据库 (可能是上次初始化被中断)；k3-storage 不会删除它，请检查后删除 %s 再重试"
	errInit             = "初始化数据目录失败 (%s: %v)，输出的最后几行:%s"
	errInitNoTables     = "%s 已结束，但 %s 中没有系统表，输出的最后几行:%s"
	errStart            = "无法启动 %s: %w"
	errExited           = "%s 在就绪前退出 (%s)，错误日志 %s 的最后几行:%s"
	errNotReady         = "%s 在 %v 内没有在 %s 上应答，错误日志 %s 的最后几行:%s"

	// Embedded etcd (etcd.go).
	txtNoMaxRequest    = "没有指定 max-request-bytes"
	txtEtcdStopped     = "内嵌 etcd 已自行停止"
	errEtcdPorts       = "内嵌 etcd 无法监听客户端端口 %d 或对等端口 %d (已被占用): %w"
	errEtcdStart       = "内嵌 etcd 启动失败: %w%s"
	errEtcdExited      = "内嵌 etcd 意外停止: %w%s"
	errEtcdStopTimeout = "内嵌 etcd 未能在 %v 内停止，将随进程结束"
	txtNoEmbeddedEtcd  = "此程序没有链接 etcd 服务器"
)
