package match

import (
	"math"
	"math/rand/v2"
	"strconv"
	"testing"

	"everywhere/events"
)

// TestEntryAboveAgreesWithSuggest: a list's entry, made from the need's
// head without a suggestion, holds the same time-free part of the score,
// bit for bit, as the reasons Suggest gives, and the same verdict on who
// is a candidate, for helpers near and far, stale, alerted, with and
// without the need's skill, and the requester. The lists' order rests
// on those bits: an entry a rounding away from a fresh ranking's score
// could swap two helpers a fresh ranking ties.
func TestEntryAboveAgreesWithSuggest(t *testing.T) {
	p := DefaultParams()
	x := NewIndex(&p)
	r := rand.New(rand.NewPCG(3, 4))
	const helpers = 400
	for i := range helpers {
		id := "h" + strconv.Itoa(i)
		x.Ping(&events.Ping{UserID: id, TS: now - r.Int64N(2*MaxPingAge), Lat: 30.25 + r.Float64()*0.06, Lng: 120.12 + r.Float64()*0.06, Available: r.IntN(8) > 0})
		x.Profile(&events.Profile{UserID: id, TS: now, CreditScore: events.MinCredit + r.IntN(events.MaxCredit-events.MinCredit+1),
			Skills: events.SkillSet(r.Uint32()), HasSkills: true})
		for j := range r.IntN(4) {
			x.Outcome(&events.Outcome{NeedID: "n" + strconv.Itoa(j), HelperID: id, TS: now, Outcome: events.Completed, Rating: 1 + r.IntN(5)})
		}
		if r.IntN(20) == 0 {
			x.Alert(id, now-r.Int64N(AlertWindow))
		}
	}
	checked := 0
	for k := range 50 {
		n := events.Need{NeedID: "n" + strconv.Itoa(k), UserID: "h" + strconv.Itoa(r.IntN(helpers)), TS: now, Category: events.Category(r.IntN(6)),
			Lat: 30.25 + r.Float64()*0.06, Lng: 120.12 + r.Float64()*0.06, RadiusM: 500 + r.Float64()*3000}
		hd := needHead{lat: n.Lat, lng: n.Lng, cosLat: CosLat(n.Lat), radiusM: n.RadiusM, cat: n.Category, reqHash: events.IDHash(n.UserID)}
		for i := range helpers {
			slot, _ := x.ids.Find("h" + strconv.Itoa(i))
			s, ok := x.Suggest(slot, &n, now)
			e, eok := x.entryAbove(slot, &n, &hd, now, math.Inf(-1))
			if ok != eok {
				t.Fatalf("need %d, helper %d: Suggest says candidate %v, entryAbove %v", k, i, ok, eok)
			}
			if !ok {
				continue
			}
			checked++
			if want := rankedOf(&s); e != want {
				t.Fatalf("need %d, helper %d: entry %+v, from Suggest %+v", k, i, e, want)
			}
			// The bound only passes over helpers who cannot score above
			// the floor: one just under the score lets the helper in.
			if _, ok := x.entryAbove(slot, &n, &hd, now, s.Score-1e-9); !ok {
				t.Fatalf("need %d, helper %d: score %v kept out by a floor under it", k, i, s.Score)
			}
			if _, ok := x.entryAbove(slot, &n, &hd, now, 2); ok {
				t.Fatalf("need %d, helper %d: let in above a floor no score reaches", k, i)
			}
		}
	}
	if checked < 1000 {
		t.Fatalf("only %d candidates compared", checked)
	}
}
