package match

import (
	"math/rand/v2"
	"slices"
	"testing"

	"everywhere/geo"
)

// TestPlaceFindsEveryCellWithinReach: a need is placed in exactly the
// cells whose centre lies within its radius and needCellM, as found from
// a disk wide enough by far, whatever radius the needs of its cell asked
// for before (the cell's disk is then wider than its own).
func TestPlaceFindsEveryCellWithinReach(t *testing.T) {
	p := DefaultParams()
	m := NewMatcher(&p, 10)
	r := rand.New(rand.NewPCG(11, 12))
	radii := []float64{500, 1000, 3000, 5000, 12_000, 20_000}
	for i := range 200 {
		// Needs come in pairs from one spot, so a cell's disk is often
		// kept from a wider need before.
		lat, lng := -60+r.Float64()*120, -180+r.Float64()*360
		if i%2 == 1 {
			lat, lng = m.needs[i-1].ev.Lat, m.needs[i-1].ev.Lng
		}
		ni := m.alloc()
		n := &m.needs[ni]
		n.ev.Lat, n.ev.Lng = lat, lng
		n.ev.RadiusM = radii[r.IntN(len(radii))]
		n.cosLat = CosLat(lat)
		m.place(ni)
		cellOf := map[int32]uint64{}
		for c, num := range m.places.cells.nums {
			cellOf[num] = c
		}
		var got []uint64
		for _, at := range n.cells {
			got = append(got, cellOf[at.num])
		}
		reach := n.ev.RadiusM + needCellM
		var want []uint64
		for _, c := range geo.AppendDisk(nil, geo.Cell(lat, lng, NeedResolution), int(reach/needSpacingM)+6) {
			clat, clng := geo.Centre(c)
			if flatDistM(lat, lng, n.cosLat, clat, clng) <= reach {
				want = append(want, c)
			}
		}
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Fatalf("need %d at %.4f,%.4f, radius %.0f m: placed in %d cells, %d lie within reach", i, lat, lng, n.ev.RadiusM, len(got), len(want))
		}
	}
}
