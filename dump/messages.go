package dump

import (
	"fmt"
	"strings"
)

// The package's user-facing text, in the original service's language:
// error texts, progress lines, summaries and the comments written into an
// export. Identifiers (field names, keys, line numbers) stay as they are;
// keys go through QuoteKey.
const (
	// The comment at the top of an export, one "# " line per line.
	msgCommentHeader = "k3-storage 导出文件。每个键一项，按键的字节序排列，可以直接用 diff 比较。\n" +
		"value 是原文；不是 UTF-8 文本的数据写作 !!binary（base64）。meta 是导出时的修订号，导入时不使用。\n" +
		"手工编辑后请让末尾的 count 等于项数：缺少 count 或数目不符的文件被视为不完整，导入时会拒绝。"
	msgCommentNotSnapshot = "注意：各页读取于修订号 %d 至 %d 之间，不是同一修订号的快照"

	msgErrMalformed      = "导入文件格式错误"
	msgErrSyntax         = "YAML 格式错误"
	msgErrUnsupported    = "不支持的写法"
	msgErrMissingField   = "缺少字段"
	msgErrDuplicateKey   = "键重复"
	msgErrBadBase64      = "base64 无效"
	msgErrTruncated      = "文件不完整"
	msgErrInvalidKey     = "键无效"
	msgErrValueTooLarge  = "值过大"
	msgErrChanged        = "导入文件在校验之后被修改"
	msgErrNotAllImported = "部分键未导入"
	msgErrUsage          = "参数无效"

	msgAtLine           = "第 %d 行"
	msgKeyCut           = "…（共 %d 字节）"
	msgAfterEnd         = "文档结束标记 ... 之后还有内容"
	msgAfterMarker      = "文档标记后面不能有内容"
	msgAfterScalar      = "值后面有多余的内容"
	msgAnchor           = "不支持锚点和别名（& 和 *）"
	msgBadEscape        = "无效的转义 %s（第 %d 字节）"
	msgBase64At         = "第 %d 个字符无效"
	msgBlockHeader      = "块标量 | 后面只能有缩进数字、+ 或 -，以及注释"
	msgBreakRune        = "字符 U+%04X 在 YAML 中是换行符或字节序标记，请写在双引号中并转义（第 %d 字节）"
	msgColonInPlain     = "不加引号的值中不能有 \": \" 或以冒号结尾，请加引号"
	msgContinuation     = "值不能在下一行继续；多行文本请用 | 块，或双引号中的 \\n"
	msgControlChar      = "控制字符 0x%02X（第 %d 字节），请写在双引号中并转义"
	msgControlRune      = "控制字符 U+%04X（第 %d 字节），请写在双引号中并转义"
	msgCountMismatch    = "count 为 %d，但文件中有 %d 项；手工编辑后请更新 count"
	msgDuplicateField   = "字段 %s 重复（第 %d 行已有）"
	msgDuplicateKey     = "键 %s 重复（第 %d 行已有）"
	msgEmptyKey         = "键为空字符串"
	msgEmptyEntry       = "空的项"
	msgFlowCollection   = "这里不能用 [ ] 或 { }"
	msgFolded           = "不支持折叠块 >，请用 |"
	msgFormatVersion    = "format 为 %s，本程序只能读取 %s"
	msgIndent           = "缩进不对"
	msgIndicator        = "值不能以 %s 开头，请加引号"
	msgInvalidUTF8      = "不是有效的 UTF-8（第 %d 字节）；二进制数据请写作 !!binary"
	msgKeyLength        = "键长 %d 字节，最多 %d 字节"
	msgKeysShape        = "keys 后面应换行逐项列出，或者写 []"
	msgLineTooLong      = "行长超过 %d 字节"
	msgMetaShape        = "meta 应写在一行：{create_revision: N, mod_revision: N, version: N}"
	msgMultiLineQuoted  = "引号没有在本行闭合；不支持跨行的引号字符串"
	msgNoCount          = "缺少末尾的 count 行，文件可能被截断；手工编写的文件请在末尾加上 count: %d"
	msgNoKey            = "该项缺少 key"
	msgNoKeys           = "文件中没有 keys 字段"
	msgNoValue          = "键 %s 缺少 value"
	msgNotField         = "应为 \"字段: 值\""
	msgNotNumber        = "%s 应为不带前导零的非负十进制整数，而不是 %s"
	msgNullKey          = "key 为空（null）"
	msgNullValue        = "value 为空（null）；空值请写 ''"
	msgQuotedName       = "字段名不能加引号，也不能用 ?"
	msgSecondDocument   = "只能有一个 YAML 文档"
	msgSpaceBeforeColon = "字段名和冒号之间不能有空白"
	msgTabInBlock       = "块标量的缩进中有制表符"
	msgTabIndent        = "缩进中不能有制表符"
	msgTag              = "不支持标签 %s（只支持 !!binary 和 !!str）"
	msgUnknownField     = "未知字段 %s"
	msgValueSize        = "值有 %d 字节，最多 %d 字节"

	msgExportCount     = "导出: 统计键数: %w"
	msgExportList      = "导出: 读取 %s 之后的键: %w"
	msgExportEmptyPage = "导出: 存储在 %s 之后返回了空页，却表示还有更多键"
	msgExportWrite     = "导出: 写入: %w"
	msgExportCreate    = "导出: 无法创建文件: %w"
	msgImportRead      = "导入: 读取: %w"
	msgImportSpool     = "导入: 无法创建临时文件: %w"
	msgImportStore     = "导入 %s（第 %d 行）: %w"
	msgNotAllImported  = "%w: 跳过 %d 个，失败 %d 个"

	msgProgressValidate      = "正在校验: %s / %s (%d%%)，%d 项"
	msgProgressValidateBytes = "正在校验: 已读 %s，%d 项"
	msgProgressWrite         = "正在导入: %d / %d 项 (%d%%)，新建 %d，更新 %d，跳过 %d，失败 %d"
	msgProgressExport        = "正在导出: %d / %d 个键 (%d%%)，已写 %s"
	msgProgressExportNoTotal = "正在导出: %d 个键，已写 %s"
	msgExportSummary         = "已导出 %d 个键 (%s)，修订号 %d"
	msgExportNotSnapshot     = "；注意: 导出期间有写入，各页读取于修订号 %d 至 %d 之间，不是同一修订号的快照"
	msgImportSummary         = "共 %d 项: 新建 %d，更新 %d，跳过 %d，失败 %d"
	msgReasonExists          = "键已存在，未指定覆盖，已跳过"
	msgReasonConflict        = "导入时被其他客户端修改或删除，保留其修改，未覆盖"
	msgReport                = "第 %d 行 %s: %s"
)

// String returns the progress line the CLI prints, e.g.
// "正在导入: 500 / 1000 项 (50%)，新建 480，更新 0，跳过 20，失败 0".
func (p ImportProgress) String() string {
	if p.Phase == PhaseWrite {
		return fmt.Sprintf(msgProgressWrite, p.Entries, p.TotalEntries, percent(p.Entries, p.TotalEntries),
			p.Created, p.Updated, p.Skipped, p.Failed)
	}
	if p.TotalBytes > 0 {
		return fmt.Sprintf(msgProgressValidate, formatBytes(p.Bytes), formatBytes(p.TotalBytes),
			percent(p.Bytes, p.TotalBytes), p.Entries)
	}
	return fmt.Sprintf(msgProgressValidateBytes, formatBytes(p.Bytes), p.Entries)
}

// String returns the progress line the CLI prints.
func (p ExportProgress) String() string {
	if p.Total < 0 {
		return fmt.Sprintf(msgProgressExportNoTotal, p.Keys, formatBytes(p.Bytes))
	}
	return fmt.Sprintf(msgProgressExport, p.Keys, p.Total, percent(p.Keys, p.Total), formatBytes(p.Bytes))
}

// String summarises an export in one line.
func (s ExportStats) String() string {
	line := fmt.Sprintf(msgExportSummary, s.Keys, formatBytes(s.Bytes), s.Revision)
	if !s.Snapshot {
		line += fmt.Sprintf(msgExportNotSnapshot, s.Revision, s.LastRevision)
	}
	return line
}

// String summarises an import in one line; the reports are listed apart.
func (s ImportStats) String() string {
	return fmt.Sprintf(msgImportSummary, s.Entries, s.Created, s.Updated, s.Skipped, s.Failed)
}

// String describes the reason for people.
func (r Reason) String() string {
	switch r {
	case ReasonExists:
		return msgReasonExists
	case ReasonConflict:
		return msgReasonConflict
	}
	return fmt.Sprintf("Reason(%d)", int(r))
}

// String returns a line for the CLI: line, key (quoted for a terminal) and
// reason.
func (r KeyReport) String() string {
	return fmt.Sprintf(msgReport, r.Line, QuoteKey(r.Key), r.Reason)
}

// percent returns n/total in whole percent, 0 when total is unknown.
func percent(n, total int64) int64 {
	if total <= 0 {
		return 0
	}
	return min(100, n*100/total)
}

// formatBytes renders a byte count as B, KiB, MiB or GiB.
func formatBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	v, suffix := float64(n)/unit, "KiB"
	for _, s := range strings.Fields("MiB GiB TiB") {
		if v < unit {
			break
		}
		v, suffix = v/unit, s
	}
	return fmt.Sprintf("%.1f %s", v, suffix)
}
