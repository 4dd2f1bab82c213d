package match

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"testing"

	"everywhere/events"
)

// TestOutcomesThatChangeNoScoreSettleNothing: an outcome that leaves a
// helper's scores as they were (accepted or declined, without a rating)
// is not settled (Index.Outcome), and that publishes the lists settling
// it would have: two matchers take the same random input, one settling
// such outcomes as any other, and every list they publish is compared.
func TestOutcomesThatChangeNoScoreSettleNothing(t *testing.T) {
	p := DefaultParams()
	for seed := range uint64(12) {
		k := []int{2, 5, 10}[seed%3]
		var outs [2][]string
		var ms [2]*Matcher
		for v := range 2 {
			m := NewMatcher(&p, k)
			m.Republish = []int64{0, 0, 30_000}[seed%3]
			m.Publish = func(l *List) {
				outs[v] = append(outs[v], fmt.Sprint(l.NeedID, l.Version, l.EventTS, ids(l.Suggestions)))
			}
			ms[v] = m
		}
		r := rand.New(rand.NewPCG(seed, 7))
		ts := now
		for step := 0; step < 4000; step++ {
			ts += r.Int64N(20_000)
			key := ts
			if r.IntN(8) == 0 {
				key = ts - r.Int64N(300_000)
			}
			lat, lng := 30.25+r.Float64()*0.05, 120.13+r.Float64()*0.05
			x := r.IntN(100)
			s := &HelperState{ID: "h" + strconv.Itoa(r.IntN(80)), PingMS: key, Lat: lat, Lng: lng,
				Available: r.IntN(4) > 0, Skills: events.SkillSet(r.IntN(128)) &^ 1, Credit: 350 + r.IntN(600)}
			if r.IntN(50) == 0 {
				s.AlertMS = key - r.Int64N(AlertWindow)
			}
			nd := &events.Need{NeedID: "n" + strconv.Itoa(r.IntN(60)), UserID: "h" + strconv.Itoa(r.IntN(300)), TS: key,
				Category: events.Categories[r.IntN(6)], Lat: lat, Lng: lng, RadiusM: float64(500 + r.IntN(3000)),
				ExpiresAt: ts + r.Int64N(1800_000) + 1, Status: events.Open}
			fnd := &events.Need{NeedID: "n" + strconv.Itoa(r.IntN(60)), TS: ts, Status: events.Fulfilled}
			al := "h" + strconv.Itoa(r.IntN(80))
			alAt := key - r.Int64N(60_000)
			kind := []events.OutcomeKind{events.Completed, events.NoShow, events.Accepted, events.Declined}[r.IntN(4)]
			o := &events.Outcome{NeedID: "o" + strconv.Itoa(step), HelperID: "h" + strconv.Itoa(r.IntN(80)), TS: key, Outcome: kind, Rating: r.IntN(3)}
			for v, m := range ms {
				switch {
				case x < 60:
					m.Helper(s, key)
				case x < 75:
					m.Need(nd)
				case x < 77:
					m.Need(fnd)
				case x < 78:
					m.Advance(key)
					m.Alert(al, alAt)
				case x < 99:
					m.Outcome(o, 0, -1, key)
					if v == 1 && (o.Outcome == events.Accepted || o.Outcome == events.Declined) && o.Rating == 0 {
						m.changed(m.idx.slotOf(o.HelperID), m.now) // settled all the same
					}
				default:
					m.Advance(ts)
				}
			}
		}
		if len(outs[0]) != len(outs[1]) {
			t.Fatalf("seed %d: %d lists against %d", seed, len(outs[0]), len(outs[1]))
		}
		for i := range outs[0] {
			if outs[0][i] != outs[1][i] {
				t.Fatalf("seed %d list %d: %s against %s", seed, i, outs[0][i], outs[1][i])
			}
		}
		if len(outs[0]) < 1000 {
			t.Fatalf("seed %d: only %d lists", seed, len(outs[0]))
		}
	}
}
