// Package hugepages asks Linux to back the Go heap with transparent huge
// pages (2 MiB) where the system leaves them to each process, as
// Debian's default setting ("madvise") does: the Go runtime asks only for
// its own metadata.
//
// Why: the engine's state (users' fraud windows, the helper index, the
// tables of cells) is a heap of about a gigabyte read at random, a few
// lines per event. With 4 KiB pages nearly every one of those reads
// also misses the processor's TLB, which covers some megabytes, and walks
// the page tables in memory; with 2 MiB pages the TLB covers the whole
// heap. In alternating catch-ups at 100,000 and 1,000,000 users, the
// engine's heap on huge pages took 8 and 12% less CPU per event (medians)
// for 3 to 15% more peak memory; see "Huge pages for the heap" in
// docs/performance.md.
package hugepages

import (
	"context"
	"log/slog"
	"runtime"
	"runtime/debug"
	"strings"
	"time"
	"unsafe"
)

// Advisor marks the heap's mapped parts for huge pages: a reserve before
// the heap fills (Reserve), then its growth (Run). The runtime maps new
// parts of its arenas as it needs them, each a mapping of its own that
// starts unmarked.
type Advisor struct {
	done []span // marked, merged where they touch
	// Marked is told the bytes of each mapping marked.
	Marked func(bytes int64)
}

type span struct{ start, end uintptr }

// smallPage is the smallest page Linux maps: a write at each faults in
// every page of a range, whatever size the kernel backs it with.
const smallPage = 4 << 10

// Reserve has the runtime map n bytes more of heap at once, marks them,
// and gives them back to the heap, before the engine makes its state:
// the runtime takes the pages it hands out next from there, lowest
// first, and each 2 MiB of them faults in as one huge page at its first
// touch. The runtime maps its heap 4 MiB at a time as it grows and hands
// those pages out at once, so marking what it mapped a moment ago comes
// too late for most of them: they fault in as small pages, which the
// kernel's khugepaged joins only some megabytes a minute. Without fault
// the pages of the reserve are not touched here, so it costs no memory,
// only address space.
//
// With fault, Reserve also touches each page of the reserve before it
// gives it back, so that the engine's first touches of its heap are paid
// at start rather than on an event's way: on a virtual machine that hands
// the memory its guest frees back to the host, a first touch costs the
// host's fault too (here 2.1 to 3.1 s of system time for a gigabyte of
// huge pages, 0.11 s once the host backs them). The faulted pages stay
// the process's only where the runtime gives freed pages back with
// MADV_FREE (GODEBUG=madvdontneed=0): with MADV_DONTNEED, its default,
// debug.FreeOSMemory below hands them back at once.
func (a *Advisor) Reserve(n int, fault bool) error {
	b := make([]byte, n)
	marked, err := a.adviseHeap(unsafe.Pointer(unsafe.SliceData(b)))
	if fault {
		for i := 0; i < len(b); i += smallPage {
			b[i] = 1
		}
	}
	runtime.KeepAlive(b) // b is garbage from here
	// The reserve was live in any collection that ran meanwhile, which
	// would set the next one's goal to twice that: one more sets it back,
	// and the pages go back to the system's count, so that a memory
	// limit does not count them as held (faulted in and given back with
	// MADV_FREE, they stay mapped until the kernel runs short of memory).
	debug.FreeOSMemory()
	a.tell(marked)
	return err
}

// KeepsFreedPages says whether the GODEBUG value godebug has the Go
// runtime give the pages it frees back with MADV_FREE (madvdontneed=0,
// the last setting of it winning, as the runtime reads them): only then
// do the pages Reserve faults in stay the process's. The runtime reads
// GODEBUG as the process starts, so a process cannot set it for itself.
func KeepsFreedPages(godebug string) bool {
	free := false
	for _, kv := range strings.Split(godebug, ",") {
		if v, ok := strings.CutPrefix(kv, "madvdontneed="); ok {
			free = v == "0"
		}
	}
	return free
}

// Run marks the heap's mappings made since the last look, every second
// until ctx ends: the heap's growth past the reserve. A failure is logged
// once and ends it: the heap keeps the pages the system gives it.
func (a *Advisor) Run(ctx context.Context) {
	for {
		probe := make([]byte, 64<<10) // a large object: straight from the heap's pages
		marked, err := a.adviseHeap(unsafe.Pointer(unsafe.SliceData(probe)))
		runtime.KeepAlive(probe)
		if err != nil {
			slog.Warn("huge pages for the heap: given up", "err", err)
			return
		}
		a.tell(marked)
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Second):
		}
	}
}

func (a *Advisor) tell(marked int64) {
	if marked > 0 && a.Marked != nil {
		a.Marked(marked)
	}
}

// covered reports whether m lies within the spans marked before.
func (a *Advisor) covered(m mapping) bool {
	for _, s := range a.done {
		if s.start <= m.start && m.end <= s.end {
			return true
		}
	}
	return false
}

// mark adds m to the spans marked, merging it with those it touches.
func (a *Advisor) mark(m mapping) {
	s := span{m.start, m.end}
	kept := a.done[:0]
	for _, d := range a.done {
		if d.end < s.start || s.end < d.start {
			kept = append(kept, d)
			continue
		}
		s.start, s.end = min(s.start, d.start), max(s.end, d.end)
	}
	a.done = append(kept, s)
}
