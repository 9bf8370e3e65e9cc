package engine_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/k3/k3-storage/backends"
	"github.com/k3/k3-storage/engine"
	"github.com/k3/k3-storage/engine/lifecycle"
)

// connectAttempts is a 45s connect to a port where nothing listens, with
// an attempt every 250ms as the engine's default retry policy makes
// (181 of them), a few of which time out instead, the last one final.
func connectAttempts(start time.Time) []lifecycle.Event {
	const addr = "127.0.0.1:3307/k3"
	refused := fmt.Errorf("mysql: open: connect to %s: %w", addr,
		&net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)})
	timeout := fmt.Errorf("mysql: open: connect to %s: %w", addr, errors.New("i/o timeout"))
	evs := []lifecycle.Event{{Time: start, Kind: lifecycle.KindStage, Stage: lifecycle.StageConnect, Status: lifecycle.Running,
		Detail: "正在连接 " + addr + " (最多等待 45s)..."}}
	const n = 181
	for i := 1; i <= n; i++ {
		elapsed := time.Duration(i-1) * 250 * time.Millisecond
		err := refused
		if i >= 50 && i < 53 {
			err = timeout
		}
		a := &lifecycle.Attempt{N: i, Address: addr, Elapsed: elapsed, Budget: 45 * time.Second}
		if i < n {
			a.NextDelay = 250 * time.Millisecond
		}
		evs = append(evs, lifecycle.Event{Time: start.Add(elapsed), Kind: lifecycle.KindAttempt, Stage: lifecycle.StageConnect,
			Attempt: a, Err: err, Detail: fmt.Sprintf("第 %d 次连接 %s 失败: %v", i, addr, err)})
	}
	return evs
}

// TestPrinterRetrySummary: in text, each distinct connect error once, then
// at most one summary line per 5s, nothing for the last attempt; in JSON,
// every attempt.
func TestPrinterRetrySummary(t *testing.T) {
	evs := connectAttempts(time.Now())
	var out, errOut strings.Builder
	p := &engine.LogPrinter{Out: &out, Err: &errOut}
	for _, ev := range evs {
		p.Print(ev)
	}
	lines := strings.Split(strings.TrimSuffix(errOut.String(), "\n"), "\n")
	if out.String() != "" {
		t.Fatalf("stdout: %q, want nothing (the original log has no attempt lines)", out.String())
	}
	if len(lines) > 12 {
		t.Fatalf("%d stderr lines for 181 attempts over 45s, want at most 12:\n%s", len(lines), errOut.String())
	}
	want := []string{
		"正在连接 127.0.0.1:3307/k3 (最多等待 45s)...",
		"第 1 次连接 127.0.0.1:3307/k3 失败: mysql: open: connect to 127.0.0.1:3307/k3: dial tcp: connect: connection refused",
	}
	for i, w := range want {
		if lines[i] != w {
			t.Fatalf("stderr line %d: %q, want %q", i+1, lines[i], w)
		}
	}
	summary := regexp.MustCompile(`^仍在等待 127\.0\.0\.1:3307/k3 \(第 (\d+) 次, (\d+)s/45s\): connection refused$`)
	var timeouts, summaries int
	lastSummary := -5
	for _, l := range lines[2:] {
		switch m := summary.FindStringSubmatch(l); {
		case strings.HasPrefix(l, "第 50 次") && strings.HasSuffix(l, "i/o timeout"):
			timeouts++
		case m != nil:
			summaries++
			var secs int
			fmt.Sscan(m[2], &secs)
			if secs-lastSummary < 5 {
				t.Errorf("summary at %ds follows one at %ds", secs, lastSummary)
			}
			lastSummary = secs
		default:
			t.Errorf("unexpected stderr line %q", l)
		}
	}
	if timeouts != 1 || summaries < 7 {
		t.Fatalf("%d lines for the new error (want 1), %d summaries (want one per 5s):\n%s", timeouts, summaries, errOut.String())
	}
	if strings.Contains(errOut.String(), "第 181 次") {
		t.Fatal("the last attempt was printed; the final error says it")
	}

	var js strings.Builder
	jp := engine.JSONPrinter{Out: &js}
	for _, ev := range evs {
		jp.Print(ev)
	}
	if n := strings.Count(js.String(), `"kind":"attempt"`); n != 181 {
		t.Fatalf("%d attempt events in JSON, want all 181", n)
	}
}

// TestPrinterRetryNewStage: a later connect stage prints its errors again.
func TestPrinterRetryNewStage(t *testing.T) {
	var errOut strings.Builder
	p := &engine.LogPrinter{Out: &strings.Builder{}, Err: &errOut}
	now := time.Now()
	for range 2 {
		for _, ev := range connectAttempts(now)[:3] {
			p.Print(ev)
		}
	}
	if n := strings.Count(errOut.String(), "第 1 次连接"); n != 2 {
		t.Fatalf("first attempt printed %d times over two connect stages, want 2:\n%s", n, errOut.String())
	}
}

// TestPrinterSummaryRedacted: the summary's short cause never shows a
// secret that the error's own text hides.
func TestPrinterSummaryRedacted(t *testing.T) {
	const secret = "s3cret-pw"
	err := backends.RedactError(fmt.Errorf("mysql: open: %w", fmt.Errorf("bad database %q", secret)), secret)
	var errOut strings.Builder
	p := &engine.LogPrinter{Out: &strings.Builder{}, Err: &errOut}
	now := time.Now()
	for i, at := range []time.Duration{0, 6 * time.Second} {
		p.Print(lifecycle.Event{Time: now.Add(at), Kind: lifecycle.KindAttempt, Err: err, Detail: "attempt",
			Attempt: &lifecycle.Attempt{N: i + 1, Address: "a", Elapsed: at, Budget: time.Minute, NextDelay: time.Second}})
	}
	if strings.Contains(errOut.String(), secret) || !strings.Contains(errOut.String(), "****") {
		t.Fatalf("stderr %q: want the redacted text, never the secret", errOut.String())
	}
}

// TestPrinterHealth: one stderr line per health change, nothing on stdout;
// JSON says "kind":"health" with the state as status, the address, when
// the outage began and how long it lasted.
func TestPrinterHealth(t *testing.T) {
	since := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	evs := []lifecycle.Event{
		{Time: since.Add(time.Second), Kind: lifecycle.KindHealth, Err: errors.New("dial tcp 127.0.0.1:3306: connect: connection refused"),
			Detail: "存储后端不可达: 127.0.0.1:3306/k3: dial tcp 127.0.0.1:3306: connect: connection refused",
			Health: &lifecycle.Health{State: lifecycle.HealthDown, Address: "127.0.0.1:3306/k3", Since: since}},
		{Time: since.Add(3200 * time.Millisecond), Kind: lifecycle.KindHealth, Detail: "存储后端已恢复 (中断 3.2s)",
			Health: &lifecycle.Health{State: lifecycle.HealthUp, Address: "127.0.0.1:3306/k3", Since: since, Outage: 3200 * time.Millisecond}},
	}
	var out, errOut strings.Builder
	p := &engine.LogPrinter{Out: &out, Err: &errOut}
	for _, ev := range evs {
		p.Print(ev)
	}
	if out.String() != "" {
		t.Fatalf("stdout %q, want nothing: its lines are the original log", out.String())
	}
	if want := evs[0].Detail + "\n" + evs[1].Detail + "\n"; errOut.String() != want {
		t.Fatalf("stderr %q, want %q", errOut.String(), want)
	}
	var js strings.Builder
	jp := engine.JSONPrinter{Out: &js}
	for _, ev := range evs {
		jp.Print(ev)
	}
	lines := strings.Split(strings.TrimSuffix(js.String(), "\n"), "\n")
	type health struct {
		Kind, Status, Error string
		Stage               *string
		Health              struct {
			Address  string
			Since    time.Time
			OutageMS int64 `json:"outage_ms"`
		}
	}
	var down, up health
	if err := json.Unmarshal([]byte(lines[0]), &down); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(lines[1]), &up); err != nil {
		t.Fatal(err)
	}
	if down.Kind != "health" || down.Status != "down" || down.Stage != nil || down.Error == "" ||
		down.Health.Address != "127.0.0.1:3306/k3" || !down.Health.Since.Equal(since) || down.Health.OutageMS != 0 {
		t.Fatalf("down event as JSON: %s", lines[0])
	}
	if up.Kind != "health" || up.Status != "up" || up.Error != "" || !up.Health.Since.Equal(since) || up.Health.OutageMS != 3200 {
		t.Fatalf("up event as JSON: %s", lines[1])
	}
}
