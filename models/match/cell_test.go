package match

import (
	"cmp"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"

	"everywhere/events"
	"everywhere/geo"
)

// TestDenseCellExaminesTheBestFirst: in a cell of a thousand, the five
// helpers with the best records are found though they pinged first, the
// ones a most-recent-first rule would reach last.
func TestDenseCellExaminesTheBestFirst(t *testing.T) {
	p := DefaultParams()
	x := NewIndex(&p)
	for i := range 1000 {
		id := "h" + strconv.Itoa(i)
		x.Ping(&events.Ping{UserID: id, TS: now + int64(i), Lat: 30.27, Lng: 120.15, Available: true})
		if i < 5 {
			x.Profile(&events.Profile{UserID: id, TS: now, CreditScore: events.MaxCredit})
			for j := range 20 {
				x.Outcome(&events.Outcome{NeedID: "n" + strconv.Itoa(j), HelperID: id, TS: now, Outcome: events.Completed, Rating: 5})
			}
		}
	}
	n := events.Need{NeedID: "n", UserID: "r", TS: now + 1000, Category: events.Ride, Lat: 30.27, Lng: 120.15, RadiusM: 3000}
	got := x.Query(&n, n.TS, 5, nil)
	for i, s := range got {
		if id, err := strconv.Atoi(s.HelperID[1:]); err != nil || id >= 5 {
			t.Fatalf("rank %d is %s, not one of the five best: %v", i, s.HelperID, ids(got))
		}
	}
	if len(got) != 5 || x.examined > MaxPerCell {
		t.Fatalf("%d found, %d examined", len(got), x.examined)
	}
}

// TestDenseCellStopsAtABandThatCannotRank: in a cell of a thousand whose
// five best (by record and credit, with the need's skill) fill the top
// band, a query for three ranks that band and stops at the next, whose
// best bound cannot beat its third: it examines five helpers, and finds
// the three a ranking of every helper finds.
func TestDenseCellStopsAtABandThatCannotRank(t *testing.T) {
	p := DefaultParams()
	x := NewIndex(&p)
	var ride events.SkillSet = 1 << events.Ride
	for i := range 1000 {
		id := "h" + strconv.Itoa(i)
		x.Ping(&events.Ping{UserID: id, TS: now + int64(i%7), Lat: 30.27, Lng: 120.15 + float64(i%11)*1e-5, Available: true})
		if i < 5 {
			x.Profile(&events.Profile{UserID: id, TS: now, CreditScore: events.MaxCredit, Skills: ride, HasSkills: true})
			for j := range 20 {
				x.Outcome(&events.Outcome{NeedID: "n" + strconv.Itoa(j), HelperID: id, TS: now, Outcome: events.Completed, Rating: 5})
			}
		}
	}
	n := events.Need{NeedID: "n", UserID: "r", TS: now + 10, Category: events.Ride, Lat: 30.27, Lng: 120.15, RadiusM: 3000}
	got := x.Query(&n, n.TS, 3, nil)
	if x.examined != 5 {
		t.Fatalf("%d helpers examined, want the top band's 5", x.examined)
	}
	var all []Suggestion
	for i := range 1000 {
		slot, _ := x.ids.Find("h" + strconv.Itoa(i))
		if s, ok := x.Suggest(slot, &n, n.TS); ok {
			all = append(all, s)
		}
	}
	slices.SortFunc(all, func(a, b Suggestion) int {
		if a.Score != b.Score {
			return cmp.Compare(b.Score, a.Score)
		}
		return strings.Compare(a.HelperID, b.HelperID)
	})
	if want := ids(all[:3]); !slices.Equal(ids(got), want) {
		t.Fatalf("found %v, a ranking of all finds %v", ids(got), want)
	}
}

// TestCellListsStayConsistent moves helpers about a few cells, so that
// cells sort and flatten again many times, changing their records and
// credit on the way: every available helper must stay where its slot and
// bucket say, in the bucket of its bound, and the masks and counts must
// agree with the lists.
func TestCellListsStayConsistent(t *testing.T) {
	p := DefaultParams()
	x := NewIndex(&p)
	r := rand.New(rand.NewPCG(9, 10))
	const users = 600
	sorts, flattenings, was := 0, 0, 0
	for step := range 60_000 {
		id := "h" + strconv.Itoa(r.IntN(users))
		switch r.IntN(10) {
		case 0:
			x.Profile(&events.Profile{UserID: id, TS: now, CreditScore: events.MinCredit + r.IntN(events.MaxCredit-events.MinCredit+1)})
		case 1:
			x.Outcome(&events.Outcome{NeedID: "n" + strconv.Itoa(step), HelperID: id, TS: now, Outcome: []events.OutcomeKind{events.Completed, events.NoShow}[r.IntN(2)], Rating: 1 + r.IntN(5)})
		default:
			// Three cells' worth of ground, crowded at times into one.
			spread := 0.006 * float64(step%20_000) / 20_000
			x.Ping(&events.Ping{UserID: id, TS: now + int64(step), Lat: 30.27 + r.Float64()*spread, Lng: 120.15 + r.Float64()*spread, Available: r.IntN(8) != 0})
		}
		if step%997 == 0 {
			now := checkCells(t, x)
			sorts += max(now-was, 0)
			flattenings += max(was-now, 0)
			was = now
		}
	}
	checkCells(t, x)
	if sorts < 3 || flattenings < 3 {
		t.Fatalf("cells sorted %d times and flattened %d times: too few to test", sorts, flattenings)
	}
}

// checkCells checks x's cells and returns how many are sorted.
func checkCells(t *testing.T, x *Index) (sorted int) {
	t.Helper()
	seen := 0
	for _, cl := range x.cellv {
		lists := 1
		if cl.sorted != nil {
			lists = staticBuckets
		}
		n := 0
		for b := range lists {
			l := *cl.list(uint8(b))
			if (len(l) > 0) != (cl.full&(1<<b) != 0) {
				t.Fatalf("cell %x list %d: %d helpers, mask %b", cl.id, b, len(l), cl.full)
			}
			for i, m := range l {
				h := &x.helpers[m.slot]
				if h.cell != cl.id || int(h.slot) != i || int(h.bucket) != b {
					t.Fatalf("%s listed in cell %x list %d at %d, thinks cell %x list %d at %d", x.id(m.slot), cl.id, b, i, h.cell, h.bucket, h.slot)
				}
				if cl.sorted != nil && x.bands.of(m.static) != uint8(b) {
					t.Fatalf("%s with bound %d in bucket %d, not %d", x.id(m.slot), m.static, b, x.bands.of(m.static))
				}
				if m.static != x.static(h) {
					t.Fatalf("%s entry bound %d, record says %d", x.id(m.slot), m.static, x.static(h))
				}
			}
			n += len(l)
		}
		if n != int(cl.count) || cl.full>>lists != 0 {
			t.Fatalf("cell %x: %d listed, count %d, mask %b", cl.id, n, cl.count, cl.full)
		}
		if cl.sorted == nil && n > sortAbove || cl.sorted != nil && n < flatBelow {
			t.Fatalf("cell %x of %d helpers sorted is %v", cl.id, n, cl.sorted != nil)
		}
		seen += n
		if cl.sorted != nil {
			sorted++
		}
	}
	available := 0
	for i := range x.helpers {
		if x.helpers[i].slot >= 0 {
			available++
		}
	}
	if seen != available {
		t.Fatalf("%d listed, %d available", seen, available)
	}
	return sorted
}

// TestNearNeedReachesEveryPointWithinRadius: a cell list's rounded copy
// of a need's place and radius never says no to a point within the
// radius, anywhere on Earth a need may be; and it says yes to little
// beyond it.
func TestNearNeedReachesEveryPointWithinRadius(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	for range 200_000 {
		var n openNeed
		n.ev.Lat, n.ev.Lng = -80+r.Float64()*160, -180+r.Float64()*360
		n.ev.RadiusM = 100 + r.Float64()*19_900
		n.cosLat = CosLat(n.ev.Lat)
		nn := nearNeedOf(0, &n)
		// A point at a random bearing, within 30 m of the radius.
		d := n.ev.RadiusM + (r.Float64()*2-1)*30
		b := r.Float64() * 2 * math.Pi
		const mPerDeg = geo.EarthRadiusM * math.Pi / 180
		lat := n.ev.Lat + d*math.Cos(b)/mPerDeg
		lng := n.ev.Lng + d*math.Sin(b)/(mPerDeg*n.cosLat)
		exact := flatDistM(n.ev.Lat, n.ev.Lng, n.cosLat, lat, lng)
		if exact <= n.ev.RadiusM && !nn.reaches(lat, lng) {
			t.Fatalf("need at %v,%v, radius %.1f m: a point %.3f m away is not reached", n.ev.Lat, n.ev.Lng, n.ev.RadiusM, exact)
		}
		if exact > n.ev.RadiusM+2*reachSlackM && nn.reaches(lat, lng) {
			t.Fatalf("need at %v,%v, radius %.1f m: a point %.3f m away is reached", n.ev.Lat, n.ev.Lng, n.ev.RadiusM, exact)
		}
	}
}
