package devbroker

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// shm is the tmpfs memoryDir puts a broker's log in.
const shm = "/dev/shm"

// scratchPrefix names the directories memoryDir makes, followed by the
// pid of the process that made them.
const scratchPrefix = "everywhere-devbroker-"

// memoryDir makes a directory in tmpfs for a broker without a data
// directory, or returns "" where there is none: kfake then keeps the log
// in its own in-memory files.
//
// Those files are byte slices that double as they fill: kfake copies a
// partition's whole segment (up to 100 MiB) to grow it, inside the one
// loop that answers every request, and every fetch and produce waits
// meanwhile. In tmpfs the log is in memory just the same and grows a page
// at a time. Measured at 47,000 events/s, half the catch-up rate, in
// alternating runs: one hop's p99 (BenchmarkBrokerHop) was 22 ms with
// the in-memory files and 8 ms in tmpfs, need to suggestions' 159 and 145
// ms against 80 and 102, and the process running the broker and the load
// used about a tenth less CPU. Reading through the file system costs the
// broker's readers some: the bare reader of BenchmarkCatchUp read 10-25%
// fewer events/s. Kept in kfake's files with segments of 1 MiB
// (log.segment.bytes), so that no copy to grow one is large, the hop was
// slower still at 130,000 events/s: its p99 58.6 and 34.9 ms against 10.5
// and 9.7 in tmpfs, its p50 3.4 and 1.0 against 0.8 and 0.7 (alternating
// rounds).
//
// A process killed before Close leaves its directory behind, holding
// memory: memoryDir removes those whose process is gone.
func memoryDir() string {
	removeOrphans()
	dir, err := os.MkdirTemp(shm, scratchPrefix+strconv.Itoa(os.Getpid())+"-")
	if err != nil {
		return ""
	}
	return dir
}

// removeOrphans removes memoryDir's directories whose process is gone;
// without /proc it cannot tell, and removes none.
func removeOrphans() {
	if _, err := os.Stat("/proc/self"); err != nil {
		return
	}
	entries, _ := os.ReadDir(shm)
	for _, e := range entries {
		rest, ok := strings.CutPrefix(e.Name(), scratchPrefix)
		if !ok || !e.IsDir() {
			continue
		}
		pid, _, _ := strings.Cut(rest, "-")
		if _, err := os.Stat(filepath.Join("/proc", pid)); os.IsNotExist(err) {
			_ = os.RemoveAll(filepath.Join(shm, e.Name()))
		}
	}
}
