package integration

import (
	"os"
	"strings"
	"testing"
	"time"
)

// TestPrefaultedHeapIsResidentBeforeTheEngineReads: with engine.heap_pages
// prefaulted, and the runtime keeping the pages it frees
// (GODEBUG=madvdontneed=0), the engine's reserve of heap is faulted in
// before it answers /metrics, and stays resident once the reserve is
// given back to the heap: the engine's first messages wait for no page
// the kernel has to find. The engine then works as with any other heap:
// it joins its group and takes partitions. Without the runtime keeping
// the pages it frees, the engine refuses to start, naming the setting.
func TestPrefaultedHeapIsResidentBeforeTheEngineReads(t *testing.T) {
	if _, err := os.Stat("/sys/kernel/mm/transparent_hugepage/enabled"); err != nil {
		t.Skip("this kernel has no transparent huge pages:", err)
	}
	e := newEnv(t, 2)
	// Without the runtime keeping freed pages, it refuses to start.
	refused := e.startEngine("EVERYWHERE_ENGINE_HEAP_PAGES=prefaulted", "GODEBUG=")
	select {
	case err := <-refused.done:
		if err == nil || !strings.Contains(refused.logs.String(), "engine.heap_pages") || !strings.Contains(refused.logs.String(), "GODEBUG=madvdontneed=0") {
			t.Errorf("prefaulted without GODEBUG=madvdontneed=0: exit %v, log:\n%s", err, tail(refused.logs.String(), 2000))
		}
	case <-time.After(30 * time.Second):
		t.Fatal("prefaulted without GODEBUG=madvdontneed=0: the engine still runs after 30 s")
	}

	en := e.startEngine("EVERYWHERE_ENGINE_HEAP_PAGES=prefaulted", "GODEBUG=madvdontneed=0")
	en.assigned(t)
	reserve := int64(1 << 30)
	if raceBuild {
		reserve = 64 << 20 // see heapReserveMax
	}
	if rss := residentBytes(t, en.cmd.Process.Pid); rss < reserve*9/10 {
		t.Errorf("resident %d MiB once started, want at least 90%% of the %d MiB reserve", rss>>20, reserve>>20)
	}
	if !strings.Contains(en.logs.String(), "heap reserve faulted in") {
		t.Errorf("no log of the reserve faulted in:\n%s", tail(en.logs.String(), 2000))
	}
	if v := metric(en.metrics(t), "everywhere_heap_huge_advised_bytes"); v < float64(reserve) {
		t.Errorf("everywhere_heap_huge_advised_bytes = %v, want at least the reserve, %d", v, reserve)
	}
	if _, err := en.stop(); err != nil {
		t.Errorf("SIGTERM: %v", err)
	}
}
