package engine

import (
	"log/slog"
	"runtime/debug"

	"everywhere/config"
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
