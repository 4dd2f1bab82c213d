package detect

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"everywhere/config"
)

func TestRulesReloadSwapsValidFilesAndKeepsOldOnBadOnes(t *testing.T) {
	cfg, err := config.Load("", nil)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "rules.yaml")
	write := func(body string, at time.Time) {
		t.Helper()
		if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(path, at, at); err != nil {
			t.Fatal(err)
		}
	}
	write("rules:\n  velocity:\n    max_count: 5\n  version: v1\n", time.Unix(1000, 0))
	r, err := NewRules(cfg.Fraud.Rules, path)
	if err != nil {
		t.Fatal(err)
	}
	first := r.Load()
	if first.Velocity.MaxCount != 5 || first.Version != "v1" || first.Structuring.Threshold != cfg.Fraud.Rules.Structuring.Threshold {
		t.Fatalf("file not applied over the defaults: %+v", first.Velocity)
	}
	if swapped, err := r.Reload(); swapped || err != nil {
		t.Fatalf("unchanged file reloaded: %v %v", swapped, err)
	}

	write("rules:\n  velocity:\n    max_count: 0\n", time.Unix(2000, 0))
	if swapped, err := r.Reload(); swapped || err == nil || !strings.Contains(err.Error(), "velocity.max_count") {
		t.Fatalf("bad value: swapped %v, err %v", swapped, err)
	}
	write("rules:\n  velocity:\n    max_cont: 7\n", time.Unix(3000, 0))
	if swapped, err := r.Reload(); swapped || err == nil || !strings.Contains(err.Error(), "max_cont") {
		t.Fatalf("unknown key: swapped %v, err %v", swapped, err)
	}
	if r.Load() != first {
		t.Fatal("a rejected file replaced the rules")
	}

	write("rules:\n  velocity:\n    max_count: 7\n", time.Unix(4000, 0))
	if swapped, err := r.Reload(); !swapped || err != nil {
		t.Fatalf("valid change: %v %v", swapped, err)
	}
	if got := r.Load(); got.Velocity.MaxCount != 7 || got.Version == "" || got.Version == "v1" {
		t.Fatalf("after reload: max_count %d version %q", got.Velocity.MaxCount, got.Version)
	}
}
