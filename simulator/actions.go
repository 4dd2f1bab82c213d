package simulator

import (
	"math"
	"strconv"

	"everywhere/events"
)

func (s *Sim) act(it item) {
	if it.kind == kindMessage {
		s.out = append(s.out, *it.msg)
		return
	}
	u := &s.users[it.user]
	t := it.at
	switch it.kind {
	case kindPing:
		s.ping(u, t)
		s.push(t+s.pingInterval(u, t), kindPing, it.user)
	case kindAvail:
		s.toggle(u, it.user, t)
	case kindTxn:
		s.dailySpend(u, t)
		mean := 8 * hour / 3
		if u.rich {
			mean = 5 * hour
		}
		s.push(s.next(t, mean), kindTxn, it.user)
	case kindTransfer:
		s.friendTransfer(u, t)
		s.push(s.next(t, 3*day), kindTransfer, it.user)
	case kindNeed:
		s.postNeed(u, t)
		s.push(s.next(t, 4*day), kindNeed, it.user)
	case kindSpike:
		s.amountSpikeNow(t)
	}
}

// pingInterval: an available helper reports every minute, other helpers
// every two, everyone else every ten; at night every half hour.
func (s *Sim) pingInterval(u *user, t int64) int64 {
	base := 10 * minute
	switch {
	case u.available:
		base = minute
	case u.helper:
		base = 2 * minute
	}
	if h := localHour(t); h < 6 {
		base = 30 * minute
	}
	return base*4/5 + s.r.Int64N(base*2/5+1)
}

func (s *Sim) ping(u *user, t int64) {
	lat, lng, ok := s.position(u, t)
	if !ok {
		return
	}
	u.lastLat, u.lastLng = lat, lng
	p := events.Ping{UserID: u.id, TS: t, Lat: round6(lat), Lng: round6(lng), AccuracyM: float64(5 + s.r.IntN(30)), Available: u.available}
	s.buf = p.AppendJSON(s.buf[:0])
	s.emit(Pings, u.id, t)
}

// toggle starts or ends a helper's availability session, with a ping so the
// change is seen at once.
func (s *Sim) toggle(u *user, i int32, t int64) {
	u.available = !u.available
	s.ping(u, t)
	if u.available {
		s.push(t+30*minute+s.r.Int64N(90*minute), kindAvail, i)
	} else {
		s.push(s.next(t, 4*hour), kindAvail, i)
	}
}

func (s *Sim) emit(topic Topic, key string, t int64) {
	s.out = append(s.out, Message{Topic: topic, Key: key, Value: append([]byte(nil), s.buf...), TS: t})
}

func (s *Sim) emitProfile(u *user, t int64) {
	p := events.Profile{UserID: u.id, TS: t, RegisteredAt: u.registered, Skills: u.skills, HasSkills: true, CreditScore: u.credit}
	s.buf = p.AppendJSON(s.buf[:0])
	s.emit(Profiles, u.id, t)
}

func (s *Sim) txnID() string {
	s.nextTxn++
	return "t" + strconv.Itoa(s.nextTxn)
}

// txn builds a transaction message; it is emitted now or scheduled.
func (s *Sim) txn(u *user, t int64, kind events.TxnKind, amount int64, cpID string, cp events.PartyKind, lat, lng float64, hasLoc bool) (Message, string) {
	tx := events.Transaction{TxnID: s.txnID(), UserID: u.id, TS: t, Amount: max(amount, 1), Currency: s.cfg.Currency, Kind: kind,
		CounterpartyID: cpID, CounterpartyKind: cp, Lat: round6(lat), Lng: round6(lng), HasLocation: hasLoc}
	s.buf = tx.AppendJSON(s.buf[:0])
	return Message{Topic: Transactions, Key: u.id, Value: append([]byte(nil), s.buf...), TS: t}, tx.TxnID
}

func (s *Sim) merchant() string { return "m" + strconv.Itoa(s.r.IntN(max(s.cfg.Users/10, 50))) }

// spendAmount draws from the user's own habit: log-normal around the median.
func (s *Sim) spendAmount(u *user) int64 {
	a := u.median * math.Exp(s.r.NormFloat64()*0.5)
	return max(100, int64(a/10)*10)
}

func (s *Sim) dailySpend(u *user, t int64) {
	lat, lng, ok := s.position(u, t)
	if !ok {
		return
	}
	switch x := s.r.Float64(); {
	case x < 0.9:
		u.purchases++
		m, _ := s.txn(u, t, events.Purchase, s.spendAmount(u), s.merchant(), events.Merchant, lat, lng, true)
		s.out = append(s.out, m)
	case x < 0.96:
		m, _ := s.txn(u, t, events.Topup, int64(10_000*(1+s.r.IntN(20))), "", events.PartyNone, 0, 0, false)
		s.out = append(s.out, m)
	default:
		m, _ := s.txn(u, t, events.Withdrawal, int64(10_000*(1+s.r.IntN(10))), "", events.PartyNone, 0, 0, false)
		s.out = append(s.out, m)
	}
}

// friendTransfer sends money to a friend; often the friend pays it back a
// day or two later: an honest two-person cycle.
func (s *Sim) friendTransfer(u *user, t int64) {
	f := &s.users[u.friends[s.r.IntN(len(u.friends))]]
	if f == u {
		return
	}
	amount := int64(10_000*math.Exp(s.r.NormFloat64()*0.7)/100) * 100
	m, _ := s.txn(u, t, events.Transfer, max(amount, 100), f.id, events.User, 0, 0, false)
	s.out = append(s.out, m)
	if s.r.Float64() < 0.3 {
		back := t + day + s.r.Int64N(day)
		m, _ := s.txn(f, back, events.Transfer, amount, u.id, events.User, 0, 0, false)
		s.schedule(m)
	}
}

func round6(f float64) float64 { return math.Round(f*1e6) / 1e6 }
