package match

import (
	"bytes"
	"math/rand/v2"
	"strconv"
	"testing"

	"everywhere/events"
)

// TestQuietChangesPublishWhatEveryChangeWould drives two matchers with
// the same random helpers, needs, outcomes and alerts (some of them
// beginning after the clock), one passing over the lists quiet says a
// change leaves as they were, the other publishing every list a change
// settles: they must publish the same lists, version for version.
func TestQuietChangesPublishWhatEveryChangeWould(t *testing.T) {
	for seed := range uint64(20) {
		twins(t, seed, true, func(i int, m *Matcher) { m.loud = i == 1 }, nil)
	}
}

// TestOutcomesThatChangeNoScoreSettleNothing: an outcome that leaves a
// helper's scores as they were (accepted or declined, without a rating)
// is not settled (Index.Outcome), and that publishes the lists settling
// it would have: of two matchers given the same random input, one
// settles such outcomes as any other change. Its alerts begin at or
// before the clock, as every alert reaching a region does: one beginning
// later would take the helper out of the running with no timer set for
// that moment, and any change settled for the helper after it, an
// outcome among them, would find that out and publish it then.
func TestOutcomesThatChangeNoScoreSettleNothing(t *testing.T) {
	for seed := range uint64(12) {
		twins(t, seed, false, nil, func(i int, m *Matcher, o *events.Outcome) {
			if i == 1 && (o.Outcome == events.Accepted || o.Outcome == events.Declined) && o.Rating == 0 {
				m.changed(m.idx.slotOf(o.HelperID), m.now) // settled all the same
			}
		})
	}
}

// twins drives two matchers, set up each by setup, with the same random
// stream of seed, calling outcome after each took an outcome, and fails
// the test at the first step after which they published different lists.
// With future, some alerts begin after the matchers' clock.
func twins(t *testing.T, seed uint64, future bool, setup func(i int, m *Matcher), outcome func(i int, m *Matcher, o *events.Outcome)) {
	t.Helper()
	p := DefaultParams()
	k := []int{2, 5, 10}[seed%3]
	var lists [2][]byte // every list published since the last step
	var ms [2]*Matcher
	for i := range ms {
		m := NewMatcher(&p, k)
		m.Republish = []int64{0, 30_000, 5_000}[seed%3]
		if setup != nil {
			setup(i, m)
		}
		m.Publish = func(l *List) {
			b := append(lists[i], l.NeedID...)
			b = strconv.AppendUint(append(b, " v"...), uint64(l.Version), 10)
			b = strconv.AppendInt(append(b, " @"...), l.EventTS, 10)
			for _, sg := range l.Suggestions {
				b = append(append(b, ' '), sg.HelperID...)
				b = strconv.AppendFloat(append(b, ' '), sg.Score, 'g', -1, 64)
			}
			lists[i] = append(b, '\n')
		}
		ms[i] = m
	}
	r := rand.New(rand.NewPCG(seed, 11))
	later := func(n int64) int64 { // how far after the clock an alert begins, at most n
		if !future {
			return 0
		}
		return r.Int64N(n)
	}
	ts := now
	for step := range 3_000 {
		ts += r.Int64N(3_000)
		key := ts
		if r.IntN(8) == 0 {
			key = ts - r.Int64N(300_000)
		}
		lat, lng := 30.25+r.Float64()*0.04, 120.13+r.Float64()*0.04
		x := r.IntN(100)
		s := HelperState{ID: "h" + strconv.Itoa(r.IntN(80)), PingMS: key, Lat: lat, Lng: lng,
			Available: r.IntN(6) > 0, Skills: events.SkillSet(r.IntN(128)) &^ 1, Credit: 350 + r.IntN(600)}
		if r.IntN(80) == 0 {
			s.AlertMS = key - r.Int64N(AlertWindow) + later(120_000)
		}
		nd := events.Need{NeedID: "n" + strconv.Itoa(r.IntN(100)), UserID: "h" + strconv.Itoa(r.IntN(300)), TS: key,
			Category: events.Categories[r.IntN(6)], Lat: lat, Lng: lng, RadiusM: float64(500 + r.IntN(3000)),
			ExpiresAt: ts + r.Int64N(1800_000) + 1, Status: events.Open}
		if x >= 90 && x < 92 {
			nd = events.Need{NeedID: nd.NeedID, TS: ts, Status: events.Fulfilled}
		}
		alerted, alertMS := "h"+strconv.Itoa(r.IntN(80)), key-r.Int64N(60_000)+later(90_000)
		// Each outcome of its own need, so that none is taken for one sent again.
		o := events.Outcome{NeedID: "o" + strconv.Itoa(step), HelperID: "h" + strconv.Itoa(r.IntN(80)), TS: key,
			Outcome: []events.OutcomeKind{events.Completed, events.NoShow, events.Accepted, events.Declined}[r.IntN(4)], Rating: r.IntN(3)}
		for i, m := range ms {
			switch {
			case x < 80:
				st := s
				m.Helper(&st, key)
			case x < 92:
				n := nd
				m.Need(&n)
			case x < 93:
				m.Advance(key)
				m.Alert(alerted, alertMS)
			case x < 99:
				m.Outcome(&o, 0, -1, key)
				if outcome != nil {
					outcome(i, m, &o)
				}
			default:
				m.Advance(ts)
			}
		}
		if !bytes.Equal(lists[0], lists[1]) {
			t.Fatalf("seed %d step %d: one published\n%s\nthe other\n%s", seed, step, lists[0], lists[1])
		}
		lists[0], lists[1] = lists[0][:0], lists[1][:0]
	}
}
