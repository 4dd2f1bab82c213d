package hugepages

import (
	"bufio"
	"bytes"
	"fmt"
	"strconv"
)

// mapping is one line of /proc/<pid>/maps.
type mapping struct {
	start, end uintptr
	writable   bool // rw: mapped for use, not only reserved (---p)
	anonymous  bool // no file behind it
}

// parseMaps reads the mappings of a /proc/<pid>/maps text, in its order
// (by address).
func parseMaps(text []byte) ([]mapping, error) {
	var ms []mapping
	sc := bufio.NewScanner(bytes.NewReader(text))
	for sc.Scan() {
		// start-end perms offset dev inode [path]
		f := bytes.Fields(sc.Bytes())
		if len(f) < 5 {
			return nil, fmt.Errorf("maps line %q: want at least 5 fields", sc.Text())
		}
		lo, hi, ok := bytes.Cut(f[0], []byte{'-'})
		if !ok {
			return nil, fmt.Errorf("maps line %q: no start-end range", sc.Text())
		}
		start, err := strconv.ParseUint(string(lo), 16, 64)
		if err != nil {
			return nil, fmt.Errorf("maps line %q: %w", sc.Text(), err)
		}
		end, err := strconv.ParseUint(string(hi), 16, 64)
		if err != nil {
			return nil, fmt.Errorf("maps line %q: %w", sc.Text(), err)
		}
		perms := f[1]
		ms = append(ms, mapping{
			start:     uintptr(start),
			end:       uintptr(end),
			writable:  len(perms) >= 2 && perms[0] == 'r' && perms[1] == 'w',
			anonymous: string(f[4]) == "0" && len(f) == 5,
		})
	}
	return ms, sc.Err()
}

// heapRun returns the writable mappings of the run of adjacent anonymous
// mappings that holds addr: the Go heap, when addr is a heap object's.
// The runtime reserves the heap in arenas of 64 MiB, next to one another
// (---p), and maps parts of them for use as it grows (rw-p); the run is
// those reservations and their mapped parts, bounded by the first gap or
// file-backed mapping on each side.
func heapRun(ms []mapping, addr uintptr) []mapping {
	at := -1
	for i, m := range ms {
		if m.start <= addr && addr < m.end {
			at = i
			break
		}
	}
	if at < 0 || !ms[at].anonymous {
		return nil
	}
	lo, hi := at, at
	for lo > 0 && ms[lo-1].anonymous && ms[lo-1].end == ms[lo].start {
		lo--
	}
	for hi+1 < len(ms) && ms[hi+1].anonymous && ms[hi+1].start == ms[hi].end {
		hi++
	}
	var run []mapping
	for _, m := range ms[lo : hi+1] {
		if m.writable {
			run = append(run, m)
		}
	}
	return run
}
