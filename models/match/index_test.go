package match

import (
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"testing"

	"everywhere/events"
)

const now = int64(1_764_000_000_000)

func city(r *rand.Rand, x *Index, n int, hotspot float64) {
	for i := range n {
		lat, lng := 30.15+r.Float64()*0.225, 120.0+r.Float64()*0.31 // about 25 x 30 km
		if r.Float64() < hotspot {
			lat, lng = 30.2741+(r.Float64()-0.5)*0.009, 120.1551+(r.Float64()-0.5)*0.0104 // 1 km square
		}
		id := "h" + strconv.Itoa(i)
		x.Ping(&events.Ping{UserID: id, TS: now - r.Int64N(MaxPingAge), Lat: lat, Lng: lng, Available: r.Float64() < 0.9})
		record(r, x, id)
	}
}

// record gives helper id a profile of random skills and credit, and up
// to three outcomes, each completed or a no-show with a random rating.
func record(r *rand.Rand, x *Index, id string) {
	profile(r, x, id)
	for range r.IntN(4) {
		x.Outcome(&events.Outcome{NeedID: "n", HelperID: id, TS: now, Outcome: []events.OutcomeKind{events.Completed, events.NoShow}[r.IntN(2)], Rating: 1 + r.IntN(5)})
	}
}

// profile gives helper id random skills (of the categories, not
// CategoryNone) and a random credit score.
func profile(r *rand.Rand, x *Index, id string) {
	x.Profile(&events.Profile{UserID: id, TS: now, Skills: events.SkillSet(r.IntN(128)) &^ 1, HasSkills: true, CreditScore: 350 + r.IntN(601)})
}

// brute is the exact answer: every eligible helper scored and sorted.
func brute(x *Index, n *events.Need, k int) []Suggestion {
	var all []Suggestion
	x.cosLat = math.Cos(n.Lat * math.Pi / 180) // the index's own metric, so that ties break alike
	for i := range x.helpers {
		h := &x.helpers[i]
		age := n.TS - h.pingMS
		if h.slot < 0 || age > MaxPingAge || age < -MaxPingAge || x.id(int32(i)) == n.UserID || h.alerted(n.TS) {
			continue
		}
		d := x.dist(n, float64(h.lat), float64(h.lng))
		if d > n.RadiusM {
			continue
		}
		c := Candidate{DistanceM: d, AgeMS: max(age, 0), Record: h.record, Skills: h.skills, Credit: int(h.credit)}
		s, r := x.p.Score(&c, n.Category)
		all = append(all, Suggestion{HelperID: x.id(int32(i)), Score: s, DistanceM: d, Reasons: r})
	}
	sort.Slice(all, func(i, j int) bool {
		if all[i].Score != all[j].Score {
			return all[i].Score > all[j].Score
		}
		return all[i].HelperID < all[j].HelperID
	})
	return all[:min(k, len(all))]
}

// TestQueryEqualsBruteForceWhereCellsAreSparse: with no cell over
// MaxPerCell, the ring walk and its early stop give the exact top k.
func TestQueryEqualsBruteForceWhereCellsAreSparse(t *testing.T) {
	p := DefaultParams()
	x := NewIndex(&p)
	r := rand.New(rand.NewPCG(3, 4))
	city(r, x, 20_000, 0)
	for q := range 300 {
		n := events.Need{NeedID: "n", UserID: "h" + strconv.Itoa(q), TS: now, Category: events.Categories[q%6],
			Lat: 30.16 + r.Float64()*0.2, Lng: 120.01 + r.Float64()*0.29, RadiusM: []float64{500, 1000, 3000, 8000}[q%4]}
		got := x.Query(&n, n.TS, 10, nil)
		want := brute(x, &n, 10)
		if len(got) != len(want) {
			t.Fatalf("query %d: %d suggestions, want %d", q, len(got), len(want))
		}
		for i := range got {
			if got[i].HelperID != want[i].HelperID {
				t.Fatalf("query %d rank %d: %s (%.4f), want %s (%.4f)", q, i+1, got[i].HelperID, got[i].Score, want[i].HelperID, want[i].Score)
			}
		}
	}
}

func TestEligibilityRules(t *testing.T) {
	p := DefaultParams()
	x := NewIndex(&p)
	ping := func(id string, ts int64, lat float64, avail bool) {
		x.Ping(&events.Ping{UserID: id, TS: ts, Lat: lat, Lng: 120.15, Available: avail})
	}
	ping("ok", now-60_000, 30.27, true)
	ping("busy", now-60_000, 30.27, false)
	ping("stale", now-11*60_000, 30.27, true)
	ping("far", now-60_000, 30.27+0.05, true) // 5.5 km north
	ping("me", now-60_000, 30.27, true)
	ping("alerted", now-60_000, 30.27, true)
	ping("forgiven", now-60_000, 30.27, true)
	ping("left", now-120_000, 30.27, true)
	ping("left", now-60_000, 30.27, false) // went unavailable
	n := events.Need{NeedID: "n", UserID: "me", TS: now, Category: events.Errand, Lat: 30.27, Lng: 120.15, RadiusM: 3000}
	x.Alert("alerted", now-3600_000)
	x.Alert("forgiven", now-AlertWindow-1) // its window has passed
	got := x.Query(&n, n.TS, 10, nil)
	if len(got) != 2 || got[0].HelperID != "forgiven" && got[1].HelperID != "forgiven" || got[0].HelperID != "ok" && got[1].HelperID != "ok" {
		t.Fatalf("eligible: %+v", got)
	}
}

func TestNearerRanksHigherAllElseEqual(t *testing.T) {
	p := DefaultParams()
	x := NewIndex(&p)
	for i := range 5 {
		x.Ping(&events.Ping{UserID: "h" + strconv.Itoa(i), TS: now, Lat: 30.27 + float64(i)*0.003, Lng: 120.15, Available: true})
	}
	got := x.Query(&events.Need{NeedID: "n", UserID: "r", TS: now, Category: events.Ride, Lat: 30.27, Lng: 120.15, RadiusM: 3000}, now, 3, nil)
	if len(got) != 3 || got[0].HelperID != "h0" || got[1].HelperID != "h1" || got[2].HelperID != "h2" {
		t.Fatalf("%+v", got)
	}
}

func TestStadiumWorkIsBounded(t *testing.T) {
	p := DefaultParams()
	x := NewIndex(&p)
	for i := range 50_000 {
		x.Ping(&events.Ping{UserID: "fan" + strconv.Itoa(i), TS: now, Lat: 30.27, Lng: 120.15, Available: true})
	}
	got := x.Query(&events.Need{NeedID: "n", UserID: "r", TS: now, Category: events.Ride, Lat: 30.27, Lng: 120.15, RadiusM: 3000}, now, 10, nil)
	if len(got) != 10 {
		t.Fatalf("%d suggestions", len(got))
	}
	if x.examined > MaxPerCell {
		t.Fatalf("examined %d helpers in one cell, more than MaxPerCell (%d)", x.examined, MaxPerCell)
	}
}

// TestExpBoundIsAnUpperBound: the first pass of a query drops helpers on
// it, so it must never fall below the exp it stands for.
func TestExpBoundIsAnUpperBound(t *testing.T) {
	for z := 0.0; z < 60; z += 0.001 {
		if b, e := expBound(z), decay(-z); b < e {
			t.Fatalf("expBound(%g) = %g, below decay(-z) = %g", z, b, e)
		}
	}
	if b, e := expBound(1), math.Exp(-1); b > e*1.02 {
		t.Fatalf("expBound(1) = %g, more than 2%% above exp(-1) = %g", b, e)
	}
}

// TestMayReachIsBoundWithoutDivision: for random entries, needs and
// floors, mayReach says what bound(...) >= floor says, but where the two
// are within rounding of each other; an empty list's floor (-Inf) lets
// everyone through.
func TestMayReachIsBoundWithoutDivision(t *testing.T) {
	p := DefaultParams()
	x := NewIndex(&p)
	r := rand.New(rand.NewPCG(5, 6))
	close := 0
	for i := range 200_000 {
		m := member{static: staticBound(r.IntN(65536)), skills: events.SkillSet(r.Uint32())}
		cat := events.Category(r.IntN(8))
		d := r.Float64() * 8000
		floor := r.Float64() * 1.2
		if i%100 == 0 {
			floor = math.Inf(-1)
		}
		b := x.bound(&m, cat, d)
		got, want := x.mayReach(&m, cat, d/p.DistanceScaleM, floor), b >= floor
		if got == want {
			continue
		}
		if math.Abs(b-floor) > 1e-12 {
			t.Fatalf("entry %+v, category %d, %g m, floor %g: mayReach %v, bound %g", m, cat, d, floor, got, b)
		}
		close++
	}
	if close > 10 {
		t.Fatalf("%d disagreements within rounding", close)
	}
}

// TestSelectBestMovesTheHighestBoundsFirst, ties and all.
func TestSelectBestMovesTheHighestBoundsFirst(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for range 2000 {
		ks := make([]kept, 1+r.IntN(140))
		for i := range ks {
			ks[i].b = float64(r.IntN(1 + r.IntN(20))) // many ties
		}
		j := 1 + r.IntN(len(ks))
		want := make([]float64, len(ks))
		for i := range ks {
			want[i] = ks[i].b
		}
		slices.Sort(want)
		slices.Reverse(want)
		selectBest(ks, j)
		got := make([]float64, j)
		for i := range got {
			got[i] = ks[i].b
		}
		slices.Sort(got)
		slices.Reverse(got)
		if !slices.Equal(got, want[:j]) {
			t.Fatalf("best %d of %v: got %v", j, want, got)
		}
	}
}

// TestQueryFindsEveryoneWithinTheRadius: with few helpers a list rarely
// fills, so the walk must reach the radius in every direction: a ring
// bound too generous would stop short of helpers near the edge.
func TestQueryFindsEveryoneWithinTheRadius(t *testing.T) {
	p := DefaultParams()
	x := NewIndex(&p)
	r := rand.New(rand.NewPCG(5, 6))
	city(r, x, 400, 0)
	for q := range 400 {
		n := events.Need{NeedID: "n", UserID: "-", TS: now, Category: events.Errand,
			Lat: 30.16 + r.Float64()*0.2, Lng: 120.01 + r.Float64()*0.29, RadiusM: []float64{1000, 3000, 8000, 20000}[q%4]}
		got := x.Query(&n, n.TS, 50, nil)
		want := brute(x, &n, 50)
		if !slices.Equal(ids(got), ids(want)) {
			t.Fatalf("query %d radius %.0f: found %v, want %v", q, n.RadiusM, ids(got), ids(want))
		}
	}
}

// A state re-sent after a restart must not undo a later one with the same
// ping: a profile changes the state and not the ping time.
func TestSetIgnoresStatesSentEarlier(t *testing.T) {
	p := DefaultParams()
	x := NewIndex(&p)
	pinged := HelperState{ID: "h", PingMS: now, Lat: 30.27, Lng: 120.15, Available: true, Skills: events.SkillSet(1 << 1)}
	profiled := pinged
	profiled.Skills = events.SkillSet(1 << 2)
	if _, ok := x.Set(&pinged, now); !ok {
		t.Fatal("first state ignored")
	}
	if _, ok := x.Set(&profiled, now+5); !ok {
		t.Fatal("the profile's state ignored")
	}
	slot, ok := x.Set(&pinged, now)
	if ok || x.helpers[slot].skills != profiled.Skills {
		t.Fatalf("the first state, sent again, was applied (ok %v, skills %v)", ok, x.helpers[slot].skills)
	}
	later := profiled
	later.PingMS, later.Lat = now+10, 30.28
	if _, ok := x.Set(&later, now+10); !ok {
		t.Fatal("a newer ping ignored")
	}
}

// TestFixedSharesFollowRecordAndCredit: the reliability and credit
// shares a helper keeps are what the model makes of its record and
// credit after any mix of states, profiles and outcomes, and a helper's
// score through the index is the model's own.
func TestFixedSharesFollowRecordAndCredit(t *testing.T) {
	p := DefaultParams()
	x := NewIndex(&p)
	r := rand.New(rand.NewPCG(7, 8))
	kinds := []events.OutcomeKind{events.Accepted, events.Declined, events.Completed, events.NoShow}
	for step := range 20_000 {
		id := "h" + strconv.Itoa(r.IntN(50))
		switch r.IntN(3) {
		case 0:
			credit := 0
			if r.IntN(3) > 0 {
				credit = events.MinCredit + r.IntN(events.MaxCredit-events.MinCredit+1)
			}
			s := HelperState{ID: id, PingMS: now + int64(step), Lat: 30.27, Lng: 120.15, Available: r.IntN(4) > 0, Credit: credit}
			x.Set(&s, now+int64(step))
		case 1:
			x.Profile(&events.Profile{UserID: id, TS: now + int64(step), CreditScore: events.MinCredit + r.IntN(events.MaxCredit-events.MinCredit+1)})
		default:
			x.Outcome(&events.Outcome{NeedID: "n" + strconv.Itoa(step), HelperID: id, Outcome: kinds[r.IntN(len(kinds))], Rating: r.IntN(6)})
		}
		slot := x.slotOf(id)
		h := &x.helpers[slot]
		rel, cred := p.fixed(&h.record, int(h.credit))
		if h.rel != rel || h.cred != cred {
			t.Fatalf("step %d: %s keeps shares %g, %g; its record %+v and credit %d make %g, %g", step, id, h.rel, h.cred, h.record, h.credit, rel, cred)
		}
		n := events.Need{Lat: 30.271, Lng: 120.151, Category: events.Category(1 + r.IntN(4))}
		d := x.dist(&n, float64(h.lat), float64(h.lng))
		got, _ := x.rate(slot, &n, d, now+int64(step))
		c := Candidate{DistanceM: d, AgeMS: max(now+int64(step)-h.pingMS, 0), Record: h.record, Skills: h.skills, Credit: int(h.credit)}
		if want, _ := p.Score(&c, n.Category); got != want {
			t.Fatalf("step %d: the index scores %s %g, the model %g", step, id, got, want)
		}
	}
}

// A helper holds no pointer, so the collector does not scan the slice of
// them (see BenchmarkCollectHelpers); nor does a cell's list entry.
func TestHelpersHoldNoPointer(t *testing.T) {
	for _, v := range []any{helper{}, member{}} {
		if typ := reflect.TypeOf(v); holdsPointer(typ) {
			t.Errorf("%s holds a pointer", typ)
		}
	}
}

func holdsPointer(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Struct:
		for i := range t.NumField() {
			if holdsPointer(t.Field(i).Type) {
				return true
			}
		}
		return false
	case reflect.Array:
		return holdsPointer(t.Elem())
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64, reflect.Complex64, reflect.Complex128:
		return false
	}
	return true
}
