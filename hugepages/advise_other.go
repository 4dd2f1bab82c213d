//go:build !linux

package hugepages

import "unsafe"

// adviseHeap does nothing where there is no madvise(MADV_HUGEPAGE).
func (a *Advisor) adviseHeap(unsafe.Pointer) (int64, error) { return 0, nil }
