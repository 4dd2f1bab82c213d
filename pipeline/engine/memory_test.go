package engine

import (
	"math"
	"runtime/debug"
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
