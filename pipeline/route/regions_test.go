package route

import (
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
