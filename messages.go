package main

// The command's user-facing text, in the original service's language.
// Flag names and values stay as they are typed.
const (
	usageText = `k3-storage — k3 的存储服务：启动并持有存储后端 (memory / mysql / etcd)，
配置指向 localhost 时自动拉起 MySQL/etcd 容器；没有可用的容器时改用本机 mariadbd/mysqld 或内嵌的 etcd。

用法:
  k3-storage [--config PATH] [--headless [--output text|json]] [--readonly] [--purge-volume]
  k3-storage export [--prefix P] [-o FILE] [--config PATH]     导出键为 YAML（k3-storage export -h）
  k3-storage import FILE [--overwrite] [--config PATH]         从 YAML 导入键（k3-storage import -h）

配置文件查找顺序: --config PATH, $CONFIG_PATH, ./.config.yaml, ./configs/config-example.yaml, 内置示例。

选项:
`
	exitCodesText = `
退出码: 0 正常停止, 1 启动或运行失败, 2 用法或配置错误。
`
	hlpConfig      = "配置文件路径 (`PATH`)"
	hlpHeadless    = "不启动控制台，按原服务格式输出日志 (供脚本使用)"
	hlpOutput      = "headless 输出格式: `text` (原服务日志行) 或 json (每行一个事件)"
	hlpReadonly    = "控制台只读：禁用新建、编辑和删除"
	hlpPurgeVolume = "退出删除本进程拉起的容器时，连同数据卷一起删除；本机数据库则删除本次创建的数据目录（数据将丢失）"
	hlpVersion     = "显示版本并退出"

	msgNotTerminal = "标准输出不是终端，以 --headless 模式运行"
	msgForceExit   = "再次收到信号，强制退出：清理未完成"
	msgLeftBehind  = "仍未清理: "
	msgConfigError = "配置错误: "
	msgUsageError  = "用法错误: "

	errUnknownFlag      = "未知选项 %s（k3-storage -h 查看全部选项）"
	errUnknownFlagGuess = "未知选项 %s，是否想写 %s？（k3-storage -h 查看全部选项）"
	errFlagValue        = "选项 %s 缺少取值"
	errFlagBool         = "选项 %s 的取值 %q 无效（可选: true、false）"
	errFlagOther        = "%v（k3-storage -h 查看全部选项）"
	errArgument         = "多余的参数 %q（k3-storage 只接受选项，k3-storage -h 查看全部选项）"
	errOutput           = "--output 的取值 %q 无效（可选: text、json）"

	errCommandGuess = "未知命令 %q，是否想写 %s？（k3-storage -h 查看用法）"

	// export and import.
	exportUsageText = `k3-storage export — 把存储后端中的键导出为稳定、可 diff 的 YAML（按键的字节序，值为文本或 base64）。
按与服务相同的方式找到配置并连接后端（本机数据库按需拉起，结束后清理）；进度在标准错误输出。

用法:
  k3-storage export [--prefix P] [-o FILE] [--no-revisions] [--config PATH]

选项:
`
	importUsageText = `k3-storage import — 把 export 生成的 YAML 导入存储后端：新键用 Create 写入；已存在的键报告并跳过，
--overwrite 时按读到的 revision 做 compare-and-swap 更新。写入前先检查整个文件，格式错误时指出行号，不写任何键。
FILE 为 - 时读标准输入。

用法:
  k3-storage import FILE [--overwrite] [--config PATH]

选项:
`
	hlpPrefix           = "只导出以 `P` 开头的键（默认全部）"
	hlpExportOut        = "写入文件 `FILE`（- 为标准输出）"
	hlpNoRevisions      = "不写 revision 元数据，便于比较不同存储的导出"
	hlpOverwrite        = "已存在的键按读到的 revision 覆盖（冲突时报告，不覆盖）"
	errImportNoFile     = "缺少要导入的文件（k3-storage import FILE，- 为标准输入）"
	errExportNoOut      = "-o 不能为空（- 为标准输出）"
	errTransferArgument = "多余的参数 %q（k3-storage export -h / import -h 查看用法）"
	msgTransferMemory   = "注意: memory 后端的数据只存在于运行它的进程中：这里导出的是一个新的空存储，导入的键随本命令退出而丢失"
	msgErrorPrefix      = "错误: "
	msgMoreReports      = "……另有 %d 个键未导入，未逐一列出"

	txtVersionUnknown = "devel（构建时未记录版本信息）"
	txtVersionDigest  = "devel build %s（构建时未记录版本信息；此为可执行文件的 SHA-256 前缀）"
)
