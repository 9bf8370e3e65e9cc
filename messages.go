package main

// The command's user-facing text, in the original service's language.
// Flag names and values stay as they are typed.
const (
	usageText = `k3-storage — k3 的存储服务：启动并持有存储后端 (memory / mysql / etcd)，
配置指向 localhost 时自动拉起 MySQL/etcd 容器；没有可用的容器时改用本机 mariadbd/mysqld 或内嵌的 etcd。

用法:
  k3-storage [--config PATH] [--headless [--output text|json]] [--readonly] [--purge-volume]

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

	txtVersionUnknown = "devel（构建时未记录版本信息）"
	txtVersionDigest  = "devel build %s（构建时未记录版本信息；此为可执行文件的 SHA-256 前缀）"
)
