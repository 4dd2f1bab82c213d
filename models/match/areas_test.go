package match

import (
	"math/rand/v2"
	"strconv"
	"strings"
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
// that hold helpers. Where a budget may bind, the cells are taken
// nearest first, and the answers agree whenever neither way was cut
// short by MaxExamined (until then each cell's helpers are examined
// alike whatever the order).
func TestGatherAnswersAsTheWalk(t *testing.T) {
	p := DefaultParams()
	r := rand.New(rand.NewPCG(23, 24))
	paths := map[scanOrder]int{}
	cut := 0
	for _, c := range []struct{ size, stadiums int }{{300, 0}, {3_000, 0}, {20_000, 0}, {2_000, 4}} {
		x := NewIndex(&p)
		city(r, x, c.size, 0.05)
		stadiums(r, x, c.stadiums)
		for q := range 400 {
			// Some helpers move or change their availability between queries.
			for range 20 {
				id := "h" + strconv.Itoa(r.IntN(c.size))
				x.Ping(&events.Ping{UserID: id, TS: now - r.Int64N(MaxPingAge), Lat: 30.15 + r.Float64()*0.225, Lng: 120.0 + r.Float64()*0.31, Available: r.Float64() < 0.8})
			}
			n := events.Need{NeedID: "n", UserID: "h" + strconv.Itoa(q), TS: now, Category: events.Categories[q%6],
				Lat: 30.16 + r.Float64()*0.2, Lng: 120.01 + r.Float64()*0.29, RadiusM: []float64{500, 1000, 3000, 8000}[q%4]}
			switch {
			case q%5 == 0: // in the hotspot
				n.Lat, n.Lng = 30.2741, 120.1551
			case q%5 == 1 && c.stadiums > 0: // by a stadium
				n.Lat, n.Lng = stadiumAt(r.IntN(c.stadiums))
				n.Lat += (r.Float64() - 0.5) * 0.01
			}
			x.ringsOnly = false
			got := x.Query(&n, n.TS, 10, nil)
			gotExamined := x.examined
			path := x.gather(&n)
			paths[path]++
			x.ringsOnly = true
			want := x.Query(&n, n.TS, 10, nil)
			if path == nearestFirst && max(gotExamined, x.examined) >= MaxExamined {
				cut++
				continue
			}
			if len(got) != len(want) {
				t.Fatalf("%d helpers, query %d: %d suggestions, the walk gives %d", c.size, q, len(got), len(want))
			}
			for i := range got {
				if got[i].HelperID != want[i].HelperID || got[i].Score != want[i].Score || got[i].DistanceM != want[i].DistanceM {
					t.Fatalf("%d helpers, query %d, rank %d: %+v, the walk gives %+v", c.size, q, i+1, got[i], want[i])
				}
			}
		}
		checkAreas(t, x)
	}
	t.Logf("queries by path: %d in any order, %d nearest first (%d of them cut short by MaxExamined), %d walked",
		paths[anyOrder], paths[nearestFirst], cut, paths[walkRings])
	if paths[anyOrder] == 0 || paths[nearestFirst]-cut == 0 || paths[walkRings] == 0 {
		t.Fatalf("queries by path: %v, %d cut short: the test must try each", paths, cut)
	}
}

// stadiumAt is the place of stadium i, about 2.2 km north of the last.
func stadiumAt(i int) (lat, lng float64) { return 30.17 + 0.02*float64(i), 120.05 }

// stadiums puts 150 to 600 available helpers, more than MaxPerCell, at
// each of n stadiums, within 20 m of its centre.
func stadiums(r *rand.Rand, x *Index, n int) {
	for s := range n {
		lat, lng := stadiumAt(s)
		for i := range 150 + r.IntN(450) {
			id := "s" + strconv.Itoa(s) + "-" + strconv.Itoa(i)
			x.Ping(&events.Ping{UserID: id, TS: now - r.Int64N(MaxPingAge), Available: true,
				Lat: lat + (r.Float64()-0.5)*0.0003, Lng: lng + (r.Float64()-0.5)*0.0003})
			profile(r, x, id)
		}
	}
}

// TestStadiumsNearestFirst: where the cells holding helpers are few but
// hold more than a query may examine, it examines the nearest cells'
// helpers, as the walk does, and leaves the farthest out, even where
// they would score best.
func TestStadiumsNearestFirst(t *testing.T) {
	p := DefaultParams()
	// Distance weighs little, so that every crowd's best band may still
	// rank and is examined, and the farthest, who alone have the need's
	// skill, would rank first if examined.
	p.Weights = Weights{Distance: 0.05, Reliability: 0.25, Skill: 0.15, Credit: 0.5, Recency: 0.05}
	x := NewIndex(&p)
	// Five crowds 400 m apart along a line from the need: MaxExamined
	// takes 128 from each of the first three and 64 from the fourth.
	// They come farthest first, so that their areas list them so.
	for s := 4; s >= 0; s-- {
		for i := range 300 {
			id := "c" + strconv.Itoa(s) + "-" + strconv.Itoa(i)
			x.Ping(&events.Ping{UserID: id, TS: now, Available: true, Lat: 30.27 + float64(s)*0.0036, Lng: 120.15})
			var skills events.SkillSet
			if s == 4 {
				skills = 1 << events.Ride
			}
			x.Profile(&events.Profile{UserID: id, TS: now, Skills: skills, HasSkills: true, CreditScore: 700})
		}
	}
	n := events.Need{NeedID: "n", UserID: "r", TS: now, Category: events.Ride, Lat: 30.27, Lng: 120.15, RadiusM: 3000}
	got := x.Query(&n, n.TS, 10, nil)
	if path := x.gather(&n); path != nearestFirst {
		t.Fatalf("gather chose path %d, want nearestFirst (%d)", path, nearestFirst)
	}
	if x.examined != MaxExamined {
		t.Fatalf("examined %d helpers, want MaxExamined (%d)", x.examined, MaxExamined)
	}
	if all := brute(x, &n, 1); len(all) != 1 || !strings.HasPrefix(all[0].HelperID, "c4-") {
		t.Fatalf("the best of all is %+v; the test wants one of the farthest crowd", all)
	}
	x.ringsOnly = true
	want := x.Query(&n, n.TS, 10, nil)
	if len(got) != 10 || len(want) != 10 {
		t.Fatalf("%d suggestions, the walk %d", len(got), len(want))
	}
	for i := range got {
		if got[i].HelperID != want[i].HelperID || got[i].Score != want[i].Score {
			t.Fatalf("rank %d: %+v, the walk gives %+v", i+1, got[i], want[i])
		}
		if strings.HasPrefix(got[i].HelperID, "c4-") {
			t.Fatalf("rank %d is %s, of the crowd past MaxExamined", i+1, got[i].HelperID)
		}
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
