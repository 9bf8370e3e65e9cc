package containers

// User-facing texts of this package: error messages, Progress messages and
// the String forms a user reads, in Chinese as the original service spoke.
// Identifiers (container, image and volume names, IDs, addresses, ports,
// labels, flags) and the daemon's own error text are inserted as they are.
// The String methods that give stable identifiers for JSON (Step,
// LayerPhase, PullFailure, Outcome, Ownership) are not texts and stay in
// English.

// Sentinel errors (errors.go).
const (
	txtErrNoRuntime   = "未找到容器运行时"
	txtErrInvalidSpec = "容器规格无效"
	txtErrNotOwned    = "不属于本 k3-storage 进程"
	txtErrPullStalled = "拉取停滞"
)

// Typed errors (errors.go).
const (
	errNoRuntimeTried    = "未找到容器运行时; 已尝试: "
	errNoRuntimeSep      = "; "
	errNoRuntimeNothing  = "无"
	errForeignRunning    = "容器 %q 不是 k3-storage 创建的, 且运行的是镜像 %q 而不是 %q; 未做任何改动: 请自行删除或重命名它, 或在配置中换一个容器名"
	errForeignStopped    = "容器 %q (镜像 %q) 不是 k3-storage 创建的, 且处于 %s 状态; 未做任何改动: 请自行删除或重命名它, 或在配置中换一个容器名"
	errOwnedAdopted      = "容器 %q 由 k3-storage 进程 %d 留下, 已被另一个运行中的 k3-storage 进程接管, 当前处于 %s 状态; 未做任何改动: 请停止那个进程, 或在配置中换一个容器名"
	errOwnedElsewhere    = "容器 %q 属于主机 %q 上的 k3-storage 进程 %d, 处于 %s 状态, 未在运行; 未做任何改动: 请停止那个进程, 或在配置中换一个容器名"
	errPortInUse         = "容器 %q 要发布的主机端口 %s 已被其他程序占用: %v"
	errPull              = "拉取镜像 %q 失败 (%s): %v"
	txtPullOther         = "其他错误"
	txtPullUnreachable   = "registry 不可达"
	txtPullNotFound      = "镜像或标签不存在"
	txtPullUnauthorized  = "registry 需要认证或拒绝访问"
	txtPullStalledReason = "拉取停滞或超时"
)

// pullFailureTexts describe each PullFailure (PullFailure.Description).
var pullFailureTexts = [...]string{
	PullOther:               txtPullOther,
	PullRegistryUnreachable: txtPullUnreachable,
	PullNotFound:            txtPullNotFound,
	PullUnauthorized:        txtPullUnauthorized,
	PullStalled:             txtPullStalledReason,
}

// Discovery (discover.go, client.go).
const (
	txtUsable           = "可用"
	txtAbsent           = "不存在"
	txtUnreachable      = "不可达"
	txtNoDockerAPI      = "没有 Docker API"
	txtCandidate        = "%s %s: %s"
	txtCandidateTLS     = " (TLS)"
	txtCandidateAPI     = " (API %s)"
	txtCandidateErr     = " (%v)"
	errNotSocket        = "%s 不是 socket"
	errDiscover         = "查找容器运行时: %w"
	errCRI              = "%s 使用 CRI/gRPC, 不提供 Docker Engine API"
	errReadCLIConfig    = "读取 docker CLI 配置: %w"
	errContext          = "docker context %q: %w"
	txtNoEndpointHost   = "没有 docker 端点地址"
	errTLSMissing       = "TLS 文件缺失 (DOCKER_TLS_VERIFY/DOCKER_CERT_PATH 指向 %s): %s: %w"
	errTLSMaterial      = "%s 中的 TLS 文件: %w"
	errDockerClient     = "创建连接 %s 的 docker 客户端: %w"
	errPing             = "ping %s: %w"
	txtErrNoDockerAPI   = "有应答但没有 Docker API 版本: 不是 Docker Engine API"
	errInspectContainer = "检查容器 %q: %w"
)

// Ensure's progress messages and errors (ensure.go).
const (
	msgReuseForeign    = "正在运行的容器 %s (镜像 %s) 不是 k3-storage 创建的; 直接使用, 并保持其运行"
	msgReuseLive       = "正在运行的容器 %s 属于主机 %s 上的 k3-storage 进程 %d; 直接使用, 它仍归对方所有"
	msgReuseAdopted    = "正在运行的容器 %s 由 k3-storage 进程 %d 留下, 已被另一个运行中的 k3-storage 进程接管; 直接使用, 它仍归对方所有"
	msgReuseMine       = "正在运行的容器 %s 已属于本进程; 直接使用"
	msgOtherSpec       = "; 它是按另一份规格创建的 (镜像、环境变量、命令、端口或数据卷不同)"
	msgRemoveOwn       = "本进程的容器 %s 处于 %s 状态; 将其删除"
	msgWaitOwner       = "容器 %s 处于 %s 状态, k3-storage 进程 %d 正在创建它; 等待其运行"
	msgReuseUnlockable = "容器 %s 由已退出的 k3-storage 进程 %d 留下且仍在运行, 但无法加锁 (%v); 直接使用但不接管, 退出时保留其运行"
	msgAdopt           = "容器 %s 由已退出的 k3-storage 进程 %d 留下且仍在运行; 接管它"
	msgRemoveOrphan    = "k3-storage 进程 %d 留下的容器 %s %s; 将其删除"
	txtOrphanStopped   = "已停止 (%s)"
	txtOrphanOtherSpec = "是按另一份规格创建的"
	errRemoveStale     = "删除遗留容器 %q: %w"
	errKeptChanging    = "准备容器 %q 期间它不断变化 (已尝试 %d 次); 另一个进程在争用它"
	errOrphanLocked    = "容器 %q 由 k3-storage 进程 %d 留下且仍在运行, 但按另一份规格创建, 且无法加锁以安全替换: %w"
	errWaitContainer   = "等待容器 %q: %w"
)

// Creating and removing (create.go, remove.go).
const (
	errCreateContainer = "创建容器 %q: %w"
	errStartContainer  = "启动容器 %q: %w"
	errDaemonSaid      = "%w (Docker 守护进程: %w)"
	errInspectVolume   = "检查数据卷 %q: %w"
	errCreateVolume    = "创建数据卷 %q: %w"
	msgCreateVolume    = "创建数据卷 %s"
	msgCleanup         = "删除本次尝试创建的容器和数据卷"
	errStopRemove      = "停止: %w; 删除: %w"
	errRemoveContainer = "删除容器 %q: %w"
	errRemoveUnlabeled = "删除容器 %q: 它没有 k3-storage 标签: %w"
	errPurgeVolume     = "删除数据卷 %q: %w"
	errPurgeForeign    = "删除数据卷 %q: 它不是 k3-storage 创建的: %w"
)

// Pulling (pull.go, progress.go).
const (
	errReadPull      = "读取拉取进度: %w"
	errInspectImage  = "检查镜像 %q: %w"
	errPullNoImage   = "拉取已结束且没有报错, 但本地没有该镜像: %w"
	errPullStalled   = "%w: Docker 守护进程 %v 内没有发来任何消息 (registry 是否可达?)"
	txtProgress      = "%s 容器 %s"
	txtProgressImage = " 镜像 %s"
	txtProgressLayer = " 层 %s: %s"
	txtProgressBytes = " [%d/%d 层, %d/%d 字节"
)

// Specs (spec.go).
const (
	txtSpec            = "%s 容器 %q 镜像 %q"
	txtSpecPort        = " 端口 %s"
	txtSpecVolume      = " 数据卷 %s:%s"
	txtSpecEnv         = " 环境变量"
	txtSpecEnvValue    = " %s=<已隐藏>"
	errInvalidSpec     = "%w: 容器 %q: %s"
	txtBadName         = "名称必须匹配 %s"
	txtBadVolumeName   = "数据卷名 %q 必须匹配 %s"
	txtNoImage         = "没有指定镜像"
	txtVolumeMount     = "数据卷 %q 和挂载路径 %q 必须同时给出"
	txtBadMountPath    = "挂载路径 %q 必须是 / 以外的绝对路径"
	txtBadEnv          = "第 %d 个环境变量不是 KEY=value 形式"
	txtNotLoopback     = "端口 %d: 主机地址 %q 不是回环地址; 端口只发布在 127.0.0.1 或 ::1 上"
	txtPortRange       = "端口 %s 超出范围"
	txtPortTwice       = "容器端口 %d 被发布了两次"
	txtNoRootPassword  = "没有 root 密码 (MYSQL_ROOT_PASSWORD)"
	txtMaxRequestBytes = "--max-request-bytes 为 %d, 必须大于 0"
)

// Locks and owners (lock.go, owner.go).
const (
	txtErrLockHeld   = "容器锁被另一个 k3-storage 进程持有"
	errLockDir       = "锁目录 %s: %w"
	errLockDirNotDir = "锁目录 %s: 不是目录 (%s)"
	errOpenLock      = "打开锁文件: %w"
)
