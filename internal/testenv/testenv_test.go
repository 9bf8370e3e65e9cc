package testenv

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

type buf struct{ bytes.Buffer }

func (*buf) Close() error { return nil }

// TestNeedCountsSkips: a missing service skips the test (unless required)
// and is counted for the summary, with the first reason given.
func TestNeedCountsSkips(t *testing.T) {
	t.Setenv(RequireEnv, "")
	for i := range 3 {
		t.Run("skip", func(t *testing.T) {
			Need(t, "Widget", errors.New("no widget socket"))
			t.Fatalf("run %d went on after Need", i)
		})
	}
	t.Run("present", func(t *testing.T) { Need(t, "Widget", nil) })
	var out buf
	summarize("./x", &out)
	if got := out.String(); !strings.Contains(got, "./x: 3 个测试跳过：缺少 Widget（no widget socket）") {
		t.Fatalf("summary %q", got)
	}
	skips.counts, skips.reasons = nil, nil
}

func TestRequired(t *testing.T) {
	for _, tt := range []struct {
		env, service string
		want         bool
	}{{"all", "mysql", true}, {"mysql,docker", "docker", true}, {"mysql", "docker", false}, {"", "mysql", false}, {" all ", "tmux", true}} {
		t.Setenv(RequireEnv, tt.env)
		if got := Required(tt.service); got != tt.want {
			t.Errorf("Required(%q) with %q = %v", tt.service, tt.env, got)
		}
	}
}
