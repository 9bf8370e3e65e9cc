package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/k3/k3-storage/internal/initgc"
	"github.com/k3/k3-storage/internal/testbin"
)

func TestMain(m *testing.M) {
	initgc.Done() // main does it first thing; the tests call run instead
	code := m.Run()
	testbin.Remove()
	os.Exit(code)
}

// noEnv is a getenv with nothing set.
func noEnv(string) string { return "" }

// runSync runs the program in-process to its end, with the stop request
// already made (nothing that starts waits for one).
func runSync(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	return runSyncEnv(t, noEnv, args...)
}

func runSyncEnv(t *testing.T, getenv func(string) string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	var out, errb bytes.Buffer
	code = run(ctx, make(chan struct{}), args, getenv, strings.NewReader(""), &out, &errb)
	return code, out.String(), errb.String()
}

// TestRunUsage: what the command line gets before anything starts — help,
// version, and every kind of usage or config error, in one Chinese
// sentence each, with exit code 2.
func TestRunUsage(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("storage:\n  type: mysq\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name       string
		args       []string
		configPath string // $CONFIG_PATH
		code       int
		stdout     []string // substrings of stdout
		stderr     []string // substrings of stderr
		stderrNone []string // never in stderr
	}{
		{name: "help", args: []string{"-h"}, code: 0, stdout: []string{"用法:", "--headless", "--output text", "退出码"}},
		{name: "help long", args: []string{"--help"}, code: 0, stdout: []string{"用法:"}},
		{name: "version", args: []string{"--version"}, code: 0, stdout: []string{"k3-storage ", "linux/"}},
		{name: "misspelt flag", args: []string{"--hedless"}, code: 2,
			stderr: []string{"用法错误: 未知选项 --hedless，是否想写 --headless？"}, stderrNone: []string{"flag provided", "用法:\n", "Usage"}},
		{name: "unknown flag", args: []string{"--zzzzzz"}, code: 2, stderr: []string{"未知选项 --zzzzzz（"}, stderrNone: []string{"是否想写"}},
		{name: "prefix of a flag", args: []string{"--head"}, code: 2, stderr: []string{"是否想写 --headless"}},
		{name: "missing value", args: []string{"--config"}, code: 2, stderr: []string{"选项 --config 缺少取值"}},
		{name: "bad bool", args: []string{"--headless=maybe"}, code: 2, stderr: []string{`选项 --headless 的取值 "maybe" 无效`}},
		{name: "bad output", args: []string{"--output", "xml"}, code: 2, stderr: []string{`--output 的取值 "xml" 无效（可选: text、json）`}},
		{name: "argument", args: []string{"extra"}, code: 2, stderr: []string{`多余的参数 "extra"`}},
		{name: "missing config", args: []string{"--headless", "--config", filepath.Join(dir, "none.yaml")}, code: 2, stderr: []string{"配置错误: ", "none.yaml"}},
		{name: "bad config", args: []string{"--headless", "--config", bad}, code: 2, stderr: []string{"配置错误: " + bad + ":2: storage.type"}},
		{name: "missing CONFIG_PATH", args: []string{"--headless"}, configPath: filepath.Join(dir, "gone.yaml"), code: 2,
			stderr: []string{"配置错误: ", "gone.yaml", "CONFIG_PATH"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			getenv := noEnv
			if tt.configPath != "" {
				getenv = func(k string) string {
					if k == "CONFIG_PATH" {
						return tt.configPath
					}
					return ""
				}
			}
			code, stdout, stderr := runSyncEnv(t, getenv, tt.args...)
			if code != tt.code {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tt.code, stdout, stderr)
			}
			for _, w := range tt.stdout {
				if !strings.Contains(stdout, w) {
					t.Errorf("stdout lacks %q:\n%s", w, stdout)
				}
			}
			for _, w := range tt.stderr {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, stderr)
				}
			}
			for _, w := range tt.stderrNone {
				if strings.Contains(stderr, w) {
					t.Errorf("stderr has %q:\n%s", w, stderr)
				}
			}
			if tt.code == 2 && strings.Count(strings.TrimSpace(stderr), "\n") > 0 {
				t.Errorf("more than one line for a usage error:\n%s", stderr)
			}
		})
	}
}

// TestVersionNeverBareDevel: a built binary names its build, however it
// was built.
func TestVersionNeverBareDevel(t *testing.T) {
	out, err := exec.Command(testbin.Binary(t), "--version").Output()
	if err != nil {
		t.Fatal(err)
	}
	v := strings.TrimSpace(string(out))
	if !strings.HasPrefix(v, "k3-storage ") || strings.Contains(v, "(devel)") || strings.Contains(v, txtVersionUnknown) {
		t.Fatalf("version %q", v)
	}
}

// TestRunJSONErrors: with --output json, usage and config errors are
// events like the engine's: the failed stage, then the final event, each
// carrying the error.
func TestRunJSONErrors(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(bad, []byte("storage:\n  type: mysq\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		args []string
		want string
	}{
		{"usage", []string{"--output", "json", "--bogus"}, "用法错误: 未知选项 --bogus"},
		{"usage, = form", []string{"--bogus", "--output=json"}, "用法错误: 未知选项 --bogus"},
		{"config", []string{"--output", "json", "--config", bad}, "配置错误: " + bad + ":2: storage.type"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runSync(t, tt.args...)
			if code != 2 || stderr != "" {
				t.Fatalf("exit %d, stderr %q", code, stderr)
			}
			var stages []string
			sc := bufio.NewScanner(strings.NewReader(stdout))
			for sc.Scan() {
				var ev struct{ Kind, Stage, Status, Error string }
				if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
					t.Fatalf("not JSON: %q: %v", sc.Text(), err)
				}
				if ev.Kind != "stage" || ev.Status != "failed" || !strings.HasPrefix(ev.Error, tt.want) {
					t.Fatalf("event %+v, want a failed stage with error %q", ev, tt.want)
				}
				stages = append(stages, ev.Stage)
			}
			if strings.Join(stages, ",") != "config,stopped" {
				t.Fatalf("stages %v", stages)
			}
		})
	}
}

// lineWriter collects output and signals when a line has been written.
type lineWriter struct {
	mu    sync.Mutex
	buf   bytes.Buffer
	want  string
	found chan struct{}
	once  sync.Once
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	if w.want != "" && strings.Contains(w.buf.String(), w.want+"\n") {
		w.once.Do(func() { close(w.found) })
	}
	return len(p), nil
}

func (w *lineWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// TestRunHeadlessMemory runs the whole program in-process on the memory
// backend: the original log lines on stdout, exactly and in order, and a
// stop request shuts it down cleanly (exit 0). A force request after the
// cleanup finished changes nothing.
func TestRunHeadlessMemory(t *testing.T) {
	ctx, stop := context.WithCancel(t.Context())
	force := make(chan struct{})
	stdout := &lineWriter{want: "存储服务启动完成", found: make(chan struct{})}
	var stderr lineWriter
	done := make(chan int, 1)
	go func() { done <- run(ctx, force, []string{"--headless"}, noEnv, strings.NewReader(""), stdout, &stderr) }()
	select {
	case <-stdout.found:
	case code := <-done:
		t.Fatalf("exited %d before ready\nstdout: %s\nstderr: %s", code, stdout, stderr.String())
	case <-time.After(20 * time.Second):
		t.Fatalf("not ready\nstdout: %s\nstderr: %s", stdout, stderr.String())
	}
	stop()
	code := <-done
	close(force)
	want := "配置文件: configs/config-example.yaml\n正在启动存储服务 (类型: memory)...\n内存存储已初始化\n存储服务启动完成\n" +
		"正在关闭存储服务...\n存储连接已关闭\n存储服务已关闭\n"
	if code != 0 || stdout.String() != want {
		t.Fatalf("exit %d\nstdout:\n%s\nwant:\n%s\nstderr: %s", code, stdout, want, stderr.String())
	}
}

// TestTimeoutPreserveStatus: GNU timeout delivers its signal to the
// process and to its group, so k3-storage receives it twice at once. That
// is one stop request: every run exits 0 with every shutdown line.
func TestTimeoutPreserveStatus(t *testing.T) {
	timeout, err := exec.LookPath("timeout")
	if err != nil {
		t.Fatalf("GNU timeout (coreutils) is needed: %v", err)
	}
	bin := testbin.Binary(t)
	// Page the binary in once: a signal that arrives before main has run
	// takes the runtime's default action, and a cold start on a loaded
	// machine can take a good part of half a second.
	if err := exec.Command(bin, "--version").Run(); err != nil {
		t.Fatal(err)
	}
	const runs = 50
	want := "配置文件: configs/config-example.yaml（内置）\n正在启动存储服务 (类型: memory)...\n内存存储已初始化\n存储服务启动完成\n" +
		"正在关闭存储服务...\n存储连接已关闭\n存储服务已关闭\n"
	dir := t.TempDir() // no config file there: the built-in one
	var failures []string
	for i := range runs {
		cmd := exec.Command(timeout, "--preserve-status", "-s", "TERM", "0.5", bin, "--headless")
		cmd.Dir = dir
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		if err := cmd.Run(); err != nil || out.String() != want {
			failures = append(failures, fmt.Sprintf("run %d: %v\nstdout:\n%s\nstderr:\n%s", i, err, out.String(), errb.String()))
		}
	}
	if len(failures) > 0 {
		t.Fatalf("%d of %d runs failed; first:\n%s", len(failures), runs, failures[0])
	}
}
