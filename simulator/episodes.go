package simulator

import (
	"everywhere/events"
)

// The patterns of the contract.
const (
	AmountSpike      = "amount_spike"
	Velocity         = "velocity"
	ImpossibleTravel = "impossible_travel"
	Structuring      = "structuring"
	NewAccountBurst  = "new_account_burst"
	RoundTrip        = "round_trip"
	WashRefund       = "wash_refund"
)

// Patterns lists them in the contract's order.
var Patterns = []string{AmountSpike, Velocity, ImpossibleTravel, Structuring, NewAccountBurst, RoundTrip, WashRefund}

// injectEpisodes schedules Episodes fraud episodes of every pattern and as
// many honest look-alikes, in the middle of the run so that every user has
// a history before anything unusual happens.
func (s *Sim) injectEpisodes() {
	for range s.cfg.Episodes {
		s.amountSpike()
		s.velocity()
		s.impossibleTravel()
		s.structuring()
		s.newAccountBurst(true)
		s.roundTrip()
		s.washRefund()

		s.flight()
		s.oneTransferBelowThreshold()
		s.newAccountBurst(false)
		s.friendsPayingBack()
		s.oneRefund()
	}
	for i := range s.users {
		if u := &s.users[i]; u.rich {
			s.labels = append(s.labels, Label{UserID: u.id, Pattern: AmountSpike, Lookalike: "rich_user_spending_as_usual", FromTS: s.start, ToTS: s.end})
		}
	}
}

// when picks an episode start between a quarter and 85% of the run.
func (s *Sim) when() int64 {
	span := s.end - s.start
	return s.start + span/4 + s.r.Int64N(span*6/10)
}

// cast picks an ordinary user not yet in an episode.
func (s *Sim) cast() *user {
	for {
		u := &s.users[s.r.IntN(s.cfg.Users)]
		if !u.reserved && !u.rich {
			u.reserved = true
			return u
		}
	}
}

func (s *Sim) place(u *user, t int64) (float64, float64) {
	lat, lng, ok := s.position(u, t)
	if !ok {
		return u.homeLat, u.homeLng
	}
	return lat, lng
}

func (s *Sim) label(u *user, pattern string, fraud bool, lookalike string, from, to int64, ids []string) {
	s.labels = append(s.labels, Label{UserID: u.id, Pattern: pattern, Fraud: fraud, Lookalike: lookalike, FromTS: from, ToTS: to, TxnIDs: ids})
}

// purchaseAt schedules a purchase and returns its id.
func (s *Sim) purchaseAt(u *user, t, amount int64, merchant string) string {
	lat, lng := s.place(u, t)
	m, id := s.txn(u, t, events.Purchase, amount, merchant, events.Merchant, lat, lng, true)
	s.schedule(m)
	return id
}

// amountSpike schedules an account takeover; the victim is chosen when it
// happens, among users with a history of their own: a takeover is of an
// account someone uses.
func (s *Sim) amountSpike() { s.push(s.when(), kindSpike, 0) }

// amountSpikeNow: the taken-over account buys far above its owner's habit.
func (s *Sim) amountSpikeNow(t int64) {
	var u *user
	for range 10_000 {
		c := &s.users[s.r.IntN(s.cfg.Users)]
		if !c.reserved && !c.rich && c.purchases >= 3 {
			u = c
			break
		}
	}
	if u == nil {
		return // nobody has a history yet: no takeover to speak of
	}
	u.reserved = true
	var ids []string
	n := 2 + s.r.IntN(2)
	for i := range n {
		amount := max(int64(u.median*float64(40+s.r.IntN(40))), 300_000)
		ids = append(ids, s.purchaseAt(u, t+int64(i)*(5*minute+s.r.Int64N(10*minute)), amount/100*100, s.merchant()))
	}
	s.label(u, AmountSpike, true, "", t, t+int64(n)*15*minute, ids)
}

// velocity: a burst of payments minutes apart.
func (s *Sim) velocity() {
	u, t := s.cast(), s.when()
	var ids []string
	at := t
	for range 20 + s.r.IntN(10) {
		ids = append(ids, s.purchaseAt(u, at, s.spendAmount(u)*int64(1+s.r.IntN(3)), s.merchant()))
		at += 5_000 + s.r.Int64N(20_000)
	}
	s.label(u, Velocity, true, "", t, at, ids)
}

// impossibleTravel: a payment from a far city minutes after a ping at home.
func (s *Sim) impossibleTravel() {
	u, t := s.cast(), s.when()
	lat, lng := s.place(u, t-5*minute)
	p := events.Ping{UserID: u.id, TS: t - 5*minute, Lat: round6(lat), Lng: round6(lng), Available: false}
	s.buf = p.AppendJSON(s.buf[:0])
	s.schedule(Message{Topic: Pings, Key: u.id, Value: append([]byte(nil), s.buf...), TS: p.TS})
	flat, flng := around(s.r, s.cfg.City.Far.Lat, s.cfg.City.Far.Lng, 3000)
	m, id := s.txn(u, t+10*minute, events.Purchase, s.spendAmount(u)*3, s.merchant(), events.Merchant, flat, flng, true)
	s.schedule(m)
	s.label(u, ImpossibleTravel, true, "", t-5*minute, t+10*minute, []string{id})
}

// structuring: repeated transfers just below the reporting threshold.
func (s *Sim) structuring() {
	u, t := s.cast(), s.when()
	mules := []*user{s.cast(), s.cast()}
	var ids []string
	at := t
	for range 4 + s.r.IntN(3) {
		amount := s.cfg.Threshold - int64(1+s.r.IntN(300))*100
		mule := mules[s.r.IntN(len(mules))]
		m, id := s.txn(u, at, events.Transfer, amount, mule.id, events.User, 0, 0, false)
		s.schedule(m)
		ids = append(ids, id)
		at += 20*minute + s.r.Int64N(60*minute)
	}
	for _, m := range mules {
		m.reserved = false // mules only receive; they may play other parts
	}
	s.label(u, Structuring, true, "", t, at, ids)
}

// newAccountBurst registers a new user during the run. A fraudulent one
// spends a large total within hours; an honest one spends like anyone.
func (s *Sim) newAccountBurst(fraud bool) {
	i := int32(len(s.users))
	s.users = append(s.users, user{})
	s.newUser(i)
	u := &s.users[i]
	u.reserved, u.rich = true, false
	t := s.when()
	u.registered = t - 10*minute
	p := events.Profile{UserID: u.id, TS: u.registered, RegisteredAt: u.registered, Skills: u.skills, HasSkills: true, CreditScore: u.credit}
	s.buf = p.AppendJSON(s.buf[:0])
	s.schedule(Message{Topic: Profiles, Key: u.id, Value: append([]byte(nil), s.buf...), TS: p.TS})
	s.push(u.registered+minute, kindPing, i)
	var ids []string
	at := t
	if !fraud {
		for range 2 {
			ids = append(ids, s.purchaseAt(u, at, s.spendAmount(u), s.merchant()))
			at += hour + s.r.Int64N(3*hour)
		}
		s.label(u, NewAccountBurst, false, "new_account_spending_normally", t, at, ids)
		return
	}
	for range 6 + s.r.IntN(5) {
		ids = append(ids, s.purchaseAt(u, at, int64(100_000+s.r.IntN(300_000))/100*100, s.merchant()))
		at += 10*minute + s.r.Int64N(50*minute)
	}
	s.label(u, NewAccountBurst, true, "", t, at, ids)
}

// roundTrip passes money around a ring of three users and back, twice.
func (s *Sim) roundTrip() {
	ring := []*user{s.cast(), s.cast(), s.cast()}
	t := s.when()
	ids := make([][]string, len(ring))
	at := t
	for range 2 {
		amount := int64(200_000+s.r.IntN(600_000)) / 100 * 100
		for k, from := range ring {
			to := ring[(k+1)%len(ring)]
			m, id := s.txn(from, at, events.Transfer, amount, to.id, events.User, 0, 0, false)
			s.schedule(m)
			ids[k] = append(ids[k], id)
			amount = amount * 98 / 100
			at += 20*minute + s.r.Int64N(60*minute)
		}
		at += 2 * hour
	}
	for k, u := range ring {
		s.label(u, RoundTrip, true, "", t, at, ids[k])
	}
}

// washRefund: large purchases refunded soon after, again and again.
func (s *Sim) washRefund() {
	u, t := s.cast(), s.when()
	var ids []string
	at := t
	for range 3 + s.r.IntN(3) {
		merchant := s.merchant()
		amount := int64(300_000+s.r.IntN(1_200_000)) / 100 * 100
		ids = append(ids, s.purchaseAt(u, at, amount, merchant))
		lat, lng := s.place(u, at)
		m, id := s.txn(u, at+10*minute+s.r.Int64N(30*minute), events.Refund, amount, merchant, events.Merchant, lat, lng, true)
		s.schedule(m)
		ids = append(ids, id)
		at += hour + s.r.Int64N(hour)
	}
	s.label(u, WashRefund, true, "", t, at, ids)
}

// flight: an honest trip to the far city, with the time a plane needs.
func (s *Sim) flight() {
	u, t := s.cast(), s.when()
	u.away = &away{depart: t, arrive: t + 150*minute, back: t + 20*hour, home: t + 20*hour + 150*minute}
	id := s.purchaseAt(u, t+3*hour, s.spendAmount(u), s.merchant())
	s.label(u, ImpossibleTravel, false, "flight_between_cities", t, u.away.home, []string{id})
}

// oneTransferBelowThreshold: a single honest payment just under it.
func (s *Sim) oneTransferBelowThreshold() {
	u, t := s.cast(), s.when()
	f := &s.users[u.friends[0]]
	m, id := s.txn(u, t, events.Transfer, s.cfg.Threshold-500, f.id, events.User, 0, 0, false)
	s.schedule(m)
	s.label(u, Structuring, false, "one_transfer_below_threshold", t, t, []string{id})
}

// friendsPayingBack: A pays B and B pays A back: a cycle of two, honest.
func (s *Sim) friendsPayingBack() {
	a, b, t := s.cast(), s.cast(), s.when()
	amount := int64(100_000+s.r.IntN(200_000)) / 100 * 100
	m1, id1 := s.txn(a, t, events.Transfer, amount, b.id, events.User, 0, 0, false)
	m2, id2 := s.txn(b, t+hour+s.r.Int64N(2*hour), events.Transfer, amount, a.id, events.User, 0, 0, false)
	s.schedule(m1)
	s.schedule(m2)
	s.label(a, RoundTrip, false, "friends_paying_back", t, m2.TS, []string{id1})
	s.label(b, RoundTrip, false, "friends_paying_back", t, m2.TS, []string{id2})
}

// oneRefund: a big spender returns one large purchase, once.
func (s *Sim) oneRefund() {
	var u *user
	for {
		c := &s.users[s.r.IntN(s.cfg.Users)]
		if c.rich && !c.reserved {
			u = c
			break
		}
	}
	u.reserved = true
	t := s.when()
	merchant := s.merchant()
	amount := max(s.spendAmount(u), 200_000)
	id := s.purchaseAt(u, t, amount, merchant)
	lat, lng := s.place(u, t)
	m, rid := s.txn(u, t+20*minute, events.Refund, amount, merchant, events.Merchant, lat, lng, true)
	s.schedule(m)
	s.label(u, WashRefund, false, "one_refunded_purchase", t, m.TS, []string{id, rid})
}
