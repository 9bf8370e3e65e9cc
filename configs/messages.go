package configs

// The package's user-facing text, in Chinese like the original service.
// Identifiers stay as the user writes them: field names (storage.mysql.port),
// values, file names, flags and YAML words (---, [, :). Every message is
// shown after "FILE:LINE: FIELD: ", which scripts and tests match, so a
// message never repeats that prefix. Secrets are never formatted into any
// of them.
const (
	// Finding and reading the file.
	msgBuiltIn      = "（内置）" // after the path of the built-in example
	msgNamedBy      = "（由 %s 指定）"
	msgEmptyFlag    = "路径为空；不指定 --config 时按查找顺序选择配置文件"
	msgNoSuchFile   = "文件不存在"
	msgPermission   = "无法读取文件：权限不足"
	msgCannotRead   = "无法读取文件"
	msgIsDirectory  = "是一个目录，不是配置文件"
	msgTooLarge     = "文件超过 %d 字节，不像是配置文件"
	msgEmptyFile    = "文件是空的（至少需要 storage: 段，参见 configs/config-example.yaml）"
	msgNullDocument = "文件没有任何设置（至少需要 storage: 段，参见 configs/config-example.yaml）"
	msgTwoDocuments = "包含多个 YAML 文档（删除多余的 ---）"
	msgYAMLSyntax   = "YAML 语法错误："
	msgAlias        = "配置文件不支持 YAML 别名（*）"
	msgKeyNotName   = "键必须是普通的名字"
	msgSetTwice     = "重复设置（第一次在第 %d 行）"
	msgUnknownField = "未知字段（可选: %s）"
	msgDidYouMean   = "未知字段，是否想写 %s？（可选: %s）"
	msgWantMapping  = "应为一组设置（键: 值），实际是%s"
	msgWantList     = "应为列表，实际是%s"
	msgWantScalar   = "应为单个值，实际是%s"
	msgNotInteger   = "%s 不是整数"
	msgIntRange     = "%s 超出范围"
	msgNotBool      = "%s 不是 true 或 false"
	msgUnsupported  = "不支持的设置类型 %s"
	msgWantDuration = "应为时长（如 5s 或 500ms），实际是%s"
	msgDurationUnit = "无效的时长 %q：需要单位（如 %ss 或 %sms）"
	msgBadDuration  = "无效的时长 %q（应为数字加单位 ms、s、m、h，如 5s 或 500ms）"
	msgNegDuration  = "无效的时长 %q：不能为负数"
	descMapping     = "一组设置"
	descList        = "列表"
	descSecret      = "所填的值" // stands for a secret's value, which is never shown
	fieldSep        = ", "   // between field names in msgUnknownField and msgDidYouMean
	valueSep        = "、"    // between values in a sentence, as in msgUnknownType

	// Warnings: the file loads, but probably not as the user meant.
	warnEmptyStorage = "配置文件 %s 的 storage 段没有任何设置，使用默认的 memory 后端"
	warnEmptyFile    = "配置文件 %s 没有任何设置，使用默认的 memory 后端"

	// Validation.
	msgUnknownType    = "未知的类型 %q（可选: %s）"
	msgNegHistory     = "%d 是负数（0 表示默认的 %d，或填正整数）"
	msgEmpty          = "不能为空"
	msgDatabaseName   = "无效的数据库名 %q（应为 1-64 个字母、数字、_ 或 $）"
	msgTooSmall       = "%d 太小（至少为 %d）"
	msgIdleNegative   = "%d 是负数（应为 0 到 max_open_conns）"
	msgIdleAboveOpen  = "%d 大于 max_open_conns（%d）"
	msgTooShort       = "%v 太短（至少 %v）"
	msgNoEndpoints    = "没有任何端点（至少需要一个 URL，如 http://127.0.0.1:2379）"
	msgPasswordOnly   = "已设置，但 username 为空（etcd 认证需要两者同时设置）"
	msgUsernameOnly   = "%q 已设置，但 password 为空（etcd 认证需要两者同时设置）"
	msgCertWithoutKey = "cert_file 和 key_file 必须同时设置"
	msgCannotReadFile = "无法读取 %q：%s"
	msgFileMissing    = "文件不存在"
	msgFileDenied     = "权限不足"
	msgFileNotDir     = "路径中的某一级不是目录"
	msgURLMalformed   = "%q 不是有效的 URL（应如 http://127.0.0.1:2379）"
	msgURLNoSocket    = "%q 不是有效的 URL：缺少 socket 路径"
	msgURLNoScheme    = "%q 不是有效的 URL：缺少协议（应为 http://%s）"
	msgURLScheme      = "%q 不是有效的 URL：不支持的协议 %q（可选: http、https、unix、unixs）"
	msgURLNoHost      = "%q 不是有效的 URL：缺少主机（应如 http://127.0.0.1:2379）"
	msgURLCredentials = "%q 不是有效的端点：用户名和密码应写在 username 和 password 中，不能写在 URL 里"
	msgURLExtra       = "%q 不是有效的端点：只能包含协议、主机和端口"
	msgURLPortRange   = "%q 中的端口 %q 超出范围（应为 1-65535）"
	msgURLEmptyPort   = "%q 不是有效的 URL：端口为空"
	msgHostEmpty      = "不能为空（应为主机名或 IP 地址，如 localhost）"
	msgHostURL        = "%q 是一个 URL（这里只写主机名或 IP 地址）"
	msgHostBrackets   = "%q 带有方括号（IPv6 地址直接写，如 ::1）"
	msgHostInvalid    = "%q 不是主机名或 IP 地址"
	msgHostPort       = "%q 包含端口（这里只写主机，端口写在 port 中）"
	msgPortRange      = "%d 超出范围（应为 1-65535）"
	msgImage          = "无效的镜像名 %q（应如 mysql:8.0）"
	msgContainerName  = "无效的容器名 %q（只能包含字母、数字、_ . -，并以字母或数字开头）"
	msgVolumeName     = "无效的数据卷名 %q（只能包含字母、数字、_ . -，并以字母或数字开头）"
	validateFileName  = "config" // the file name Validate reports, having none

	// The native sections.
	msgUnknownMode     = "未知的模式 %q（可选: %s）"
	msgAlwaysNeedsAuto = "always 需要 %s.container.auto: true（auto: false 表示只连接，不启动任何数据库）"
	msgNotAbsolute     = "%q 不是绝对路径"
	msgNotProgram      = "%q 不是普通文件"
	msgNotExecutable   = "%q 没有执行权限"
	// Validation of storage.mysql.tls.
	msgTLSModeGuess    = "未知的模式 %q，是否想写 %s？（可选: %s）"
	msgTLSOnlyVerify   = "只在 mode 为 verify-ca 或 verify-full 时使用（当前为 %s）"
	msgTLSOnlyFull     = "只在 mode 为 verify-full 时检查（当前为 %s）"
	msgTLSCertDisabled = "mode 为 disabled 时不使用客户端证书"
)

// YAML syntax errors, after msgYAMLSyntax. The first group diagnoses what
// the source text shows at the line found; yamlProblem translates what
// yaml.v3 says when no diagnosis applies.
const (
	msgTabIndent      = "第 %d 行以制表符缩进；YAML 只能用空格缩进"
	msgUnclosedFlow   = "第 %d 行的 %s 没有闭合（缺少 %s，或元素之间缺少 ,）"
	msgUnclosedQuote  = "第 %d 行的引号没有闭合"
	msgQuoteRunsOn    = "第 %d 行的引号一直延续到第 %d 行，是否少了一个闭合的引号？"
	msgIndentMismatch = "第 %d 行缩进了 %d 个空格，与上文的层级（%s 个空格）都对不齐"
	msgIndentDeeper   = "第 %d 行比上一行缩进得多（%d 个空格），但上一行的键已经有值；同一组的键应对齐（%s 个空格）"
	msgItemNotKey     = "这里应为“键: 值”，不能是列表项（- …）"
	msgMissingKey     = "“:” 前面缺少键名"
	msgReservedChar   = "值不能以 %s 开头；请给值加引号"
	msgUnknownAnchor  = "引用了未定义的锚点（以 * 开头的值请加引号）"
	msgMaxDepth       = "嵌套太深"
	msgUnknownProblem = "无法解析（yaml.v3: %s）"
	levelSep          = "、" // between indentation levels in msgIndent*
)

// yamlProblem translates a problem text of gopkg.in/yaml.v3 (v3.0.1, its
// final release: the texts cannot change under us). ok is false for a text
// it does not know.
func yamlProblem(problem string) (msg string, ok bool) {
	switch problem {
	case "did not find expected <stream-start>":
		return "无法识别文件开头", true
	case "did not find expected <document start>":
		return "这里应为新文档的开始（---）", true
	case "found undefined tag handle":
		return "未定义的标签前缀（!）", true
	case "did not find expected node content":
		return "这里缺少值", true
	case "did not find expected '-' indicator":
		return "这里应为列表项（- …）：同一个列表里不能混入“键: 值”，或检查缩进", true
	case "did not find expected key":
		return "这里应为“键: 值”：检查缩进，以及引号或括号后面有没有多余的内容", true
	case "did not find expected ',' or ']'":
		return "[ 没有闭合（缺少 ]，或元素之间缺少 ,）", true
	case "did not find expected ',' or '}'":
		return "{ 没有闭合（缺少 }，或元素之间缺少 ,）", true
	case "found duplicate %YAML directive":
		return "%YAML 指令重复", true
	case "found incompatible YAML document":
		return "不支持的 YAML 版本（只支持 1.x）", true
	case "found duplicate %TAG directive":
		return "%TAG 指令重复", true
	case "found character that cannot start any token":
		return "出现了不能作为开头的字符（如 @、`、% 或制表符）；以这些字符开头的值请加引号", true
	case "could not find expected ':'":
		return "缺少“:”（键后面要有冒号和空格）", true
	case "block sequence entries are not allowed in this context":
		return "这里不能出现列表项（-）", true
	case "mapping keys are not allowed in this context":
		return "这里不能出现“? ”键", true
	case "mapping values are not allowed in this context":
		return "这里不能出现“: ”：值里含有冒号加空格时请给值加引号，否则检查缩进", true
	case "found unknown directive name":
		return "无法识别的 % 指令", true
	case "could not find expected directive name":
		return "% 后面缺少指令名", true
	case "found unexpected non-alphabetical character":
		return "% 指令名中有非字母的字符", true
	case "did not find expected digit or '.' character":
		return "%YAML 指令的版本号无效", true
	case "found extremely long version number":
		return "%YAML 指令的版本号太长", true
	case "did not find expected version number":
		return "%YAML 指令缺少版本号", true
	case "did not find expected whitespace":
		return "这里缺少空格", true
	case "did not find expected whitespace or line break":
		return "这里缺少空格或换行", true
	case "did not find expected comment or line break":
		return "这里只能是注释或换行", true
	case "did not find expected alphabetic or numeric character":
		return "& 或 * 后面缺少锚点名（以 & 或 * 开头的值请加引号）", true
	case "did not find the expected '>'":
		return "标签缺少闭合的 >", true
	case "found an indentation indicator equal to 0":
		return "块标量的缩进指示符不能为 0", true
	case "found a tab character where an indentation space is expected", "found a tab character that violates indentation":
		return "这里以制表符缩进；YAML 只能用空格缩进", true
	case "found unexpected document indicator":
		return "引号没有闭合（闭合之前遇到了 --- 或 ...）", true
	case "found unexpected end of stream":
		return "引号没有闭合", true
	case "found unknown escape character":
		return "双引号中有未知的转义（\\）；反斜杠本身请写成 \\\\，或改用单引号", true
	case "did not find expected hexdecimal number":
		return "双引号中的 \\x、\\u 或 \\U 后面缺少十六进制数字", true
	case "found invalid Unicode character escape code":
		return "双引号中的 \\u 或 \\U 转义不是有效的 Unicode 字符", true
	case "invalid leading UTF-8 octet", "incomplete UTF-8 octet sequence", "invalid trailing UTF-8 octet", "invalid length of a UTF-8 sequence", "invalid Unicode character":
		return "文件不是有效的 UTF-8 文本", true
	case "control characters are not allowed":
		return "文件中有不允许的控制字符", true
	case "incomplete UTF-16 character", "unexpected low surrogate area", "incomplete UTF-16 surrogate pair", "expected low surrogate area":
		return "文件不是有效的 UTF-16 文本", true
	case "document contains excessive aliasing":
		return "别名展开过多", true
	}
	return "", false
}
