package match

import (
	"math/rand/v2"
	"runtime"
	"slices"
	"strconv"
	"testing"
	"time"

	"everywhere/events"
	"everywhere/geo"
)

var sizes = []int{10_000, 100_000, 1_000_000}

// BenchmarkQuery is the top-10 query within 3 km in a 25 x 30 km city
// with 30% of the helpers in a 1 km hot spot, needs spread like the
// helpers (each a few metres from one); the cost should stay flat as the
// city grows.
func BenchmarkQuery(b *testing.B) {
	for _, n := range sizes {
		b.Run("helpers="+strconv.Itoa(n), func(b *testing.B) {
			x, needs := queryCity(n, 1024, 10)
			dst := make([]Suggestion, 0, 10)
			lat := make([]time.Duration, 0, 1<<16)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				start := time.Now()
				dst = x.Query(&needs[i%len(needs)], needs[i%len(needs)].TS, 10, dst[:0])
				if len(lat) < cap(lat) {
					lat = append(lat, time.Since(start))
				}
			}
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)/2].Nanoseconds())/1000, "p50-us")
			b.ReportMetric(float64(lat[len(lat)*99/100].Nanoseconds())/1000, "p99-us")
			b.ReportMetric(recall(x, needs[:64]), "recall")
		})
	}
}

// BenchmarkQueryCold is BenchmarkQuery's query as the engine makes it for
// a new need, k and the reserve, with the caches cold: between two needs
// the engine does everything else, and a query in a warm benchmark cost a
// quarter of what it cost there. Before each query it reads 32 MiB, off
// the clock; one iteration times 400 queries and reports their mean.
func BenchmarkQueryCold(b *testing.B) {
	for _, n := range sizes[:2] {
		b.Run("helpers="+strconv.Itoa(n), func(b *testing.B) {
			x, needs := queryCity(n, 400, 10+Reserve)
			dst := make([]Suggestion, 0, 10+Reserve)
			junk := make([]int64, 4<<20)
			var spent time.Duration
			b.ReportAllocs()
			for b.Loop() {
				spent = 0
				for i := range needs {
					for j := 0; j < len(junk); j += 8 { // a word a cache line
						junk[j]++
					}
					start := time.Now()
					dst = x.Query(&needs[i], needs[i].TS, 10+Reserve, dst[:0])
					spent += time.Since(start)
				}
			}
			b.ReportMetric(float64(spent.Nanoseconds())/float64(len(needs))/1000, "cold-us")
		})
	}
}

// queryCity is the city of the query benchmarks with n helpers, and
// count needs spread like the helpers (each a few metres from one), each
// queried once for k helpers so that the cells' neighbours are known.
func queryCity(n, count, k int) (*Index, []events.Need) {
	p := DefaultParams()
	x := NewIndex(&p)
	r := rand.New(rand.NewPCG(1, 2))
	city(r, x, n, 0.3)
	needs := make([]events.Need, count)
	for i := range needs {
		h := &x.helpers[r.IntN(len(x.helpers))]
		lat, lng := jitter(float64(h.lat), float64(h.lng), i)
		needs[i] = events.Need{NeedID: "n", UserID: "r", TS: now, Category: events.Categories[i%6],
			Lat: lat, Lng: lng, RadiusM: 3000}
	}
	var dst []Suggestion
	for i := range needs {
		dst = x.Query(&needs[i], needs[i].TS, k, dst[:0])
	}
	return x, needs
}

// recall is the share of the exact top 10 (brute) that Query finds for
// the needs: what MaxPerCell and MaxExamined give up for bounded work.
func recall(x *Index, needs []events.Need) float64 {
	found, total := 0, 0
	for i := range needs {
		got := x.Query(&needs[i], needs[i].TS, 10, nil)
		for _, w := range brute(x, &needs[i], 10) {
			total++
			for _, g := range got {
				if g.HelperID == w.HelperID {
					found++
					break
				}
			}
		}
	}
	return float64(found) / float64(total)
}

// BenchmarkStadium: 50,000 available helpers in one cell, all alike: one
// place, one ping time, the newcomer's record. The worst case of the
// bound on a cell's work: every helper examined ties with the k-th best
// and is ranked by id.
func BenchmarkStadium(b *testing.B) {
	p := DefaultParams()
	x := NewIndex(&p)
	for i := range 50_000 {
		x.Ping(&events.Ping{UserID: "fan" + strconv.Itoa(i), TS: now, Lat: 30.27, Lng: 120.15, Available: true})
	}
	benchmarkStadium(b, x)
}

// BenchmarkStadiumCrowd: 50,000 available helpers in one cell, as a crowd
// is: within 60 m of the cell's centre, pings over the last ten minutes,
// records of their own.
func BenchmarkStadiumCrowd(b *testing.B) {
	p := DefaultParams()
	x := NewIndex(&p)
	r := rand.New(rand.NewPCG(9, 10))
	clat, clng := geo.Centre(geo.Cell(30.27, 120.15, Resolution))
	const m = 1.0 / 111_195 // a metre in degrees of latitude
	for i := range 50_000 {
		id := "fan" + strconv.Itoa(i)
		lat, lng := clat+(r.Float64()-0.5)*120*m, clng+(r.Float64()-0.5)*120*m/CosLat(clat)
		x.Ping(&events.Ping{UserID: id, TS: now - r.Int64N(MaxPingAge), Lat: lat, Lng: lng, Available: true})
		record(r, x, id)
	}
	if len(x.cells) != 1 {
		b.Fatalf("the crowd fills %d cells, not one", len(x.cells))
	}
	benchmarkStadium(b, x)
}

// benchmarkStadium times a need's query at the stadium of x, reporting
// its p50 beside the mean.
func benchmarkStadium(b *testing.B, x *Index) {
	n := events.Need{NeedID: "n", UserID: "r", TS: now, Category: events.Ride, Lat: 30.27, Lng: 120.15, RadiusM: 3000}
	var dst []Suggestion
	lat := make([]time.Duration, 0, 1<<16)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		start := time.Now()
		dst = x.Query(&n, n.TS, 10, dst[:0])
		if len(lat) < cap(lat) {
			lat = append(lat, time.Since(start))
		}
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Nanoseconds())/1000, "p50-us")
}

// jitter moves a ping's position by up to 30 m each time it is sent
// again, as a helper walking about between pings: most pings stay in
// their cell, some cross into the next.
func jitter(lat, lng float64, i int) (float64, float64) {
	const m = 1.0 / 111_195
	return lat + float64(i*7919%61-30)*m, lng + float64(i*104729%61-30)*m
}

// BenchmarkPing is the index update per ping of a known helper.
func BenchmarkPing(b *testing.B) {
	p := DefaultParams()
	x := NewIndex(&p)
	r := rand.New(rand.NewPCG(5, 6))
	city(r, x, 100_000, 0.3)
	pings := make([]events.Ping, 4096)
	for i := range pings {
		pings[i] = events.Ping{UserID: "h" + strconv.Itoa(r.IntN(100_000)), Lat: 30.15 + r.Float64()*0.225, Lng: 120.0 + r.Float64()*0.31, Available: i%5 != 0}
	}
	ts := now
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		ts++
		pg := pings[i%len(pings)]
		pg.TS = ts
		pg.Lat, pg.Lng = jitter(pg.Lat, pg.Lng, i)
		x.Ping(&pg)
	}
}

// BenchmarkBytesPerHelper is the heap held per available helper, ids,
// maps and cells included, at 200,000 helpers.
func BenchmarkBytesPerHelper(b *testing.B) {
	const n = 200_000
	for b.Loop() {
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		p := DefaultParams()
		x := NewIndex(&p)
		r := rand.New(rand.NewPCG(7, 8))
		for i := range n {
			x.Ping(&events.Ping{UserID: "u" + strconv.Itoa(i), TS: now, Lat: 30.15 + r.Float64()*0.225, Lng: 120.0 + r.Float64()*0.31, Available: true})
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/n, "bytes/helper")
		runtime.KeepAlive(x)
	}
}

// BenchmarkDecodeAndIndex is a ping's whole cost without Kafka: decode
// and validate its JSON, then update the helper index.
func BenchmarkDecodeAndIndex(b *testing.B) {
	p := DefaultParams()
	x := NewIndex(&p)
	r := rand.New(rand.NewPCG(5, 6))
	city(r, x, 100_000, 0.3)
	msgs := make([][]byte, 4096)
	for i := range msgs {
		pg := events.Ping{UserID: "h" + strconv.Itoa(r.IntN(100_000)), TS: now + int64(i), Lat: 30.15 + r.Float64()*0.225, Lng: 120.0 + r.Float64()*0.31, Available: i%5 != 0}
		msgs[i] = pg.AppendJSON(nil)
	}
	d := events.NewDecoder("CNY")
	var pg events.Ping
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if err := d.Ping(msgs[i%len(msgs)], &pg); err != nil {
			b.Fatal(err)
		}
		pg.TS = now + int64(i)
		pg.Lat, pg.Lng = jitter(pg.Lat, pg.Lng, i)
		x.Ping(&pg)
	}
}
