package containers

import (
	"errors"
	"fmt"
	"syscall"
	"testing"
)

// TestMessages pins the texts a user reads, in Chinese with the
// identifiers as they are, and that the error values still match what
// they wrap.
func TestMessages(t *testing.T) {
	tried := []Candidate{
		{Source: "default socket", Address: "unix:///var/run/docker.sock", Status: Unreachable, Err: errors.New("connect: permission denied")},
		{Source: "DOCKER_HOST", Address: "tcp://127.0.0.1:2376", Status: Usable, APIVersion: "1.41", TLS: true},
		{Source: "podman", Address: "unix:///run/podman/podman.sock", Status: Absent},
		{Source: "containerd", Address: "unix:///run/containerd/containerd.sock", Status: NoDockerAPI},
	}
	owner := Owner{PID: 4242, Host: "build-7"}
	stalled := fmt.Errorf(errPullStalled, ErrPullStalled, "1m0s")
	tests := []struct {
		name string
		got  string
		want string
	}{
		{"no runtime", (&NoRuntimeError{Tried: tried[:1]}).Error(),
			"未找到容器运行时; 已尝试: default socket unix:///var/run/docker.sock: 不可达 (connect: permission denied)"},
		{"no runtime, nothing tried", (&NoRuntimeError{}).Error(), "未找到容器运行时; 已尝试: 无"},
		{"candidate usable over TLS", tried[1].String(), "DOCKER_HOST tcp://127.0.0.1:2376: 可用 (TLS) (API 1.41)"},
		{"candidate absent", tried[2].String(), "podman unix:///run/podman/podman.sock: 不存在"},
		{"candidate without Docker API", tried[3].String(), "containerd unix:///run/containerd/containerd.sock: 没有 Docker API"},
		{"foreign, running", (&ForeignContainerError{Name: "k3-etcd", Image: "etcd:1", Want: "etcd:2", Status: "running", Running: true}).Error(),
			`容器 "k3-etcd" 不是 k3-storage 创建的, 且运行的是镜像 "etcd:1" 而不是 "etcd:2"; 未做任何改动: 请自行删除或重命名它, 或在配置中换一个容器名`},
		{"foreign, stopped", (&ForeignContainerError{Name: "k3-etcd", Image: "etcd:2", Want: "etcd:2", Status: "exited"}).Error(),
			`容器 "k3-etcd" (镜像 "etcd:2") 不是 k3-storage 创建的, 且处于 exited 状态; 未做任何改动: 请自行删除或重命名它, 或在配置中换一个容器名`},
		{"owned elsewhere", (&OwnedElsewhereError{Name: "k3-mysql", Owner: owner, Status: "exited"}).Error(),
			`容器 "k3-mysql" 属于主机 "build-7" 上的 k3-storage 进程 4242, 处于 exited 状态, 未在运行; 未做任何改动: 请停止那个进程, 或在配置中换一个容器名`},
		{"owned elsewhere, adopted", (&OwnedElsewhereError{Name: "k3-mysql", Owner: owner, Status: "paused", Adopted: true}).Error(),
			`容器 "k3-mysql" 由 k3-storage 进程 4242 留下, 已被另一个运行中的 k3-storage 进程接管, 当前处于 paused 状态; 未做任何改动: 请停止那个进程, 或在配置中换一个容器名`},
		{"port in use", (&PortInUseError{Name: "k3-mysql", HostIP: "::1", Port: 3306, Err: syscall.EADDRINUSE}).Error(),
			`容器 "k3-mysql" 要发布的主机端口 [::1]:3306 已被其他程序占用: address already in use`},
		{"pull stalled", (&PullError{Image: "mysql:8.0", Reason: PullStalled, Err: stalled}).Error(),
			`拉取镜像 "mysql:8.0" 失败 (拉取停滞或超时): 拉取停滞: Docker 守护进程 1m0s 内没有发来任何消息 (registry 是否可达?)`},
		{"pull not found", (&PullError{Image: "mysql:none", Reason: PullNotFound, Err: errors.New("manifest unknown")}).Error(),
			`拉取镜像 "mysql:none" 失败 (镜像或标签不存在): manifest unknown`},
		{"pull progress", Progress{Step: StepPull, Container: "k3-mysql", Image: "mysql:8.0", Layer: "ef93d12216c0", Phase: PhaseDownloading, Status: "Downloading",
			Current: 100, Total: 400, Aggregate: PullTotals{Layers: 2, LayersDone: 1, Current: 100, Total: 400}}.String(),
			"pull 容器 k3-mysql 镜像 mysql:8.0 层 ef93d12216c0: Downloading 100/400 [1/2 层, 100/400 字节 25%]"},
		{"progress message", Progress{Step: StepAdopt, Container: "k3-etcd", Message: fmt.Sprintf(msgAdopt, "0123456789ab", 4242)}.String(),
			"adopt 容器 k3-etcd: 容器 0123456789ab 由已退出的 k3-storage 进程 4242 留下且仍在运行; 接管它"},
		{"spec", MySQLSpec(MySQLParams{Name: "k3-mysql", Image: "mysql:8.0", Password: "secret", Port: 3307}).String(),
			`mysql 容器 "k3-mysql" 镜像 "mysql:8.0" 端口 127.0.0.1:3307->3306 数据卷 k3-mysql-data:/var/lib/mysql 环境变量 MYSQL_ROOT_PASSWORD=<已隐藏>`},
		{"invalid spec", Spec{Name: "k3-etcd"}.Validate().Error(), `容器规格无效: 容器 "k3-etcd": 没有指定镜像`},
		{"not owned", fmt.Errorf(errRemoveContainer, "k3-etcd", ErrNotOwned).Error(), `删除容器 "k3-etcd": 不属于本 k3-storage 进程`},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s:\n got %s\nwant %s", tt.name, tt.got, tt.want)
		}
	}

	if err := error(&NoRuntimeError{Tried: tried}); !errors.Is(err, ErrNoRuntime) {
		t.Errorf("NoRuntimeError does not match ErrNoRuntime")
	}
	if err := fmt.Errorf("x: %w", &PortInUseError{Err: syscall.EADDRINUSE}); !errors.Is(err, syscall.EADDRINUSE) {
		t.Errorf("PortInUseError does not unwrap to its cause")
	}
	var pe *PullError
	if err := fmt.Errorf("x: %w", &PullError{Reason: PullStalled, Err: stalled}); !errors.As(err, &pe) || !errors.Is(err, ErrPullStalled) || pe.Reason != PullStalled {
		t.Errorf("PullError does not unwrap to ErrPullStalled")
	}
}
