package tui

import "github.com/k3/k3-storage/engine"

// The console's user-facing text, in the original service's language.
const (
	txtTitle        = "k3-storage"
	txtBackend      = "后端"
	txtAddress      = "地址"
	txtConfig       = "配置"
	txtElapsed      = "用时"
	txtStarting     = "正在启动存储服务…"
	txtReady        = "存储服务已就绪"
	txtFailed       = "启动失败"
	txtStopping     = "正在关闭存储服务…"
	txtStopped      = "存储服务已关闭"
	txtQuitHint     = "q 退出"
	txtForceHint    = "再按 ctrl+c 强制退出（不清理）"
	txtFailedHint   = "q 退出"
	txtForced       = "强制退出：清理未完成"
	txtNotCleaned   = "未完成的步骤: "
	txtAttempt      = "第 %d 次尝试 · %s / %s · %s 后重试"
	txtAttemptLast  = "第 %d 次尝试 · %s / %s"
	txtSignal       = "收到停止信号"
	txtStageUnknown = "步骤"
)

// stageLabels name the lifecycle stages in the checklist.
var stageLabels = map[engine.Stage]string{
	engine.StageConfig:          "加载配置",
	engine.StageStart:           "启动存储服务",
	engine.StageRuntime:         "检测容器运行时",
	engine.StageContainer:       "查找已有容器",
	engine.StageImage:           "检查镜像",
	engine.StagePull:            "拉取镜像",
	engine.StageCreate:          "创建容器",
	engine.StageContainerStart:  "启动容器",
	engine.StageConnect:         "连接存储后端",
	engine.StageReady:           "就绪",
	engine.StageStopping:        "关闭存储服务",
	engine.StageCloseStore:      "关闭存储连接",
	engine.StageRemoveContainer: "清理本进程拉起的容器",
	engine.StageStopped:         "已关闭",
}

func stageLabel(s engine.Stage) string {
	if l, ok := stageLabels[s]; ok {
		return l
	}
	return txtStageUnknown + " " + s.String()
}
