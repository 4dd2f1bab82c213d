//go:build !linux

package hugepages

import (
	"errors"
	"fmt"
	"unsafe"
)

// errNoMadvise says why the heap keeps the system's pages: there is no
// madvise(MADV_HUGEPAGE) to ask with.
var errNoMadvise = fmt.Errorf("no madvise(MADV_HUGEPAGE) outside Linux: %w", errors.ErrUnsupported)

// adviseHeap cannot mark anything outside Linux.
func (a *Advisor) adviseHeap(unsafe.Pointer) (int64, error) { return 0, errNoMadvise }
