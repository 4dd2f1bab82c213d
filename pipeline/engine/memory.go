package engine

import (
	"context"
	"fmt"
	"log/slog"
	"runtime/debug"
	"time"

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

// checkHeapPages refuses engine.heap_pages prefaulted where the runtime
// gives the pages it frees back with MADV_DONTNEED, its default: its
// first collection would hand the faulted reserve back at once, and the
// heap would fault in anew as it grows. The runtime reads GODEBUG only as
// the process starts, so the engine cannot set it itself.
func checkHeapPages(cfg *config.Config, godebug string) error {
	if cfg.Engine.HeapPages != "prefaulted" || hugepages.KeepsFreedPages(godebug) {
		return nil
	}
	return fmt.Errorf("engine.heap_pages: is prefaulted, which needs GODEBUG=madvdontneed=0 in the engine's environment " +
		"(without it the runtime gives the faulted pages back at once); set it, or use huge or system")
}

// adviseHugePages marks the heap for huge pages as it grows, while ctx
// lasts, when engine.heap_pages is huge or prefaulted (see package
// hugepages); prefaulted faults the reserve in first, before the engine
// reads a message.
func (e *Engine) adviseHugePages(ctx context.Context) {
	if e.cfg.Engine.HeapPages == "system" {
		return
	}
	a := &hugepages.Advisor{Marked: func(n int64) { e.m.HeapHugeBytes.Add(float64(n)) }}
	// The heap mapped, and marked, before the engine makes its state, up
	// to the memory limit.
	reserve := heapReserveMax
	if mib := e.cfg.Engine.MemoryLimitMiB; mib > 0 {
		reserve = min(reserve, mib<<20)
	}
	fault := e.cfg.Engine.HeapPages == "prefaulted"
	start := time.Now()
	if err := a.Reserve(reserve, fault); err != nil {
		slog.Warn("huge pages for the heap: not reserved", "err", err)
	}
	if fault {
		slog.Info("heap reserve faulted in", "mib", reserve>>20, "took", time.Since(start).Round(time.Millisecond))
	}
	go a.Run(ctx)
}
