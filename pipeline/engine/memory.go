package engine

import (
	"context"
	"log/slog"
	"runtime/debug"

	"everywhere/config"
	"everywhere/hugepages"
)

// limitMemory applies engine.memory_limit_mib as the runtime's soft
// memory limit. The state the engine holds (fraud windows, the helper
// index, records waiting in the merges) is long-lived, and by default the
// heap grows to twice what is live before the collector runs: the
// process would need twice its state. Under a limit the collector runs
// as the heap nears it instead. 0 keeps Go's default, which honours
// GOMEMLIMIT.
func limitMemory(cfg *config.Config) {
	mib := cfg.Engine.MemoryLimitMiB
	if mib <= 0 {
		return
	}
	debug.SetMemoryLimit(int64(mib) << 20)
	slog.Info("soft memory limit set", "mib", mib)
}

// adviseHugePages marks the heap for huge pages as it grows, while ctx
// lasts, when engine.heap_pages is huge (see package hugepages).
func (e *Engine) adviseHugePages(ctx context.Context) {
	if e.cfg.Engine.HeapPages != "huge" {
		return
	}
	a := &hugepages.Advisor{Marked: func(n int64) { e.m.HeapHugeBytes.Add(float64(n)) }}
	// The heap mapped, and marked, before the engine makes its state, up
	// to the memory limit.
	reserve := heapReserveMax
	if mib := e.cfg.Engine.MemoryLimitMiB; mib > 0 {
		reserve = min(reserve, mib<<20)
	}
	if err := a.Reserve(reserve); err != nil {
		slog.Warn("huge pages for the heap: not reserved", "err", err)
	}
	go a.Run(ctx)
}
