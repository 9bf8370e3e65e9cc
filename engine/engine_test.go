package engine_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/k3/k3-storage/backends"
	"github.com/k3/k3-storage/engine"
	"github.com/k3/k3-storage/engine/lifecycle"
	"github.com/k3/k3-storage/internal/testbin"
	"github.com/k3/k3-storage/internal/testenv"
)

func TestMain(m *testing.M) {
	code := testenv.Main(m)
	testbin.Remove()
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintln(os.Stderr, "goleak:", err)
			code = 1
		}
	}
	os.Exit(code)
}

// collect reads every event until the channel closes.
func collect(eng *engine.Engine) <-chan []lifecycle.Event {
	out := make(chan []lifecycle.Event, 1)
	go func() {
		var evs []lifecycle.Event
		for ev := range eng.Events() {
			evs = append(evs, ev)
		}
		out <- evs
	}()
	return out
}

// step is the part of a stage event a sequence test compares.
type step struct {
	stage  lifecycle.Stage
	status lifecycle.Status
	text   string
}

func stagesOf(evs []lifecycle.Event) []step {
	var steps []step
	for _, ev := range evs {
		if ev.Kind == lifecycle.KindStage {
			steps = append(steps, step{ev.Stage, ev.Status, ev.Text})
		}
	}
	return steps
}

func TestMemoryLifecycle(t *testing.T) {
	eng, err := engine.New(engine.Options{Backend: engine.Memory, ConfigFile: "configs/config-example.yaml"})
	if err != nil {
		t.Fatal(err)
	}
	events := collect(eng)
	store, err := eng.Start(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	rev, err := store.Put(t.Context(), "/registry/pods/default/a", []byte("x"))
	if err != nil || rev != 1 {
		t.Fatalf("Put on the engine's store: rev %d, %v", rev, err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), time.Second)
	defer cancel()
	if err := eng.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if _, err := store.Get(t.Context(), "/registry/pods/default/a"); !errors.Is(err, backends.ErrClosed) {
		t.Fatalf("store still open after Shutdown: %v", err)
	}
	evs := <-events
	checkPaired(t, evs)
	want := []step{
		{lifecycle.StageConfig, lifecycle.Done, "配置文件: configs/config-example.yaml"},
		{lifecycle.StageStart, lifecycle.Running, "正在启动存储服务 (类型: memory)..."},
		{lifecycle.StageConnect, lifecycle.Running, ""},
		{lifecycle.StageConnect, lifecycle.Done, "内存存储已初始化"},
		{lifecycle.StageStart, lifecycle.Done, ""},
		{lifecycle.StageReady, lifecycle.Done, "存储服务启动完成"},
		{lifecycle.StageStopping, lifecycle.Running, "正在关闭存储服务..."},
		{lifecycle.StageCloseStore, lifecycle.Done, "存储连接已关闭"},
		{lifecycle.StageStopping, lifecycle.Done, ""},
		{lifecycle.StageStopped, lifecycle.Done, "存储服务已关闭"},
	}
	if got := stagesOf(evs); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("event sequence\n got %v\nwant %v", got, want)
	}
	last := evs[len(evs)-1]
	if !last.Final() || last.Err != nil {
		t.Fatalf("last event %+v, want the clean final event", last)
	}
	for i := 1; i < len(evs); i++ {
		if evs[i].Time.Before(evs[i-1].Time) {
			t.Fatalf("event %d is older than event %d", i, i-1)
		}
	}
	if err := eng.Shutdown(ctx); err != nil {
		t.Fatalf("second Shutdown: %v", err)
	}
	if _, err := eng.Start(t.Context()); !errors.Is(err, engine.ErrStarted) {
		t.Fatalf("Start after Shutdown: %v, want ErrStarted", err)
	}
}

func TestStartTwice(t *testing.T) {
	eng, err := engine.New(engine.Options{Backend: engine.Memory})
	if err != nil {
		t.Fatal(err)
	}
	events := collect(eng)
	if _, err := eng.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	if _, err := eng.Start(t.Context()); !errors.Is(err, engine.ErrStarted) {
		t.Fatalf("second Start: %v, want ErrStarted", err)
	}
	if err := eng.Shutdown(t.Context()); err != nil {
		t.Fatal(err)
	}
	<-events
}

func TestShutdownBeforeStart(t *testing.T) {
	eng, err := engine.New(engine.Options{Backend: engine.Memory})
	if err != nil {
		t.Fatal(err)
	}
	events := collect(eng)
	if err := eng.Shutdown(t.Context()); err != nil {
		t.Fatal(err)
	}
	got := stagesOf(<-events)
	want := []step{
		{lifecycle.StageStopping, lifecycle.Running, "正在关闭存储服务..."},
		{lifecycle.StageStopping, lifecycle.Done, ""},
		{lifecycle.StageStopped, lifecycle.Done, "存储服务已关闭"},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	if _, err := eng.Start(t.Context()); !errors.Is(err, engine.ErrStarted) {
		t.Fatalf("Start after Shutdown: %v", err)
	}
}

func TestUnknownBackend(t *testing.T) {
	_, err := engine.New(engine.Options{Backend: "redis"})
	if err == nil || !strings.Contains(err.Error(), `"redis"`) {
		t.Fatalf("New with an unknown backend: %v", err)
	}
}

func TestPrinters(t *testing.T) {
	var out, errOut strings.Builder
	p := &engine.LogPrinter{Out: &out, Err: &errOut}
	now := time.Now()
	evs := []lifecycle.Event{
		{Time: now, Kind: lifecycle.KindStage, Stage: lifecycle.StageStart, Status: lifecycle.Running, Text: "正在启动存储服务 (类型: mysql)..."},
		{Time: now, Kind: lifecycle.KindAttempt, Stage: lifecycle.StageConnect, Detail: "第 1 次连接失败", Attempt: &lifecycle.Attempt{N: 1, NextDelay: time.Millisecond}},
		{Time: now, Kind: lifecycle.KindLog, Level: lifecycle.Warn, Detail: "未检测到容器运行时"},
		{Time: now, Kind: lifecycle.KindPull, Pull: &lifecycle.Pull{Image: "mysql:8.0", Done: 512 << 10, Size: 1 << 20, Layers: 2}},
		{Time: now.Add(time.Second), Kind: lifecycle.KindPull, Pull: &lifecycle.Pull{Image: "mysql:8.0", Done: 600 << 10, Size: 1 << 20, Layers: 2}},
		{Time: now.Add(3 * time.Second), Kind: lifecycle.KindPull, Pull: &lifecycle.Pull{Image: "mysql:8.0", Done: 1 << 20, Size: 1 << 20, Layers: 2, LayersDone: 2}},
		{Time: now, Kind: lifecycle.KindStage, Stage: lifecycle.StageProvision, Status: lifecycle.Done,
			Detail: "镜像 mysql:8.0 无法拉取 (registry 不可达)，改用本机 mariadbd (/usr/sbin/mariadbd)",
			Path:   lifecycle.PathNative, Reason: lifecycle.ReasonPullUnreachable},
		{Time: now, Kind: lifecycle.KindStage, Stage: lifecycle.StageConnect, Status: lifecycle.Done, Text: "MySQL 存储已连接: localhost:3306/k3"},
		{Time: now, Kind: lifecycle.KindStage, Stage: lifecycle.StageStopNative, Status: lifecycle.Running, Text: "停止由本进程拉起的存储后端进程 ..."},
		{Time: now, Kind: lifecycle.KindStage, Stage: lifecycle.StageStopNative, Status: lifecycle.Done, Text: "存储后端进程已停止"},
		{Time: now, Kind: lifecycle.KindStage, Stage: lifecycle.StageStopped, Status: lifecycle.Failed, Err: errors.New("boom")},
	}
	for _, ev := range evs {
		p.Print(ev)
	}
	if want := "正在启动存储服务 (类型: mysql)...\nMySQL 存储已连接: localhost:3306/k3\n停止由本进程拉起的存储后端进程 ...\n存储后端进程已停止\n"; out.String() != want {
		t.Fatalf("stdout:\n%q\nwant\n%q", out.String(), want)
	}
	wantErr := "第 1 次连接失败\n警告: 未检测到容器运行时\n正在拉取镜像 mysql:8.0: 512.0 KiB / 1.0 MiB (50%), 0/2 层\n正在拉取镜像 mysql:8.0: 1.0 MiB / 1.0 MiB (100%), 2/2 层\n" +
		"镜像 mysql:8.0 无法拉取 (registry 不可达)，改用本机 mariadbd (/usr/sbin/mariadbd)\n错误: boom\n"
	if errOut.String() != wantErr {
		t.Fatalf("stderr:\n%q\nwant\n%q", errOut.String(), wantErr)
	}

	var js strings.Builder
	jp := engine.JSONPrinter{Out: &js}
	for _, ev := range evs {
		if err := jp.Print(ev); err != nil {
			t.Fatal(err)
		}
	}
	lines := strings.Split(strings.TrimSuffix(js.String(), "\n"), "\n")
	if len(lines) != len(evs) {
		t.Fatalf("%d JSON lines for %d events", len(lines), len(evs))
	}
	for _, want := range []string{`"kind":"stage","stage":"start","status":"running","text":"正在启动存储服务 (类型: mysql)..."`, `"kind":"attempt"`, `"level":"warn"`, `"pull":{"image":"mysql:8.0"`, `"error":"boom"`,
		`"stage":"provision","status":"done","detail":"镜像 mysql:8.0 无法拉取 (registry 不可达)，改用本机 mariadbd (/usr/sbin/mariadbd)","path":"native","reason":"pull-unreachable"`,
		`"stage":"stop-native","status":"done","text":"存储后端进程已停止"`} {
		if !strings.Contains(js.String(), want) {
			t.Errorf("JSON output lacks %s:\n%s", want, js.String())
		}
	}
}
