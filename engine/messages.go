package engine

import (
	"time"
)

// The engine's user-facing text, in the original service's language. The
// msg* lines are the original service's log, which scripts match exactly:
// do not reword them.
const (
	msgStarting        = "正在启动存储服务 (类型: %s)..."
	msgMemoryReady     = "内存存储已初始化"
	msgMySQLReady      = "MySQL 存储已连接: %s"
	msgEtcdReady       = "Etcd 存储已连接: %s"
	msgReady           = "存储服务启动完成"
	msgStopping        = "正在关闭存储服务..."
	msgStoreClosed     = "存储连接已关闭"
	msgRemoving        = "清理由本进程拉起的存储后端容器 ..."
	msgRemoved         = "存储后端容器已清理"
	msgStopped         = "存储服务已关闭"
	msgConfig          = "配置文件: %s" // not in the original log; always the first line
	detailConnecting   = "正在连接 %s (最多等待 %s)..."
	detailAttempt      = "第 %d 次连接 %s 失败 (%s / %s): %v; %s 后重试"
	detailLastAttempt  = "第 %d 次连接 %s 失败 (%s / %s): %v"
	detailPull         = "正在拉取镜像 %s: %s / %s (%d%%), %d/%d 层"
	detailPullUnknown  = "正在拉取镜像 %s: 已下载 %s, %d/%d 层"
	errConnectBudget   = "在 %s 内未能连接 %s: %w"
	detailRuntimeProbe = "正在检测容器运行时..."
	detailCandidate    = "容器运行时 %s %s: %s"
	statusUsable       = "可用 (API %s)"
	statusAbsent       = "不存在"
	statusNoDockerAPI  = "存在，但不提供 Docker API"
	statusUnreachable  = "无法使用: %v"
	warnNoRuntime      = "未检测到可用的容器运行时，跳过自动启动容器，直接连接数据库 (已尝试: %s)"
	detailRuntime      = "使用容器运行时 %s (API %s)"
	warnRemoteRuntime  = "容器运行时 %s 不在本机，无法在本机地址上提供数据库，跳过自动启动容器，直接连接数据库"
	detailInspect      = "查找容器 %s..."
	detailExisting     = "%s 上已有数据库在运行，直接使用，不创建容器"
	detailNoDatabase   = "%s 上没有可用的数据库 (%v)"
	errPortAnswers     = "%s 上已有服务在运行，但无法作为数据库使用: %w"
	detailRemoving     = "正在停止并删除容器 %s..."
	detailRemoved      = "已删除容器 %s，保留数据卷 %s"
	detailPurged       = "已删除容器 %s 和数据卷 %s"
	detailReuse        = "复用正在运行的容器 %s：不是本进程创建的，退出时不会删除"
	detailAdopt        = "接管遗留容器 %s：创建它的 k3-storage 进程已退出，退出时由本进程清理"
	detailWait         = "另一个 k3-storage 进程正在创建容器 %s，等待其运行..."
	detailRemoveStale  = "删除遗留的旧容器 %s"
	detailNoContainer  = "没有名为 %s 的容器，将新建"
	detailImageCheck   = "检查镜像 %s..."
	detailImagePresent = "镜像 %s 已在本地"
	detailImageMissing = "本地没有镜像 %s，开始拉取"
	detailPulling      = "正在拉取镜像 %s..."
	detailPulled       = "镜像 %s 拉取完成 (%s, 用时 %s)"
	detailVolume       = "已创建数据卷 %s"
	detailCreating     = "正在创建容器 %s (镜像 %s, 端口 %s, 数据卷 %s)..."
	detailCreated      = "已创建容器 %s"
	detailStarting     = "正在启动容器 %s..."
	detailStarted      = "容器 %s 已启动，等待数据库就绪"
	detailCleanup      = "清理本次启动失败时创建的容器 %s"
	errConnect         = "无法连接 %s: %w"
	errStopped         = "启动未完成即被停止"
	heldContainer      = "容器 %s"
)

// Health checks while ready, the connect retry summary, refused logins
// and what to check when connecting failed.
const (
	detailHealthDown   = "存储后端不可达: %s: %v"
	detailHealthUp     = "存储后端已恢复 (中断 %s)"
	errNoAnswer        = "%s 内没有响应: %w"
	detailStillWaiting = "仍在等待 %s (第 %d 次, %s/%s): %s"
	errLoginRefused    = "%s 拒绝了用户 %s 的登录：用户名或密码错误 (%w)"
	errTLSRequired     = "MySQL 服务器只接受加密连接：请启用 TLS (storage.mysql.tls.mode) (%w)"
	hintConnect        = "。请检查：数据库服务是否已启动；地址和端口 (%s) 是否正确；防火墙是否放行该端口；用户名和密码是否正确"
	nameMySQL          = "MySQL"
	nameEtcd           = "etcd"
)

// roundDuration shortens a duration for display: 1.234s, 250ms.
func roundDuration(d time.Duration) string {
	switch {
	case d >= time.Minute:
		return d.Round(time.Second).String()
	case d >= time.Second:
		return d.Round(10 * time.Millisecond).String()
	}
	return d.Round(time.Millisecond).String()
}
