package route

import (
	"math"
	"math/bits"
	"math/rand/v2"
	"testing"

	"everywhere/geo"
)

// TestReachCellBound checks the margin Reach widens a helper's reach by:
// no place is further than reachCellM from the centre of the
// ReachResolution ancestor of its finest cell, the cell Reach caches by.
// (An ancestor is not always the cell that holds the place: H3's children
// overhang their parent a little, so this is measured on ancestors.)
func TestReachCellBound(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	worst := 0.0
	for range 200_000 {
		lat, lng := r.Float64()*120-60, r.Float64()*360-180
		c := geo.Parent(geo.Cell(lat, lng, geo.Finest), ReachResolution)
		clat, clng := geo.Centre(c)
		worst = max(worst, geo.DistanceM(lat, lng, clat, clng))
	}
	t.Logf("furthest place from its cell's centre: %.0f m", worst)
	if worst > reachCellM {
		t.Fatalf("a place lies %.0f m from the centre of its reach cell; reachCellM is %d", worst, reachCellM)
	}
}

// TestReachHoldsEveryNeedInRange: a helper goes to the partition of every
// need that may reach them, a need at most maxRadiusM away in any
// direction, including across regions' edges; and the cache's widening
// sends them to few partitions beyond those: within a tenth of the exact
// count, on average, over a city spread across several regions.
func TestReachHoldsEveryNeedInRange(t *testing.T) {
	const maxRadiusM = 20_000
	const mPerDeg = geo.EarthRadiusM * math.Pi / 180
	reg := NewRegions(3, maxRadiusM, 8)
	r := rand.New(rand.NewPCG(7, 8))
	cached, exact := 0, 0
	for range 20_000 {
		lat := 30.27 + r.NormFloat64()*0.3
		lng := 120.15 + r.NormFloat64()*0.3
		reach := reg.Reach(geo.Cell(lat, lng, 9))
		cached += bits.OnesCount64(reach)
		exact += bits.OnesCount64(reg.reachOf(lat, lng, maxRadiusM))
		for range 4 {
			d, a := math.Sqrt(r.Float64())*maxRadiusM*0.999, r.Float64()*2*math.Pi
			nlat := lat + d*math.Cos(a)/mPerDeg
			nlng := lng + d*math.Sin(a)/(mPerDeg*math.Cos(lat*math.Pi/180))
			if _, p := reg.Of(nlat, nlng); reach&(1<<p) == 0 {
				t.Fatalf("a helper at %.5f,%.5f reaches partitions %b, not %d of a need %.0f m away", lat, lng, reach, p, geo.DistanceM(lat, lng, nlat, nlng))
			}
		}
	}
	t.Logf("partitions per helper: %.3f cached, %.3f exact", float64(cached)/20_000, float64(exact)/20_000)
	if cached > exact*11/10 {
		t.Fatalf("partitions per helper: %.3f cached against %.3f exact", float64(cached)/20_000, float64(exact)/20_000)
	}
}
