package containers

// User-facing texts of this package, in Chinese as the original service
// spoke. Identifiers (container, image and volume names, addresses, ports,
// labels) and the daemon's own error text are inserted as they are.

// pullFailureTexts describe each PullFailure (PullFailure.Description).
var pullFailureTexts = [...]string{
	PullOther:               "其他错误",
	PullRegistryUnreachable: "registry 不可达",
	PullNotFound:            "镜像或标签不存在",
	PullUnauthorized:        "registry 需要认证或拒绝访问",
	PullStalled:             "拉取停滞或超时",
}
