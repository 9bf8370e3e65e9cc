package tui

import "github.com/k3/k3-storage/engine/lifecycle"

// The console's user-facing text, in the original service's language.
// Identifiers, key names and protocol words (JSON, YAML, rev) stay in
// English.
const (
	txtTitle            = "k3-storage"
	txtBackend          = "后端"
	txtAddress          = "地址"
	txtConfig           = "配置"
	txtStartupTime      = "启动用时"
	txtUptime           = "已运行"
	txtFailed           = "启动失败"
	txtStopFailed       = "关闭失败"
	txtStopping         = "正在关闭存储服务…"
	txtStartHint        = "q 退出（会清理已创建的资源）"
	txtFailedHint       = "q 退出"
	txtForceHint        = "再按 ctrl+c 强制退出（不清理）"
	txtForced           = "强制退出：清理未完成"
	txtNotCleaned       = "仍未清理: "
	txtShutdownTimedOut = "关闭超时（%s）：清理未完成"
	txtShutdownFailed   = "关闭失败"
	txtCrashCleanup     = "控制台异常退出，正在关闭存储服务…"
	txtTooSmall         = "终端太小：至少需要 %d×%d"
	txtStageUnknown     = "步骤"
	txtStepsHidden      = "… 另有 %d 个步骤"

	// Image pull.
	txtPullImage        = "镜像"
	txtPullTotal        = "总计"
	txtPullBytes        = "%s / %s"
	txtPullBytesUnknown = "已下载 %s"
	txtETA              = "剩余 %s"
	txtLayers           = "%d/%d 层"
	txtLayersUnknown    = "%d 层大小未知"
	txtLayersFolded     = "  ✓ %d 层已完成"
	txtSizeUnknown      = "(大小未知)"
	txtLayerWaiting     = "等待中"
	txtLayerDownloading = "下载中"
	txtLayerVerifying   = "校验中"
	txtLayerDownloaded  = "已下载"
	txtLayerExtracting  = "解压中"
	txtLayerComplete    = "完成"
	txtLayerExists      = "已存在"

	// Connect attempts.
	txtAttemptTitle = "第 %d 次连接 %s 失败"
	txtLastError    = "上次错误"
	txtNextAttempt  = "%s 后重试"
	txtRetrying     = "正在重试…"
	txtLastAttempt  = "不再重试"

	// Startup log view.
	txtLogTitle      = "启动日志"
	txtLogHint       = "L 或 esc 返回浏览器 · q 退出"
	txtWarningsBadge = "⚠ %d 条警告 (L)"
	txtReadOnlyBadge = "只读"

	// Browser.
	txtBrowserReady      = "存储已就绪：enter 打开，? 查看全部按键"
	txtRoot              = "(根)"
	txtModeTree          = "树"
	txtModeFlat          = "平铺"
	txtTotalKeys         = "共 %s 个键"
	txtFilter            = "过滤"
	txtFilterPlaceholder = "子串；^前缀 按范围读取"
	txtReading           = "读取中…"
	txtCounting          = "计数中…"
	txtEmptyLevel        = "（此层没有键，n 新建）"
	txtNoMatch           = "（没有匹配的键）"
	txtEmptyName         = "(空名称)"
	txtFiltering         = "过滤中… 已扫描 %s 项"
	txtLocating          = "定位中…"
	txtSeekingEnd        = "读取到末尾… 已读 %s 项"
	txtReadFailed        = "读取失败"
	txtRefreshing        = "刷新中…"
	txtFlatOn            = "平铺模式：显示此层下的全部键"
	txtFlatOff           = "树模式：按 / 分层"
	txtWrapOn            = "长行折行显示"
	txtWrapOff           = "长行截断显示（w 折行）"
	txtDirKeys           = "%s 个键"
	txtDirHint           = "enter 进入此目录"
	txtHex               = "十六进制"
	txtVersion           = "版本 %d"
	txtRevs              = "rev 创建 %d 修改 %d"
	txtLines             = "行 %d-%d/%d"
	txtValueDeleted      = "已删除 (rev %d)"
	txtValueUpdated      = "已更新"
	txtEmptyValue        = "（空值）"
	txtLineCut           = " …（此行过长，已截断；x 查看全部字节）"
	txtKindText          = "文本"
	txtKindBinary        = "二进制"
	txtKindEmpty         = "空"

	// Live updates.
	txtLive         = "实时"
	txtLiveStarting = "正在开始监听"
	txtLiveBroken   = "实时中断"
	txtRetryIn      = "%s 后重试"
	txtRetryingNow  = "正在重试…"
	txtFeed         = "最近变更"
	txtFeedEmpty    = "无"
	txtDiffSame     = "值未变"
	txtDiffFormat   = "仅格式变化"
	txtDiffMore     = " 等（另 %d 处）"

	// Editing.
	txtNewTitle          = "新建键"
	txtEditTitle         = "编辑 %s（基于 rev %d）"
	txtEditTitleLoading  = "编辑 %s"
	txtEarlyKeysLost     = "读取值期间输入过多，部分按键未生效"
	txtEditBasis         = "保存时若该键已被其他写入修改，将报告冲突而不会覆盖。"
	txtKeyPrompt         = "键: "
	txtKeyPlaceholder    = "/registry/…"
	txtKeyHint           = "输入完整的键，enter 继续，esc 取消"
	txtKeyHintPrefilled  = "已填入当前目录：接着输入名称，或以 / 开头输入完整的键"
	txtDoubleSlash       = "键中含有 //（空的路径段）：确认无误再按 enter，或修改键名"
	txtNotJSON           = "原值是 JSON，修改后不再是合法的 JSON：再按 ctrl+s 仍然保存，或继续修改"
	txtNotJSONAt         = "原值是 JSON，修改后第 %d 行第 %d 列起不再是合法的 JSON：再按 ctrl+s 仍然保存，或继续修改"
	txtNoPrefill         = "当前层级含控制字符、不可见字符或非 UTF-8 字节，无法原样填入，请输入完整的键"
	txtValueHint         = "值（ctrl+s 保存，esc 取消）:"
	txtValuePlaceholder  = "值…"
	txtSaving            = "保存中…"
	txtStillSaving       = "正在保存…，写入完成前无法取消或修改"
	txtEditChanged       = "该键已被其他写入修改（现为 rev %d）：保存将报告冲突"
	txtEditDeleted       = "该键已被其他写入删除（rev %d）"
	txtReadOnlyRefused   = "只读模式（--readonly）：新建、编辑和删除已禁用"
	txtReadOnlyHelp      = "只读模式（--readonly）：n / e / d 已禁用"
	txtEditNeedsKey      = "请选择一个键（不是目录）再编辑"
	txtDeleteNeedsKey    = "请选择一个键（不是目录）再删除"
	txtValueLoading      = "值还在读取，请稍候"
	txtEditGone          = "该键已被删除，无法编辑"
	txtEditTooLarge      = "值超过 %s，无法在控制台中编辑"
	txtEditTooManyLines  = "值超过 %d 行，无法在控制台中编辑"
	txtPasteTooManyLines = "编辑器最多 %d 行：超出的行未插入，保存前请检查"
	txtEditUnsafe        = "值包含控制字符、不可见字符或非 UTF-8 字节，无法安全编辑（x 查看十六进制）"
	txtConfirmDelete     = "删除 %s（rev %d）？按 y 确认，其他键取消"
	txtDeleteCancelled   = "已取消删除"
	txtDeleting          = "删除中…"
	txtEditCancelled     = "已取消编辑"
	txtUnchanged         = "值未修改，未写入"
	txtInvalidKey        = "无效的键"
	txtCreatedOK         = "已创建 %s（rev %d）"
	txtSavedOK           = "已保存 %s（rev %d）"
	txtDeletedOK         = "已删除 %s（rev %d）"
	txtErrKeyExists      = "键已存在：未写入（按 esc 取消，或修改键名后重试）"
	txtErrConflict       = "冲突：该键在打开编辑器后已被其他写入修改，未覆盖。esc 放弃修改后重新打开"
	txtErrDeleteConflict = "冲突：该键已被其他写入修改，未删除"
	txtErrNotFound       = "该键已不存在"
	txtErrTooLarge       = "值过大"
	txtErrClosed         = "存储已关闭"
	txtErrWrite          = "写入失败"

	// Copying.
	txtCopied       = "已发送到终端剪贴板（OSC 52）：%s（%s）"
	txtCopyKey      = "键 %s"
	txtCopyValue    = "%s 的值"
	txtCopyTooLarge = "未复制%s：%s 超过终端剪贴板（OSC 52）通常接受的约 %s"
	txtCopyNeedsKey = "请选择一个键（不是目录）再复制值"
	txtCopyFailed   = "复制失败"

	// Key history (H).
	txtHistTitle              = "历史"
	txtHistCount              = "%s 个版本"
	txtHistNeedsKey           = "请选择一个键（不是目录）再查看历史"
	txtHistoryUnsupported     = "此后端不提供键的历史"
	txtHistRev                = "rev %d"
	txtHistCreated            = "创建"
	txtHistUpdated            = "更新"
	txtHistDeleted            = "删除"
	txtHistCurrent            = "当前"
	txtHistDiff               = "与上一版本的差异（enter 查看全文）"
	txtHistFull               = "全文（enter 查看差异）"
	txtHistNothing            = "（不存在）"
	txtHistNoPrev             = "没有更早的版本可比较（历史已压缩）：enter 查看全文"
	txtHistTooLarge           = "值太大（%s → %s），不逐行比较：enter 查看全文"
	txtHistSame               = "值未变（写入了相同的内容）"
	txtHistDeletedAt          = "键在 rev %d 被删除"
	txtHistDeletedWas         = "删除的是 rev %d 写入的版本 %d"
	txtHistEmpty              = "（没有已知的版本）"
	txtHistComplete           = "（以上是全部历史）"
	txtHistCompacted          = "（rev %d 及更早的历史已压缩）"
	txtHistStopsAtDelete      = "（rev %d 时键不存在，更早的不可见）"
	txtHistCopyValue          = "rev %d 的值"
	txtHistRestoreAsk         = "用 rev %d 的版本 %d 覆盖当前值（rev %d）？按 y 确认，其他键取消"
	txtHistRestoreCancelled   = "已取消恢复"
	txtHistRestoreDeleted     = "这是一次删除，没有值可恢复"
	txtHistRestoreCurrent     = "这已是当前版本"
	txtHistRestored           = "已恢复 rev %d 的值（新版本 rev %d）"
	txtHistRestoreConflict    = "冲突：读取历史后该键又被修改，未覆盖。r 重新读取历史后再试"
	txtHistRestoreBackendDown = "存储后端不可达，未恢复：后端恢复后再试"
	txtHistRestoreStale       = "该键刚被修改，已取消恢复：请看过最新的版本后再按 R"
	txtHistRestoreTimeout     = "恢复超时（%s 内没有响应）：结果未知，可能已经写入；按 r 重新读取历史查看"
	txtHistFormatOnly         = "仅格式不同（JSON 的空白或末尾的换行）"
	txtHistCreatedEmpty       = "以空值创建"

	// Export (E).
	txtExportPrompt         = "导出 %s 下的键到文件: "
	txtExporting            = "导出中… %s 个键 → %s（E 取消）"
	txtExportDone           = "已导出 %s 个键到 %s（%s，rev %d）"
	txtExportFailed         = "导出失败"
	txtExportCancelling     = "正在取消导出…"
	txtExportCancelled      = "已取消导出，未留下文件"
	txtExportOverwrite      = "文件 %s 已存在：按 y 覆盖，其他键取消"
	txtExportNotOverwritten = "未导出：已有的文件保持不变"
	txtExportIsDir          = "%s 是目录：请输入文件名"

	// Help.
	txtHelpTitle   = "按键"
	txtHelpFilter  = "过滤: 输入子串在当前层查找（全小写时不区分大小写）；以 ^ 开头按前缀范围读取"
	txtHelpCopy    = "复制: c 复制键、C 复制值，经 OSC 52 写入终端的剪贴板（ssh 中也可用；tmux 需 set-clipboard on）"
	txtHelpFeed    = "最近变更: + 新建 · ~ 更新（及改动的 JSON 路径）· - 删除，包括本控制台的写入"
	txtHelpHistory = "历史: H 列出所选键的各个版本（新的在前）及与上一版本的差异（JSON 先格式化）；enter 查看全文；R 恢复所选版本：以按 R 时显示的最新版本的 rev 比较并交换，之后被改过则报告冲突、不覆盖"
	txtHelpExport  = "导出: E 把当前层级的键写入文件（与 k3-storage export 同一格式，可用 k3-storage import 导入）；已有文件须按 y 才覆盖；导出中再按 E 取消"
)

// Help texts of the key bindings.
const (
	hlpUp           = "上移"
	hlpDown         = "下移"
	hlpPageUp       = "上一页"
	hlpPageDown     = "下一页"
	hlpHome         = "开头"
	hlpEnd          = "末尾"
	hlpOpen         = "打开"
	hlpBack         = "上一层"
	hlpClear        = "清除过滤/返回"
	hlpFilter       = "过滤"
	hlpFlat         = "树/平铺"
	hlpHex          = "十六进制"
	hlpWrap         = "长行折行/截断"
	hlpCopy         = "复制键"
	hlpCopyValue    = "复制值"
	hlpRefresh      = "刷新"
	hlpLog          = "启动日志"
	hlpNew          = "新建"
	hlpEdit         = "编辑"
	hlpDelete       = "删除"
	hlpHelp         = "帮助"
	hlpQuit         = "退出"
	hlpForceQuit    = "退出；关闭中再按强制退出"
	hlpSave         = "保存"
	hlpCancel       = "取消"
	hlpNext         = "下一步"
	hlpConfirm      = "确认删除"
	hlpFilterDone   = "完成"
	hlpFilterClear  = "清除"
	hlpAnyKey       = "其他键"
	hlpHelpClose    = "返回"
	hlpHistory      = "键的历史与差异"
	hlpHistoryShort = "历史"
	hlpExportShort  = "导出"
	hlpRestore      = "恢复所选版本（历史中）"
	hlpExport       = "导出当前层级到文件"
	hlpHistFull     = "全文/差异"
	hlpHistPick     = "选择版本"
	hlpHistRestore  = "恢复此版本"
	hlpHistScroll   = "滚动"
	hlpExportRun    = "导出"
	hlpOverwrite    = "覆盖"
)

// stageLabel names a lifecycle stage in the checklist.
func stageLabel(s lifecycle.Stage) string {
	switch s {
	case lifecycle.StageConfig:
		return "加载配置"
	case lifecycle.StageStart:
		return "启动存储服务"
	case lifecycle.StageRuntime:
		return "检测容器运行时"
	case lifecycle.StageContainer:
		return "查找已有容器"
	case lifecycle.StageImage:
		return "检查镜像"
	case lifecycle.StagePull:
		return "拉取镜像"
	case lifecycle.StageCreate:
		return "创建容器"
	case lifecycle.StageContainerStart:
		return "启动容器"
	case lifecycle.StageProvision:
		return "数据库来源"
	case lifecycle.StageNativeInit:
		return "初始化数据目录"
	case lifecycle.StageNativeStart:
		return "启动本机数据库"
	case lifecycle.StageConnect:
		return "连接存储后端"
	case lifecycle.StageReady:
		return "就绪"
	case lifecycle.StageStopping:
		return "关闭存储服务"
	case lifecycle.StageCloseStore:
		return "关闭存储连接"
	case lifecycle.StageRemoveContainer:
		return "清理本进程拉起的容器"
	case lifecycle.StageStopNative:
		return "停止本进程拉起的数据库进程"
	case lifecycle.StageStopped:
		return "已关闭"
	}
	return txtStageUnknown + " " + s.String()
}

// The backend's health while ready, and writes during an outage.
const (
	txtBackendDown = "后端不可达"
	// txtBackendUp is the engine's own line for a recovery (headless
	// prints it), with the outage's length.
	txtBackendUp            = "存储后端已恢复 (中断 %s)"
	txtErrWriteTimeout      = "保存超时（%s 内没有响应）：结果未知，可能已经写入。文本已保留：可再按 ctrl+s 重试（若已写入，会报告冲突而不会重复写入），或 esc 后按 r 刷新查看"
	txtErrDeleteTimeout     = "删除超时（%s 内没有响应）：结果未知，可能已经删除；按 r 刷新查看"
	txtErrWriteBackendDown  = "存储后端不可达，未保存：文本已保留，后端恢复后再按 ctrl+s 保存"
	txtErrDeleteBackendDown = "存储后端不可达，未删除：后端恢复后再试"
)
