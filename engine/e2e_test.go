package engine_test

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/k3/k3-storage/engine/enginetest"
)

// TestHeadlessMemory runs the real binary on the memory backend and stops
// it with each of the three signals the original service handled.
func TestHeadlessMemory(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGQUIT} {
		t.Run(sig.String(), func(t *testing.T) {
			dir := t.TempDir() // no config files: the built-in example (memory)
			p := enginetest.Start(t, dir, nil, "--headless")
			ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
			defer cancel()
			p.WaitLine(ctx, "存储服务启动完成")
			if err := p.Cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			if code := p.Wait(time.Second); code != 0 {
				t.Fatalf("exit code %d after %v, want 0\nstderr:\n%s", code, sig, p.Stderr())
			}
			want := []string{
				"配置文件: configs/config-example.yaml（内置）",
				"正在启动存储服务 (类型: memory)...",
				"内存存储已初始化",
				"存储服务启动完成",
				"正在关闭存储服务...",
				"存储连接已关闭",
				"存储服务已关闭",
			}
			wantStdout(t, p, want)
			if p.Stderr() != "" {
				t.Fatalf("unexpected stderr: %q", p.Stderr())
			}
		})
	}
}

// TestNotATerminal checks that without a terminal on stdout the console
// falls back to headless mode and says so.
func TestNotATerminal(t *testing.T) {
	p := enginetest.Start(t, t.TempDir(), nil)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	p.WaitLine(ctx, "存储服务启动完成")
	p.Cmd.Process.Signal(syscall.SIGTERM)
	if code := p.Wait(5 * time.Second); code != 0 {
		t.Fatalf("exit code %d", code)
	}
	if !strings.Contains(p.Stderr(), "--headless") {
		t.Fatalf("stderr does not say it runs headless: %q", p.Stderr())
	}
}

func TestHeadlessJSON(t *testing.T) {
	p := enginetest.Start(t, t.TempDir(), nil, "--headless", "--output", "json")
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	p.WaitFor(ctx, "ready event", func(l string) bool { return strings.Contains(l, `"stage":"ready"`) })
	p.Cmd.Process.Signal(syscall.SIGTERM)
	if code := p.Wait(5 * time.Second); code != 0 {
		t.Fatalf("exit code %d", code)
	}
	lines := p.StdoutLines()
	var stages []string
	for _, l := range lines {
		var ev struct {
			Kind, Stage, Status, Text string
		}
		if err := json.Unmarshal([]byte(l), &ev); err != nil {
			t.Fatalf("line is not JSON: %q: %v", l, err)
		}
		stages = append(stages, ev.Stage+"/"+ev.Status)
	}
	want := []string{"config/done", "start/running", "connect/running", "connect/done", "start/done", "ready/done",
		"stopping/running", "close-store/done", "stopping/done", "stopped/done"}
	if !slices.Equal(stages, want) {
		t.Fatalf("JSON events %v, want %v", stages, want)
	}
}

// wantStdout fails unless the process printed exactly want on stdout.
func wantStdout(t *testing.T, p *enginetest.Process, want []string) {
	t.Helper()
	if got := p.StdoutLines(); !slices.Equal(got, want) {
		t.Fatalf("stdout:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
