package engine

import (
	"math"
	"runtime/debug"
	"strings"
	"testing"

	"everywhere/config"
)

func TestMemoryLimitIsTheSetting(t *testing.T) {
	before := debug.SetMemoryLimit(-1) // -1 reads it
	t.Cleanup(func() { debug.SetMemoryLimit(before) })

	cfg := &config.Config{}
	cfg.Engine.MemoryLimitMiB = 1400
	limitMemory(cfg)
	if got := debug.SetMemoryLimit(-1); got != 1400<<20 {
		t.Fatalf("memory limit %d bytes, want %d", got, 1400<<20)
	}

	debug.SetMemoryLimit(math.MaxInt64)
	cfg.Engine.MemoryLimitMiB = 0
	limitMemory(cfg)
	if got := debug.SetMemoryLimit(-1); got != math.MaxInt64 {
		t.Fatalf("memory_limit_mib 0 changed the limit to %d bytes", got)
	}
}

// TestPrefaultedHeapNeedsTheRuntimeToKeepFreedPages: engine.heap_pages
// prefaulted starts only with GODEBUG=madvdontneed=0, the last setting of
// it winning as in the runtime, and the refusal names the key and what
// to do; the other settings start with any GODEBUG.
func TestPrefaultedHeapNeedsTheRuntimeToKeepFreedPages(t *testing.T) {
	for godebug, ok := range map[string]bool{
		"madvdontneed=0":                true,
		"gctrace=1,madvdontneed=0":      true,
		"madvdontneed=1,madvdontneed=0": true,
		"madvdontneed=0,madvdontneed=1": false,
		"":                              false,
		"xmadvdontneed=0":               false,
	} {
		cfg := &config.Config{}
		cfg.Engine.HeapPages = "prefaulted"
		err := checkHeapPages(cfg, godebug)
		if ok && err != nil {
			t.Errorf("GODEBUG=%q: %v", godebug, err)
		}
		if !ok && (err == nil || !strings.Contains(err.Error(), "engine.heap_pages") || !strings.Contains(err.Error(), "GODEBUG=madvdontneed=0")) {
			t.Errorf("GODEBUG=%q: got %v, want a refusal naming engine.heap_pages and GODEBUG=madvdontneed=0", godebug, err)
		}
		for _, other := range []string{"huge", "system"} {
			cfg.Engine.HeapPages = other
			if err := checkHeapPages(cfg, godebug); err != nil {
				t.Errorf("heap_pages %s, GODEBUG=%q: %v", other, godebug, err)
			}
		}
	}
}
