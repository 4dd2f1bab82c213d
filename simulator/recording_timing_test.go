package simulator

import "testing"

// BenchmarkRecord records a million events of the load, as a latency
// measurement does before it starts (ns per event).
func BenchmarkRecord(b *testing.B) {
	c := DefaultLoad()
	c.Events = 1_000_000
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Record(NewLoad(c), c.Events); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(c.Events), "ns/event")
}
