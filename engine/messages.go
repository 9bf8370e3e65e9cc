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
	errCloseStore      = "关闭存储连接失败: %w"
	heldContainer      = "容器 %s"
	errDiscover        = "检测容器运行时: %w"
	errRemoveContainer = "删除容器 %s: %w"
)

// Provisioning paths and native servers (provision.go, native.go). The
// msg* lines belong to the original-style log on stdout, as the
// container's do.
const (
	msgNativeStopping      = "停止由本进程拉起的存储后端进程 ..."
	msgNativeStopped       = "存储后端进程已停止"
	detailUseContainer     = "使用容器 %s"
	detailUseNative        = "%s，改用%s"
	detailConnectOnly      = "不启动容器或本机数据库 (native.mode: never)，直接连接 %s"
	detailSharedNative     = "另一个 k3-storage 进程正在运行 (或正在启动) %s (数据目录 %s)，直接使用，退出时不会停止它"
	detailAdoptNative      = "接管遗留的%s：启动它的 k3-storage 进程已退出，退出时由本进程停止"
	detailPortBusy         = "%s 上已有程序在监听但尚未应答，不是本进程可以管理的服务：等待它就绪"
	detailStaleNative      = "已停止按另一份配置启动的遗留数据库进程 (pid %d)"
	detailRunAs            = "以 %s 用户运行数据库 (%s)"
	detailNativeInit       = "首次使用，正在初始化数据目录 %s..."
	detailNativeInitDone   = "数据目录 %s 已初始化 (%s)"
	detailMySQLStarting    = "正在启动%s，监听 %s，数据目录 %s..."
	detailEtcdStarting     = "正在启动内嵌 etcd，监听 %s，数据目录 %s..."
	detailMySQLStopping    = "正在停止本机 %s (pid %d)..."
	detailEtcdStopping     = "正在停止内嵌 etcd..."
	txtNativeMySQL         = "本机 %s (%s)"
	detailMySQLStarted     = "%s 已启动 (pid %d)，已在 %s 上应答"
	detailEtcdStarted      = "内嵌 etcd 已就绪: %s"
	detailNativeStopped    = "%s 已停止，数据保留在 %s"
	detailNativeKilled     = "%s 未在 %v 内停止，已强制结束 (SIGKILL)；数据保留在 %s"
	detailNativePurged     = "%s 已停止，已删除本次创建的数据目录 %s"
	detailNativeNotPurged  = "；数据目录 %s 不是本进程创建的，未删除"
	detailNativeDataUnused = "注意: 本机数据目录中有以前不用容器时的数据，这次使用的是容器及其数据卷；要继续使用本机数据库，请设置 storage.%s.native.mode: always"
	heldNativeMySQL        = "本机 %s (pid %d，数据目录 %s)"
	heldNativeEtcd         = "内嵌 etcd %s (随本进程结束；数据保留在 %s)"
	txtEmbeddedEtcd        = "内嵌 etcd"
	txtNoDataHome          = "无法确定数据目录: XDG_DATA_HOME 和 HOME 都未设置 (可设置 native.data_dir)"
	whyConfigured          = "按配置不使用容器 (native.mode: always)"
	whyNoRuntime           = "未检测到可用的容器运行时 (已尝试: %s)"
	whyRemoteRuntime       = "容器运行时 %s 不在本机"
	whyPull                = "镜像 %s 无法拉取 (%s)"
	errNative              = "%s: %w"
	errNativeStop          = "停止%s: %w"
	errNativeMode          = "未知的 native.mode %q (可选: auto、always、never)"
	errNativeCredentials   = "%w\n数据目录 %s 中的数据库是首次启动时按当时的配置设置的 (root 密码、用户、数据库)；如果之后改过密码或用户，请改回原来的，或删除该目录让它重新初始化 (其中的数据将丢失)"
	errUnavailable         = "无法在本机提供 %s 数据库 (%s)。已尝试:"
	txtFixes               = "解决办法 (任选其一):"
	triedContainer         = "容器: %s"
	triedNative            = "本机数据库: %v"
	triedNativeNever       = "本机数据库: 已按配置关闭 (native.mode: never)"
	fixStartDocker         = "启动 Docker (或让 DOCKER_HOST 指向可用的 Docker)"
	fixContainersMode      = "设置 %s.native.mode: auto，在有 Docker 和镜像时使用容器"
	fixImage               = "准备镜像: docker pull %s (离线时在有网络的机器上 docker save，再用 docker load -i <文件> 导入)"
	fixInstallMySQL        = "安装 MariaDB 或 MySQL 服务端 (Debian/Ubuntu: apt-get install mariadb-server)，或用 %s.native.binary 指定 mariadbd/mysqld"
	fixNativeMySQL         = "检查 %s.native 的设置 (data_dir、binary)"
	fixNativeEtcd          = "检查 %s.native.data_dir 的设置"
	fixEtcdServer          = "(嵌入 engine 的程序) 把 engine.EtcdOptions.Server 设为 etcdembed.Launch (github.com/k3/k3-storage/native/etcdembed)，链接内嵌的 etcd 服务器"
	fixNativeModeMySQL     = "设置 %s.native.mode: auto，改用本机的 mariadbd/mysqld (需要安装 mariadb-server)"
	fixNativeModeEtcd      = "设置 %s.native.mode: auto，改用 k3-storage 内嵌的 etcd"
	fixConnectOnly         = "设置 %s.container.auto: false，并把 %s 指向已在运行的数据库"
	fixConnectOnlyEtcd     = "安装 etcd (Debian/Ubuntu: apt-get install etcd-server) 并自行启动，或使用已有的 etcd 集群；然后设置 %s.container.auto: false，并把 %s 指向它"
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
