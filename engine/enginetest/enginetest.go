// Package enginetest helps end-to-end tests run the real k3-storage binary.
package enginetest

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/k3/k3-storage/internal/testbin"
)

// Process is a running k3-storage whose output is captured.
type Process struct {
	Cmd *exec.Cmd
	tb  testing.TB

	mu      sync.Mutex
	stdout  []string
	stderr  bytes.Buffer
	cursor  int           // stdout lines already consumed by WaitFor
	exited  bool          // output is complete
	changed chan struct{} // closed and replaced whenever output arrives or the process ends
	done    chan struct{}
}

// Start runs the binary with args in dir (the working directory) and extra
// environment variables; it is killed at test cleanup if still running.
func Start(tb testing.TB, dir string, env []string, args ...string) *Process {
	tb.Helper()
	cmd := exec.Command(testbin.Binary(tb), args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	p := &Process{Cmd: cmd, tb: tb, changed: make(chan struct{}), done: make(chan struct{})}
	cmd.Stderr = stderrWriter{p}
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(out)
		sc.Buffer(make([]byte, 64*1024), 4<<20)
		for sc.Scan() {
			p.update(func() { p.stdout = append(p.stdout, sc.Text()) })
		}
		cmd.Wait()
		p.update(func() { p.exited = true })
		close(p.done)
	}()
	tb.Cleanup(func() {
		select {
		case <-p.done:
		default:
			cmd.Process.Kill()
			<-p.done
		}
	})
	return p
}

// update changes the captured output and wakes waiters.
func (p *Process) update(f func()) {
	p.mu.Lock()
	defer p.mu.Unlock()
	f()
	close(p.changed)
	p.changed = make(chan struct{})
}

type stderrWriter struct{ p *Process }

func (w stderrWriter) Write(b []byte) (int, error) {
	w.p.update(func() { w.p.stderr.Write(b) })
	return len(b), nil
}

// WaitLine returns once a stdout line equal to want has been printed, and
// fails the test if the process ends or ctx expires first.
func (p *Process) WaitLine(ctx context.Context, want string) {
	p.tb.Helper()
	p.WaitFor(ctx, fmt.Sprintf("%q", want), func(line string) bool { return line == want })
}

// WaitFor returns the first stdout line, not consumed by an earlier wait,
// for which match is true; it fails the test if the process ends or ctx
// expires first.
func (p *Process) WaitFor(ctx context.Context, what string, match func(line string) bool) string {
	p.tb.Helper()
	for {
		p.mu.Lock()
		for p.cursor < len(p.stdout) {
			line := p.stdout[p.cursor]
			p.cursor++
			if match(line) {
				p.mu.Unlock()
				return line
			}
		}
		exited, changed := p.exited, p.changed
		p.mu.Unlock()
		if exited {
			p.tb.Fatalf("k3-storage exited before printing %s\nstdout:\n%s\nstderr:\n%s", what, p.Stdout(), p.Stderr())
		}
		select {
		case <-changed:
		case <-ctx.Done():
			p.tb.Fatalf("no line %s before %v\nstdout:\n%s\nstderr:\n%s", what, ctx.Err(), p.Stdout(), p.Stderr())
		}
	}
}

// WaitStderr returns once stderr contains text, and fails the test if the
// process ends or ctx expires first. (Stdout and stderr are separate pipes:
// a line on one says nothing about what was read from the other yet.)
func (p *Process) WaitStderr(ctx context.Context, text string) {
	p.tb.Helper()
	p.WaitStderrFunc(ctx, fmt.Sprintf("%q", text), func(s string) bool { return strings.Contains(s, text) })
}

// WaitStderrFunc returns once match holds for all of stderr so far, and
// fails the test if the process ends or ctx expires first.
func (p *Process) WaitStderrFunc(ctx context.Context, what string, match func(stderr string) bool) {
	p.tb.Helper()
	for {
		p.mu.Lock()
		found, exited, changed := match(p.stderr.String()), p.exited, p.changed
		p.mu.Unlock()
		switch {
		case found:
			return
		case exited:
			p.tb.Fatalf("k3-storage exited before printing %s on stderr\nstderr:\n%s", what, p.Stderr())
		}
		select {
		case <-changed:
		case <-ctx.Done():
			p.tb.Fatalf("no %s on stderr before %v\nstderr:\n%s", what, ctx.Err(), p.Stderr())
		}
	}
}

// Wait waits for the process to exit within d and returns its exit code.
func (p *Process) Wait(d time.Duration) int {
	p.tb.Helper()
	select {
	case <-p.done:
	case <-time.After(d):
		p.tb.Fatalf("k3-storage still running %v later\nstdout:\n%s\nstderr:\n%s", d, p.Stdout(), p.Stderr())
	}
	return p.Cmd.ProcessState.ExitCode()
}

// WaitUpTo waits up to d for the process to end and returns its exit
// code, or ok false when it still runs.
func (p *Process) WaitUpTo(d time.Duration) (code int, ok bool) {
	select {
	case <-p.done:
		return p.Cmd.ProcessState.ExitCode(), true
	case <-time.After(d):
		return 0, false
	}
}

// Stdout returns every line printed on stdout so far.
func (p *Process) Stdout() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return strings.Join(p.stdout, "\n")
}

// StdoutLines returns the stdout lines printed so far.
func (p *Process) StdoutLines() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.stdout...)
}

// Stderr returns what was printed on stderr so far.
func (p *Process) Stderr() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stderr.String()
}
