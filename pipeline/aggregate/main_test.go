package aggregate

import (
	"flag"
	"os"
	"testing"

	"everywhere/hugepages"
)

// TestMain runs the benchmarks on the heap the engine has, on huge pages
// (see hugepages.ForBenchmarks).
func TestMain(m *testing.M) {
	flag.Parse()
	hugepages.ForBenchmarks()
	os.Exit(m.Run())
}
