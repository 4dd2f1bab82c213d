package simulator

import (
	"strconv"

	"everywhere/events"
)

var categoryWeights = [...]float64{0.3, 0.2, 0.15, 0.2, 0.1, 0.05} // errand .. other

func (s *Sim) category() events.Category {
	x := s.r.Float64()
	for i, w := range categoryWeights {
		if x < w {
			return events.Categories[i]
		}
		x -= w
	}
	return events.Other
}

var radii = [...]float64{1000, 2000, 3000, 3000, 5000}

// postNeed posts a need where the user is and plays out its life: most are
// accepted by a helper and completed (then rewarded), some are declined
// first, some end in a no-show, the rest are cancelled or simply expire.
func (s *Sim) postNeed(u *user, t int64) {
	lat, lng, ok := s.position(u, t)
	if !ok {
		return
	}
	s.nextNeed++
	n := events.Need{NeedID: "n" + strconv.Itoa(s.nextNeed), UserID: u.id, TS: t, Category: s.category(),
		Lat: round6(lat), Lng: round6(lng), HasPlace: true, RadiusM: radii[s.r.IntN(len(radii))],
		Reward: int64(500 + 100*s.r.IntN(46)), Currency: s.cfg.Currency,
		ExpiresAt: t + 30*minute + s.r.Int64N(90*minute), Status: events.Open}
	s.buf = n.AppendJSON(s.buf[:0])
	s.emit(Needs, n.NeedID, t)

	helper := s.randomHelper(u)
	if helper == nil || s.r.Float64() > 0.75 {
		if s.r.Float64() < 0.5 {
			s.needStatus(n, n.ExpiresAt-s.r.Int64N(10*minute), events.Cancelled)
		}
		return
	}
	at := t + minute + s.r.Int64N(9*minute)
	if s.r.Float64() < 0.1 {
		if other := s.randomHelper(u); other != nil && other != helper {
			s.outcome(n.NeedID, other.id, at, events.Declined, 0)
			at += minute
		}
	}
	s.outcome(n.NeedID, helper.id, at, events.Accepted, 0)
	done := at + 15*minute + s.r.Int64N(45*minute)
	if s.r.Float64() < 0.1 {
		s.outcome(n.NeedID, helper.id, done, events.NoShow, 0)
		s.needStatus(n, done+minute, events.Cancelled)
		return
	}
	s.outcome(n.NeedID, helper.id, done, events.Completed, 3+s.r.IntN(3))
	s.needStatus(n, done, events.Fulfilled)
	m, _ := s.txn(u, done+minute, events.Reward, n.Reward, helper.id, events.User, 0, 0, false)
	s.schedule(m)
}

func (s *Sim) randomHelper(not *user) *user {
	for range 8 {
		h := &s.users[s.r.IntN(len(s.users))]
		if h.helper && h != not {
			return h
		}
	}
	return nil
}

func (s *Sim) outcome(needID, helperID string, t int64, kind events.OutcomeKind, rating int) {
	o := events.Outcome{NeedID: needID, HelperID: helperID, TS: t, Outcome: kind, Rating: rating}
	s.buf = o.AppendJSON(s.buf[:0])
	s.schedule(Message{Topic: Outcomes, Key: needID, Value: append([]byte(nil), s.buf...), TS: t})
}

func (s *Sim) needStatus(n events.Need, t int64, status events.NeedStatus) {
	n.TS, n.Status = t, status
	if n.ExpiresAt <= t {
		n.ExpiresAt = t + minute
	}
	s.buf = n.AppendJSON(s.buf[:0])
	s.schedule(Message{Topic: Needs, Key: n.NeedID, Value: append([]byte(nil), s.buf...), TS: t})
}
