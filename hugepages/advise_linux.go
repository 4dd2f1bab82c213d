package hugepages

import (
	"fmt"
	"os"
	"syscall"
	"unsafe"
)

// hugePage is the size of an x86-64 transparent huge page (and an arm64
// one with 4 KiB base pages).
const hugePage = 2 << 20

// adviseHeap marks the mapped parts of the Go heap MADV_HUGEPAGE, those
// not marked by an earlier call, and returns the bytes it marked. The
// heap is the run of mappings that holds probe, a heap object.
func (a *Advisor) adviseHeap(probe unsafe.Pointer) (int64, error) {
	text, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		return 0, err
	}
	ms, err := parseMaps(text)
	if err != nil {
		return 0, err
	}
	addr := uintptr(probe)
	var marked int64
	for _, m := range heapRun(ms, addr) {
		if (m.start+hugePage-1)&^(hugePage-1)+hugePage > m.end || a.covered(m) {
			// Too short to hold an aligned huge page, or marked before.
			continue
		}
		if _, _, e := syscall.Syscall(syscall.SYS_MADVISE, m.start, m.end-m.start, syscall.MADV_HUGEPAGE); e != 0 {
			return marked, fmt.Errorf("madvise(%#x, %d, MADV_HUGEPAGE): %w", m.start, m.end-m.start, e)
		}
		a.mark(m)
		marked += int64(m.end - m.start)
	}
	return marked, nil
}
