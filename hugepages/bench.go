package hugepages

import (
	"context"
	"flag"
	"fmt"
	"os"
)

// ForBenchmarks gives a test binary that runs benchmarks the heap the
// engine has with engine.heap_pages set to huge, its default: a
// gigabyte reserved and marked before the benchmarks make their state,
// and the growth past it marked as it comes. The stage benchmarks'
// state (an index of a million helpers, fraud windows of a million
// users) is read at random as the engine's is, and on the system's 4 KiB
// pages they paid TLB misses the engine does not: their figures would
// measure another heap than the one the engine runs on.
//
// Call it from TestMain, after flag.Parse. Without a -test.bench pattern
// it does nothing: tests keep the system's pages.
func ForBenchmarks() {
	f := flag.Lookup("test.bench")
	if f == nil || f.Value.String() == "" {
		return
	}
	a := &Advisor{}
	if err := a.Reserve(1<<30, false); err != nil {
		fmt.Fprintln(os.Stderr, "benchmarks on the system's pages:", err)
		return
	}
	go a.Run(context.Background())
}
