package geo

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"testing"
)

// TestLocatorMatchesCell compares Locate with Cell where it is hardest:
// points scattered over the globe, and points a few metres either side
// of cell edges, after the locator has guessed a cell for every square.
func TestLocatorMatchesCell(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	for _, res := range []int{7, 8, 9, 10} {
		l := NewGuesses(res, 17).Locator()
		check := func(lat, lng float64) {
			if got, want := l.Locate(lat, lng), Cell(lat, lng, res); got != want {
				t.Fatalf("res %d: Locate(%v, %v) = %x, Cell says %x", res, lat, lng, got, want)
			}
		}
		for range 20_000 {
			check(r.Float64()*170-85, r.Float64()*360-180)
		}
		// Around cells of a city and of places far apart: each cell's
		// corners and points along its edges, jittered by up to 3 m.
		for _, at := range [][2]float64{{30.27, 120.15}, {59.9, 10.7}, {-33.9, 151.2}, {0.1, 179.999}, {64.1, -21.9}} {
			for _, c := range AppendDisk(nil, Cell(at[0], at[1], res), 3) {
				b := AppendBoundary(nil, c)
				for i := range b {
					p, q := b[i], b[(i+1)%len(b)]
					for f := 0.0; f <= 1; f += 0.05 {
						lat, lng := p[0]+(q[0]-p[0])*f, p[1]+(q[1]-p[1])*f
						for range 4 {
							dy, dx := (r.Float64()*6-3)/metresPerDegree, (r.Float64()*6-3)/metresPerDegree/math.Cos(lat*math.Pi/180)
							check(lat+dy, lng+dx)
						}
					}
				}
			}
		}
	}
}

// TestLocatorCallsIntoCRarely: pings around homes in a city, the load the
// locator is for, call into C for few of them once the squares are known,
// also when the squares were learnt by another goroutine's locator.
func TestLocatorCallsIntoCRarely(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	g := NewGuesses(8, 17)
	homes := make([][2]float64, 2000)
	for i := range homes {
		homes[i] = [2]float64{30.15 + r.Float64()*0.225, 120.0 + r.Float64()*0.31}
	}
	const pings = 200_000
	for range pings { // another partition warms the table
		h := homes[r.IntN(len(homes))]
		g.Locator().Locate(h[0]+r.NormFloat64()*30/metresPerDegree, h[1]+r.NormFloat64()*30/metresPerDegree)
	}
	l := g.Locator()
	for range pings {
		h := homes[r.IntN(len(homes))]
		lat, lng := h[0]+r.NormFloat64()*30/metresPerDegree, h[1]+r.NormFloat64()*30/metresPerDegree
		if got, want := l.Locate(lat, lng), Cell(lat, lng, 8); got != want {
			t.Fatalf("Locate(%v, %v) = %x, Cell says %x", lat, lng, got, want)
		}
	}
	if l.calls > pings/10 {
		t.Fatalf("%d calls into C for %d pings", l.calls, pings)
	}
	t.Logf("%d calls into C for %d pings", l.calls, pings)
	// From each home's last cell: a helper seen before is placed from
	// where they were.
	l.calls = 0
	last := make([]uint64, len(homes))
	for range pings {
		i := r.IntN(len(homes))
		lat, lng := homes[i][0]+r.NormFloat64()*30/metresPerDegree, homes[i][1]+r.NormFloat64()*30/metresPerDegree
		got, want := l.LocateFrom(last[i], lat, lng), Cell(lat, lng, 8)
		if got != want {
			t.Fatalf("LocateFrom(%x, %v, %v) = %x, Cell says %x", last[i], lat, lng, got, want)
		}
		last[i] = got
	}
	if l.calls > pings/10 {
		t.Fatalf("%d calls into C for %d pings", l.calls, pings)
	}
	t.Logf("%d calls into C for %d pings", l.calls, pings)
}

// TestLocatorsShareGuesses: locators of several goroutines share one
// table of guesses and outlines, each learning from what the others
// stored, and all answer as Cell does (run with -race, it also checks
// that sharing is safe).
func TestLocatorsShareGuesses(t *testing.T) {
	g := NewGuesses(9, 12) // small: cells share slots and replace each other
	var wg sync.WaitGroup
	errs := make(chan string, 4)
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(w), 21))
			l := g.Locator()
			var prev uint64
			for range 20_000 {
				lat, lng := 30.15+r.Float64()*0.225, 120.0+r.Float64()*0.31
				want := Cell(lat, lng, 9)
				if got := l.Locate(lat, lng); got != want {
					errs <- fmt.Sprintf("Locate(%v, %v) = %x, Cell says %x", lat, lng, got, want)
					return
				}
				if got := l.LocateFrom(prev, lat, lng); got != want {
					errs <- fmt.Sprintf("LocateFrom(%x, %v, %v) = %x, Cell says %x", prev, lat, lng, got, want)
					return
				}
				prev = want
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

// TestLocateFromMatchesCell: points that move up to 400 m from the cell
// they were in, most into the next cell or the one after, are placed as
// Cell places them, in cities north and south, east and west.
func TestLocateFromMatchesCell(t *testing.T) {
	r := rand.New(rand.NewPCG(15, 16))
	for _, res := range []int{8, 9, 10} {
		l := NewLocator(res)
		for _, at := range [][2]float64{{30.27, 120.15}, {59.9, 10.7}, {-33.9, 151.2}, {64.1, -21.9}, {-0.2, -78.5}} {
			lat, lng := at[0], at[1]
			prev := Cell(lat, lng, res)
			for range 5_000 {
				lat += r.NormFloat64() * 200 / metresPerDegree
				lng += r.NormFloat64() * 200 / metresPerDegree / math.Cos(lat*math.Pi/180)
				got, want := l.LocateFrom(prev, lat, lng), Cell(lat, lng, res)
				if got != want {
					t.Fatalf("res %d: LocateFrom(%x, %v, %v) = %x, Cell says %x", res, prev, lat, lng, got, want)
				}
				prev = got
				lat, lng = at[0]+(lat-at[0])*0.9, at[1]+(lng-at[1])*0.9 // stay about the city
			}
		}
		t.Logf("res %d: %d calls into C for 25,000 moves", res, l.calls)
	}
}

func BenchmarkLocate(b *testing.B) {
	r := rand.New(rand.NewPCG(13, 14))
	l := NewGuesses(8, 17).Locator()
	pts := make([][2]float64, 4096)
	for i := range pts {
		pts[i] = [2]float64{30.15 + r.Float64()*0.225, 120.0 + r.Float64()*0.31}
	}
	for _, p := range pts {
		l.Locate(p[0], p[1])
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		p := pts[i%len(pts)]
		_ = l.Locate(p[0]+1e-6, p[1])
	}
}

// BenchmarkLocateCity locates pings around 200,000 homes of a 30 x 25 km
// city at resolution 9, by eight locators sharing one table of guesses,
// each taking pings in turn, as the partitions of a catch-up do: some
// 7,000 cells, more than the caches hold.
func BenchmarkLocateCity(b *testing.B) {
	r := rand.New(rand.NewPCG(17, 18))
	g := NewGuesses(9, 17)
	ls := make([]*Locator, 8)
	for i := range ls {
		ls[i] = g.Locator()
	}
	homes := make([][2]float64, 200_000)
	for i := range homes {
		homes[i] = [2]float64{30.15 + r.Float64()*0.225, 120.0 + r.Float64()*0.31}
	}
	pts := make([][2]float64, 1<<20)
	for i := range pts {
		h := homes[r.IntN(len(homes))]
		pts[i] = [2]float64{h[0] + r.NormFloat64()*30/metresPerDegree, h[1] + r.NormFloat64()*30/metresPerDegree}
	}
	for i, p := range pts {
		ls[i%len(ls)].Locate(p[0], p[1])
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		p := pts[(i*7919)%len(pts)]
		_ = ls[i%len(ls)].Locate(p[0], p[1])
	}
	calls := 0
	for _, l := range ls {
		calls += l.calls
	}
	b.ReportMetric(float64(calls)/float64(b.N+len(pts)), "calls/op")
}
