package engine_test

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/k3/k3-storage/engine/enginetest"
	"github.com/k3/k3-storage/internal/testbin"
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
				"配置文件: configs/config-example.yaml (built-in)",
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

func TestCommandLine(t *testing.T) {
	bin := testbin.Binary(t)
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("storage:\n  type: mysq\n"), 0o644)
	cases := []struct {
		name   string
		args   []string
		env    []string
		code   int
		stdout string // substring
		stderr string // substring
	}{
		{"version", []string{"--version"}, nil, 0, "k3-storage ", ""},
		{"help", []string{"-h"}, nil, 0, "", "退出码"},
		{"unknown flag", []string{"--nope"}, nil, 2, "", "用法错误: flag provided but not defined: -nope"},
		{"bad output", []string{"--headless", "--output", "xml"}, nil, 2, "", `--output "xml": want text or json`},
		{"stray argument", []string{"serve"}, nil, 2, "", `unexpected argument "serve"`},
		{"bad config", []string{"--headless", "--config", bad}, nil, 2, "", `bad.yaml:2: storage.type: unknown type "mysq" (want memory, mysql or etcd)`},
		{"missing --config", []string{"--headless", "--config", "nope.yaml"}, nil, 2, "", "nope.yaml: no such file (named by --config)"},
		{"missing CONFIG_PATH", []string{"--headless"}, []string{"CONFIG_PATH=gone.yaml"}, 2, "", "gone.yaml: no such file (named by CONFIG_PATH)"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cmd := exec.Command(bin, c.args...)
			cmd.Dir = dir
			cmd.Env = append(os.Environ(), c.env...)
			var out, errOut strings.Builder
			cmd.Stdout, cmd.Stderr = &out, &errOut
			cmd.Run()
			if code := cmd.ProcessState.ExitCode(); code != c.code {
				t.Fatalf("exit code %d, want %d\nstderr: %s", code, c.code, errOut.String())
			}
			if !strings.Contains(out.String(), c.stdout) || !strings.Contains(errOut.String(), c.stderr) {
				t.Fatalf("stdout %q (want %q), stderr %q (want %q)", out.String(), c.stdout, errOut.String(), c.stderr)
			}
			if c.code == 2 && strings.Contains(out.String(), "正在启动存储服务") {
				t.Fatal("a usage or config error started the service")
			}
		})
	}
}

// wantStdout fails unless the process printed exactly want on stdout.
func wantStdout(t *testing.T, p *enginetest.Process, want []string) {
	t.Helper()
	if got := p.StdoutLines(); !slices.Equal(got, want) {
		t.Fatalf("stdout:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
