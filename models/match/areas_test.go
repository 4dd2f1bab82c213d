package match

import (
	"math/rand/v2"
	"strconv"
	"testing"

	"everywhere/events"
	"everywhere/geo"
)

// TestAreaHoldsItsCells: gather takes a cell's area to lie within
// needCellM of the cell, which holds where H3's cells of Resolution sit
// a little outside their NeedResolution parent.
func TestAreaHoldsItsCells(t *testing.T) {
	r := rand.New(rand.NewPCG(21, 22))
	worst := 0.0
	for range 20_000 {
		lat, lng := -60+r.Float64()*120, -180+r.Float64()*360
		c := geo.Cell(lat, lng, Resolution)
		clat, clng := geo.Centre(c)
		alat, alng := geo.Centre(geo.Parent(c, NeedResolution))
		worst = max(worst, geo.DistanceM(clat, clng, alat, alng))
	}
	if worst > needCellM-100 {
		t.Fatalf("a cell's centre lies %.0f m from its area's, over needCellM (%d m) less a margin", worst, needCellM)
	}
}

// TestGatherAnswersAsTheWalk: where it applies, looking only at the cells
// that hold helpers gives what the ring walk gives, to the last bit,
// while helpers move, come and go; and each area lists exactly its cells
// that hold helpers.
func TestGatherAnswersAsTheWalk(t *testing.T) {
	p := DefaultParams()
	r := rand.New(rand.NewPCG(23, 24))
	gathered, walked := 0, 0
	for _, size := range []int{300, 3_000, 20_000} {
		x := NewIndex(&p)
		city(r, x, size, 0.05)
		for q := range 400 {
			// Some helpers move or change their availability between queries.
			for range 20 {
				id := "h" + strconv.Itoa(r.IntN(size))
				x.Ping(&events.Ping{UserID: id, TS: now - r.Int64N(MaxPingAge), Lat: 30.15 + r.Float64()*0.225, Lng: 120.0 + r.Float64()*0.31, Available: r.Float64() < 0.8})
			}
			n := events.Need{NeedID: "n", UserID: "h" + strconv.Itoa(q), TS: now, Category: events.Categories[q%6],
				Lat: 30.16 + r.Float64()*0.2, Lng: 120.01 + r.Float64()*0.29, RadiusM: []float64{500, 1000, 3000, 8000}[q%4]}
			if q%5 == 0 { // in the hotspot
				n.Lat, n.Lng = 30.2741, 120.1551
			}
			x.ringsOnly = false
			got := x.Query(&n, n.TS, 10, nil)
			if x.gather(&n) {
				gathered++
			} else {
				walked++
			}
			x.ringsOnly = true
			want := x.Query(&n, n.TS, 10, nil)
			if len(got) != len(want) {
				t.Fatalf("%d helpers, query %d: %d suggestions, the walk gives %d", size, q, len(got), len(want))
			}
			for i := range got {
				if got[i].HelperID != want[i].HelperID || got[i].Score != want[i].Score || got[i].DistanceM != want[i].DistanceM {
					t.Fatalf("%d helpers, query %d, rank %d: %+v, the walk gives %+v", size, q, i+1, got[i], want[i])
				}
			}
		}
		checkAreas(t, x)
	}
	if gathered == 0 || walked == 0 {
		t.Fatalf("%d queries gathered, %d walked: the test must try both", gathered, walked)
	}
}

// checkAreas fails unless every area lists exactly its cells holding
// helpers, each where the cell says with its count and centre, and
// counts their helpers.
func checkAreas(t *testing.T, x *Index) {
	t.Helper()
	helpers := make([]int32, len(x.areas.at))
	for _, cl := range x.cellv {
		a := &x.areas.at[cl.area]
		listed := cl.inArea >= 0 && int(cl.inArea) < len(a.cells) && a.cells[cl.inArea].num == cl.num
		if listed != (cl.count > 0) {
			t.Fatalf("cell %d holds %d helpers; listed in its area: %v", cl.num, cl.count, listed)
		}
		if !listed {
			continue // holds no helper
		}
		if ac := &a.cells[cl.inArea]; ac.count != cl.count || ac.lat != cl.lat || ac.lng != cl.lng {
			t.Fatalf("cell %d holds %d helpers, centre %v %v; its area's list says %d, %v %v",
				cl.num, cl.count, cl.lat, cl.lng, ac.count, ac.lat, ac.lng)
		}
		helpers[cl.area] += cl.count
	}
	for i := range x.areas.at {
		if a := &x.areas.at[i]; a.helpers != helpers[i] {
			t.Fatalf("area %d counts %d helpers, its cells hold %d", i, a.helpers, helpers[i])
		}
	}
}
