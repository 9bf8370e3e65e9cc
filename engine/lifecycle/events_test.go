package lifecycle

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestNames: every stage, path and reason has a stable, distinct name,
// and startup stages come before StageStopping (the console splits its
// views there).
func TestNames(t *testing.T) {
	seen := map[string]bool{}
	for s := StageConfig; s <= StageStopped; s++ {
		n := s.String()
		if strings.HasPrefix(n, "Stage(") || seen[n] {
			t.Fatalf("stage %d named %q", int(s), n)
		}
		seen[n] = true
	}
	for _, s := range []Stage{StageProvision, StageNativeInit, StageNativeStart} {
		if s >= StageStopping {
			t.Fatalf("startup stage %v sorts after stopping", s)
		}
	}
	if StageStopNative <= StageStopping || StageStopNative >= StageStopped {
		t.Fatal("stop-native is not a shutdown stage")
	}
	for p := PathExisting; p <= PathNative; p++ {
		if strings.HasPrefix(p.String(), "Path(") {
			t.Fatalf("path %d has no name", int(p))
		}
	}
	seen = map[string]bool{}
	for r := ReasonAnswering; r <= ReasonPullFailed; r++ {
		n := r.String()
		if strings.HasPrefix(n, "Reason(") || seen[n] {
			t.Fatalf("reason %d named %q", int(r), n)
		}
		seen[n] = true
	}
}

func TestPathInJSON(t *testing.T) {
	b, err := json.Marshal(Event{Kind: KindStage, Stage: StageProvision, Status: Done, Path: PathNative, Reason: ReasonNoRuntime})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"stage":"provision","status":"done","path":"native","reason":"no-runtime"`) {
		t.Fatalf("JSON %s", b)
	}
	b, _ = json.Marshal(Event{Kind: KindStage, Stage: StageConnect, Status: Done})
	if strings.Contains(string(b), "path") || strings.Contains(string(b), "reason") {
		t.Fatalf("path or reason on another event: %s", b)
	}
}
