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
	p := DefaultParams()
	for seed := range uint64(20) {
		k := []int{2, 5, 10}[seed%3]
		var lists [2][]byte // every list published since the last step
		var ms [2]*Matcher
		for i := range ms {
			m := NewMatcher(&p, k)
			m.loud = i == 1
			m.Republish = []int64{0, 30_000, 5_000}[seed%3]
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
				s.AlertMS = key - r.Int64N(AlertWindow) + r.Int64N(120_000)
			}
			nd := events.Need{NeedID: "n" + strconv.Itoa(r.IntN(100)), UserID: "h" + strconv.Itoa(r.IntN(300)), TS: key,
				Category: events.Categories[r.IntN(6)], Lat: lat, Lng: lng, RadiusM: float64(500 + r.IntN(3000)),
				ExpiresAt: ts + r.Int64N(1800_000) + 1, Status: events.Open}
			if x >= 90 && x < 92 {
				nd = events.Need{NeedID: nd.NeedID, TS: ts, Status: events.Fulfilled}
			}
			alerted, alertMS := "h"+strconv.Itoa(r.IntN(80)), key-r.Int64N(60_000)+r.Int64N(90_000)
			o := events.Outcome{NeedID: "old", HelperID: "h" + strconv.Itoa(r.IntN(80)), TS: key,
				Outcome: []events.OutcomeKind{events.Completed, events.NoShow, events.Accepted}[r.IntN(3)], Rating: r.IntN(6)}
			for _, m := range ms {
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
				default:
					m.Advance(ts)
				}
			}
			if !bytes.Equal(lists[0], lists[1]) {
				t.Errorf("seed %d step %d: quiet published\n%s\nwhere every change publishes\n%s", seed, step, lists[0], lists[1])
				break
			}
			lists[0], lists[1] = lists[0][:0], lists[1][:0]
		}
	}
}
