package match

import (
	"math/rand/v2"
	"runtime"
	"runtime/metrics"
	"strconv"
	"testing"
	"time"

	"everywhere/events"
)

// BenchmarkCollectHelpers is what a collection costs with 1,000,000
// helpers indexed and nothing else live: the wall time of one
// (runtime.GC, the whole cycle) and the CPU time its marking took
// (runtime/metrics: assists, dedicated and idle workers). The engine's
// collections run beside its work on the same two cores, and a probe
// sent while one marks waits for it.
func BenchmarkCollectHelpers(b *testing.B) {
	const n = 1_000_000
	p := DefaultParams()
	x := NewIndex(&p)
	r := rand.New(rand.NewPCG(7, 8))
	for i := range n {
		x.Ping(&events.Ping{UserID: "u" + strconv.Itoa(i), TS: now, Lat: 30.15 + r.Float64()*0.225, Lng: 120.0 + r.Float64()*0.31, Available: true})
	}
	mark := []metrics.Sample{{Name: "/cpu/classes/gc/mark/assist:cpu-seconds"},
		{Name: "/cpu/classes/gc/mark/dedicated:cpu-seconds"}, {Name: "/cpu/classes/gc/mark/idle:cpu-seconds"}}
	markCPU := func() float64 {
		metrics.Read(mark)
		s := 0.0
		for _, m := range mark {
			s += m.Value.Float64()
		}
		return s
	}
	runtime.GC()
	var wall time.Duration
	cpu := -markCPU()
	for b.Loop() {
		start := time.Now()
		runtime.GC()
		wall += time.Since(start)
	}
	cpu += markCPU()
	b.ReportMetric(float64(wall.Microseconds())/1000/float64(b.N), "ms/collection")
	b.ReportMetric(cpu*1000/float64(b.N), "mark-cpu-ms/collection")
	runtime.KeepAlive(x)
}
