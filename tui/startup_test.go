package tui

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/k3/k3-storage/engine/lifecycle"
)

const mib = 1 << 20

// provisioning emits the stages before a pull, as the engine does for a
// local MySQL without the image.
func provisioning(f *fakeEngine) {
	f.stage(lifecycle.StageConfig, lifecycle.Done, "配置文件: .config.yaml", t0)
	f.stage(lifecycle.StageStart, lifecycle.Running, "正在启动存储服务 (类型: mysql)...", t0)
	f.stage(lifecycle.StageRuntime, lifecycle.Running, "", t0)
	f.emit(lifecycle.Event{Kind: lifecycle.KindStage, Stage: lifecycle.StageRuntime, Status: lifecycle.Done,
		Detail: "docker 27.3.1 (unix:///var/run/docker.sock)", Time: at(42 * time.Millisecond)})
	f.stage(lifecycle.StageContainer, lifecycle.Running, "", at(42*time.Millisecond))
	f.emit(lifecycle.Event{Kind: lifecycle.KindStage, Stage: lifecycle.StageContainer, Status: lifecycle.Done,
		Detail: "未找到 k3-storage-mysql，将新建", Time: at(50 * time.Millisecond)})
	f.stage(lifecycle.StageImage, lifecycle.Running, "", at(50*time.Millisecond))
	f.emit(lifecycle.Event{Kind: lifecycle.KindStage, Stage: lifecycle.StageImage, Status: lifecycle.Done,
		Detail: "本地没有 mysql:8.0", Time: at(61 * time.Millisecond)})
}

// phaseOf is the phase the engine reports with each of Docker's words.
var phaseOf = map[string]lifecycle.LayerPhase{
	"Pulling fs layer": lifecycle.PhaseWaiting, "Waiting": lifecycle.PhaseWaiting,
	"Downloading": lifecycle.PhaseDownloading, "Verifying Checksum": lifecycle.PhaseVerifying,
	"Download complete": lifecycle.PhaseDownloaded, "Extracting": lifecycle.PhaseExtracting,
	"Pull complete": lifecycle.PhaseComplete, "Already exists": lifecycle.PhaseExists,
}

func pullEvent(when time.Duration, layer, status string, cur, total, done, size int64, layersDone int) lifecycle.Event {
	return lifecycle.Event{Kind: lifecycle.KindPull, Stage: lifecycle.StagePull, Time: at(when), Pull: &lifecycle.Pull{
		Image: "mysql:8.0", Layer: layer, Phase: phaseOf[status], Status: status, Current: cur, Total: total,
		Done: done, Size: size, LayersDone: layersDone, Layers: 5,
	}}
}

// TestStartupPull shows an image pull in progress: a layer that already
// exists, one downloading with a known size, one of unknown size, one
// extracting and one waiting, with the total, rate and time left.
func TestStartupPull(t *testing.T) {
	clock := newTestClock()
	f := newFakeEngine(clock, nil)
	f.backend, f.address, f.release = "mysql", "localhost:3306", make(chan struct{})
	h := startHarness(t, f, Options{ConfigFile: ".config.yaml"}, 80, 24)
	provisioning(f)
	f.stage(lifecycle.StagePull, lifecycle.Running, "", at(61*time.Millisecond))
	for _, ev := range []lifecycle.Event{
		pullEvent(100*time.Millisecond, "ef93d12216c0", "Already exists", 0, 0, 0, 0, 1),
		pullEvent(150*time.Millisecond, "df9e0673bfc6", "Pulling fs layer", 0, 0, 0, 0, 1),
		pullEvent(150*time.Millisecond, "706878fa0450", "Pulling fs layer", 0, 0, 0, 0, 1),
		pullEvent(150*time.Millisecond, "e2a248befb90", "Pulling fs layer", 0, 0, 0, 0, 1),
		pullEvent(150*time.Millisecond, "3b4d2e0e4d21", "Waiting", 0, 0, 0, 0, 1),
		pullEvent(1*time.Second, "df9e0673bfc6", "Downloading", 2*mib, 40*mib, 2*mib, 40*mib, 1),
		pullEvent(2*time.Second, "706878fa0450", "Downloading", 4*mib, 8*mib, 10*mib, 48*mib, 1),
		pullEvent(2500*time.Millisecond, "e2a248befb90", "Downloading", 1258291, 0, 10*mib, 48*mib, 1),
		pullEvent(3*time.Second, "df9e0673bfc6", "Downloading", 14*mib, 40*mib, 22*mib, 48*mib, 1),
		pullEvent(3*time.Second, "706878fa0450", "Extracting", 3*mib, 8*mib, 22*mib, 48*mib, 1),
	} {
		f.emit(ev)
	}
	clock.Set(at(3200 * time.Millisecond))
	h.waitFor("解压中")
	fm := h.golden()
	if p := fm.dash.pull; p == nil || len(p.layers) != 5 || p.unknownLayers() != 1 {
		t.Fatalf("pull state %+v", p)
	}
}

// TestStartupRetries shows connect retries: the attempt, the elapsed time
// against the 45 s budget, the last error and the countdown, plus a
// warning about the container runtime.
func TestStartupRetries(t *testing.T) {
	clock := newTestClock()
	f := newFakeEngine(clock, nil)
	f.backend, f.address, f.release = "mysql", "db.internal:3306", make(chan struct{})
	h := startHarness(t, f, Options{ConfigFile: ".config.yaml"}, 80, 24)
	f.stage(lifecycle.StageConfig, lifecycle.Done, "配置文件: .config.yaml", t0)
	f.stage(lifecycle.StageStart, lifecycle.Running, "正在启动存储服务 (类型: mysql)...", t0)
	f.emit(lifecycle.Event{Kind: lifecycle.KindLog, Level: lifecycle.Warn, Time: at(5 * time.Millisecond),
		Detail: "未找到容器运行时：已尝试 DOCKER_HOST (未设置)、unix:///var/run/docker.sock (不存在)、podman (未安装)；将直接连接 db.internal:3306"})
	f.emit(lifecycle.Event{Kind: lifecycle.KindStage, Stage: lifecycle.StageConnect, Status: lifecycle.Running, Time: at(10 * time.Millisecond),
		Detail: "正在连接 db.internal:3306 (最多等待 45s)..."})
	for i, d := range []time.Duration{50 * time.Millisecond, 100 * time.Millisecond, 200 * time.Millisecond} {
		n := i + 1
		elapsed := time.Duration(n) * 400 * time.Millisecond
		f.emit(lifecycle.Event{Kind: lifecycle.KindAttempt, Stage: lifecycle.StageConnect, Time: at(10*time.Millisecond + elapsed),
			Attempt: &lifecycle.Attempt{N: n, Address: "db.internal:3306/k3", Elapsed: elapsed, Budget: 45 * time.Second, NextDelay: d},
			Err:     errors.New("dial tcp 10.0.0.7:3306: connect: connection refused\n(the server is not listening)")})
	}
	clock.Set(at(1300 * time.Millisecond))
	h.waitFor("第 3 次连接")
	h.golden()
}

// TestStartupFailed keeps a failed start on the screen until q, then
// exits 1.
func TestStartupFailed(t *testing.T) {
	clock := newTestClock()
	f := newFakeEngine(clock, nil)
	f.backend, f.address = "mysql", "localhost:3306"
	f.failTime = at(45 * time.Second)
	f.startErr = errors.New("在 45s 内未能连接 localhost:3306/k3: Error 1045 (28000): Access denied for user 'root'@'172.17.0.1' (using password: YES)")
	f.stage(lifecycle.StageConfig, lifecycle.Done, "配置文件: .config.yaml", t0)
	f.stage(lifecycle.StageStart, lifecycle.Running, "正在启动存储服务 (类型: mysql)...", t0)
	f.stage(lifecycle.StageConnect, lifecycle.Running, "", t0)
	f.emit(lifecycle.Event{Kind: lifecycle.KindStage, Stage: lifecycle.StageConnect, Status: lifecycle.Failed, Time: at(45 * time.Second),
		Err: errors.New("Error 1045 (28000): Access denied for user 'root'@'172.17.0.1' (using password: YES)")})
	h := startHarness(t, f, Options{ConfigFile: ".config.yaml"}, 80, 24)
	clock.Set(at(45 * time.Second))
	h.waitFor(txtFailed)
	// The start took 45 s; the header keeps saying so however long the
	// error stays on the screen.
	clock.Set(at(3 * time.Minute))
	h.tm.Send(tea.WindowSizeMsg{Width: 80, Height: 24})
	h.keys("q")
	fm := h.final()
	goldenView(t, fm)
	if !fm.now.Equal(at(3*time.Minute)) || !strings.Contains(fm.View(), txtStartupTime+" 45.0s") {
		t.Fatalf("at %v the header says:\n%s", fm.now.Sub(t0), fm.View())
	}
	if fm.exitCode() != 1 {
		t.Fatalf("exit code %d after a failed start", fm.exitCode())
	}
	if !strings.Contains(fm.err, "Access denied") {
		t.Fatalf("error %q", fm.err)
	}
}

// TestStartupPullManyLayers: an image with more layers than the screen
// holds folds the finished ones into one line.
func TestStartupPullManyLayers(t *testing.T) {
	clock := newTestClock()
	f := newFakeEngine(clock, nil)
	f.backend, f.address, f.release = "mysql", "localhost:3306", make(chan struct{})
	h := startHarness(t, f, Options{ConfigFile: ".config.yaml"}, 80, 24)
	provisioning(f)
	f.stage(lifecycle.StagePull, lifecycle.Running, "", at(61*time.Millisecond))
	for i := 0; i < 11; i++ {
		id := fmt.Sprintf("%012x", 0xa1b2c3d4e5f0+i)
		var ev lifecycle.Event
		switch {
		case i < 6:
			ev = pullEvent(time.Duration(i+1)*100*time.Millisecond, id, "Pull complete", 0, 0, int64(i+1)*mib, 30*mib, i+1)
		case i < 9:
			ev = pullEvent(time.Duration(i+1)*200*time.Millisecond, id, "Downloading", int64(i-5)*mib, 4*mib, int64(i)*2*mib, 30*mib, 6)
		default:
			ev = pullEvent(2*time.Second, id, "Waiting", 0, 0, 18*mib, 30*mib, 6)
		}
		ev.Pull.Layers = 11
		f.emit(ev)
	}
	clock.Set(at(2 * time.Second))
	h.waitFor("a1b2c3d4e5fa")
	h.golden()
}
