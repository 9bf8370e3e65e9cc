package etcdtest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/k3/k3-storage/backends/etcd"
	"github.com/k3/k3-storage/internal/proc"
	"github.com/k3/k3-storage/internal/testenv"
)

// Process is a single-member etcd run from the machine's etcd binary as a
// child process, for tests that freeze the server (SIGSTOP) or kill it,
// which an embedded server cannot be: its port keeps accepting TCP
// connections while nothing answers on them. It listens on a loopback port
// that stays the same across restarts; its data lives until the test ends.
type Process struct {
	// Endpoint is the client URL.
	Endpoint string

	bin, dir   string
	clientPort int
	peerPort   int

	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan struct{}
}

// StartProcess starts an etcd binary (etcd in PATH, or /usr/bin/etcd) and
// returns once it answers; the test's Cleanup kills it. It skips the test
// (or fails it under K3_TEST_REQUIRE naming "etcd") when there is no
// binary.
func StartProcess(tb testing.TB) *Process {
	tb.Helper()
	bin, err := exec.LookPath("etcd")
	if err != nil {
		if _, statErr := os.Stat("/usr/bin/etcd"); statErr != nil {
			testenv.Need(tb, "etcd", fmt.Errorf("no etcd binary to run as a process: %w", err))
		}
		bin = "/usr/bin/etcd"
	}
	ports, err := freePorts(2)
	if err != nil {
		tb.Fatal(err)
	}
	p := &Process{
		Endpoint:   fmt.Sprintf("http://127.0.0.1:%d", ports[0]),
		bin:        bin,
		dir:        tb.TempDir(),
		clientPort: ports[0],
		peerPort:   ports[1],
	}
	tb.Cleanup(p.Kill)
	ctx, cancel := context.WithTimeout(tb.Context(), readyTimeout)
	defer cancel()
	if err := p.Start(ctx); err != nil {
		tb.Fatalf("etcdtest: %v", err)
	}
	return p
}

// Start runs the server (again, after Kill) and returns once it answers a
// read, or with an error when ctx ends or the server exits first.
func (p *Process) Start(ctx context.Context) error {
	p.mu.Lock()
	if p.cmd != nil {
		p.mu.Unlock()
		return errors.New("etcd process already running")
	}
	client := fmt.Sprintf("http://127.0.0.1:%d", p.clientPort)
	peer := fmt.Sprintf("http://127.0.0.1:%d", p.peerPort)
	cmd := exec.Command(p.bin,
		"--name", "p0", "--data-dir", filepath.Join(p.dir, "data"),
		"--listen-client-urls", client, "--advertise-client-urls", client,
		"--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
		"--initial-cluster", "p0="+peer, "--max-request-bytes", fmt.Sprint(etcd.ServerMaxRequestBytes))
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // no terminal signals
	logf, err := os.OpenFile(filepath.Join(p.dir, "etcd.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		p.mu.Unlock()
		return err
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		p.mu.Unlock()
		return fmt.Errorf("start %s: %w", p.bin, err)
	}
	exited := make(chan struct{})
	go func() {
		cmd.Wait()
		logf.Close()
		close(exited)
	}()
	p.cmd, p.exited = cmd, exited
	p.mu.Unlock()

	cli, err := clientv3.New(clientv3.Config{Endpoints: []string{p.Endpoint}, DialTimeout: time.Second, Logger: zap.NewNop()})
	if err != nil {
		return err
	}
	defer cli.Close()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		rctx, cancel := context.WithTimeout(ctx, time.Second)
		_, err := cli.Get(rctx, "probe")
		cancel()
		if err == nil {
			return nil
		}
		select {
		case <-exited:
			p.mu.Lock()
			p.cmd = nil
			p.mu.Unlock()
			return fmt.Errorf("etcd exited before answering (%v)", err)
		case <-ctx.Done():
			p.Kill()
			return fmt.Errorf("etcd did not answer at %s: %w (last error: %v)", p.Endpoint, ctx.Err(), err)
		case <-tick.C:
		}
	}
}

// Pause freezes the server (SIGSTOP): its port still accepts connections,
// but nothing answers until Resume.
func (p *Process) Pause() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil {
		return errors.New("etcd process not running")
	}
	return proc.Freeze(p.cmd.Process, 10*time.Second)
}

// Resume lets a paused server go on (SIGCONT).
func (p *Process) Resume() error { return p.signal(syscall.SIGCONT) }

func (p *Process) signal(sig syscall.Signal) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil {
		return errors.New("etcd process not running")
	}
	return p.cmd.Process.Signal(sig)
}

// Kill ends the server at once (SIGKILL), as a crash would, and waits for
// it; Start runs it again on the same data. Killing a stopped server does
// nothing.
func (p *Process) Kill() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil {
		return
	}
	p.cmd.Process.Kill()
	<-p.exited
	p.cmd = nil
}
