package engine

import (
	"fmt"
	"time"
)

// The engine's user-facing text, in the original service's language. The
// msg* lines are the original service's log, which scripts match exactly:
// do not reword them.
const (
	msgStarting       = "正在启动存储服务 (类型: %s)..."
	msgMemoryReady    = "内存存储已初始化"
	msgMySQLReady     = "MySQL 存储已连接: %s"
	msgEtcdReady      = "Etcd 存储已连接: %s"
	msgReady          = "存储服务启动完成"
	msgStopping       = "正在关闭存储服务..."
	msgStoreClosed    = "存储连接已关闭"
	msgRemoving       = "清理由本进程拉起的存储后端容器 ..."
	msgRemoved        = "存储后端容器已清理"
	msgStopped        = "存储服务已关闭"
	msgConfig         = "配置文件: %s" // not in the original log; always the first line
	detailConnecting  = "正在连接 %s (最多等待 %s)..."
	detailAttempt     = "第 %d 次连接 %s 失败 (%s / %s): %v; %s 后重试"
	detailLastAttempt = "第 %d 次连接 %s 失败 (%s / %s): %v"
	detailPull        = "正在拉取镜像 %s: %s / %s (%d%%), %d/%d 层"
	detailPullUnknown = "正在拉取镜像 %s: 已下载 %s, %d/%d 层"
	errConnectBudget  = "在 %s 内未能连接 %s: %w"
	errConnect        = "无法连接 %s: %w"
	errStopped        = "启动未完成即被停止"
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

// formatBytes renders a byte count as B, KB, MB or GB (powers of 1024).
func formatBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit && exp < 2; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %cB", float64(n)/float64(div), "KMG"[exp])
}
