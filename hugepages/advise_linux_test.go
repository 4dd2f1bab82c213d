package hugepages

import (
	"bufio"
	"bytes"
	"os"
	"runtime"
	"runtime/debug"
	"strings"
	"syscall"
	"testing"
	"unsafe"
)

// TestReserveMarksTheHeapItLends checks what the engine relies on: after
// Reserve, the heap's next pages lie in a mapping marked for huge pages,
// and a pass of Run's marks the heap's growth past the reserve.
func TestReserveMarksTheHeapItLends(t *testing.T) {
	if _, err := os.Stat("/sys/kernel/mm/transparent_hugepage/enabled"); err != nil {
		t.Skip("this kernel has no transparent huge pages:", err)
	}
	var told int64
	a := &Advisor{Marked: func(n int64) { told += n }}
	if err := a.Reserve(256<<20, false); err != nil {
		t.Fatal(err)
	}
	if told < 256<<20 {
		t.Fatalf("Reserve(256 MiB) told of %d bytes marked", told)
	}
	lent := make([]byte, 64<<20)
	if flags := vmFlags(t, unsafe.Pointer(unsafe.SliceData(lent))); !strings.Contains(flags, " hg") {
		t.Fatalf("a heap object made after Reserve lies in a mapping without hg: %q", flags)
	}

	grown := make([]byte, 512<<20) // more than the reserve has left: the heap maps more
	marked, err := a.adviseHeap(unsafe.Pointer(unsafe.SliceData(grown)))
	if err != nil {
		t.Fatal(err)
	}
	if marked < 512<<20 {
		t.Fatalf("a pass after the heap grew by 512 MiB marked %d bytes", marked)
	}
	if flags := vmFlags(t, unsafe.Pointer(unsafe.SliceData(grown))); !strings.Contains(flags, " hg") {
		t.Fatalf("the heap's growth is not marked: %q", flags)
	}
	if again, _ := a.adviseHeap(unsafe.Pointer(unsafe.SliceData(grown))); again != 0 {
		t.Fatalf("a second pass marked %d bytes again", again)
	}
	runtime.KeepAlive(lent)
	runtime.KeepAlive(grown)
}

// vmFlags returns the VmFlags line of the mapping of /proc/self/smaps
// that holds p.
func vmFlags(t *testing.T, p unsafe.Pointer) string {
	t.Helper()
	text, err := os.ReadFile("/proc/self/smaps")
	if err != nil {
		t.Fatal(err)
	}
	addr := uintptr(p)
	in := false
	sc := bufio.NewScanner(bytes.NewReader(text))
	for sc.Scan() {
		line := sc.Text()
		if ms, err := parseMaps([]byte(line)); err == nil && len(ms) == 1 {
			in = ms[0].start <= addr && addr < ms[0].end
			continue
		}
		if in && strings.HasPrefix(line, "VmFlags:") {
			return line
		}
	}
	t.Fatalf("no mapping in /proc/self/smaps holds %#x", addr)
	return ""
}

// TestReserveWithFaultTouchesEveryPage checks that Reserve with fault
// faults the reserve in: at least one fault per huge page, whichever size
// the kernel backs it with. The heap's free pages are given back first,
// so that the reserve's fault anew whichever of them the runtime lends.
func TestReserveWithFaultTouchesEveryPage(t *testing.T) {
	const n = 64 << 20
	debug.FreeOSMemory()
	before := minorFaults(t)
	if err := (&Advisor{}).Reserve(n, true); err != nil {
		t.Logf("not marked for huge pages: %v", err) // faulted in all the same
	}
	if got := minorFaults(t) - before; got < n/hugePage {
		t.Fatalf("Reserve(64 MiB, fault) took %d page faults, want at least %d", got, n/hugePage)
	}
}

func minorFaults(t *testing.T) int64 {
	t.Helper()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		t.Fatal(err)
	}
	return ru.Minflt
}
