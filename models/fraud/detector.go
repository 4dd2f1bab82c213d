package fraud

import (
	"math"
	"strings"

	"everywhere/arena"
	"everywhere/events"
	"everywhere/geo"
)

// Detector holds the state of the users it sees and runs every rule on
// each event. It is owned by one goroutine (a partition worker); rules are
// swapped between events with SetRules.
//
// round_trip needs state across users. Transactions are keyed by payer, so
// the hops of a ring A->B->C->A land on three partitions. The detector
// makes the hops meet by forwarding: a large transfer X->Y emits a Path
// keyed by Y (through a Kafka topic in the engine, directly in a
// backtest); Y's detector extends it with Y's own large transfers and
// forwards it to the next payee, and the detector that receives a path
// whose origin it pays closes the ring. Each detector keeps the paths that
// reached its users and their recent large transfers, so a path and the
// transfer that extends it meet whichever arrives first: the result does
// not depend on arrival order, and any number of instances give the same
// alerts as one.
type Detector struct {
	rules *Rules
	// Users are numbered by ids, and their records kept a block at a time
	// by number: no allocation per user, and no pointer per user for the
	// collector to follow (a map[string]*user of a million users was two
	// million). An evicted user's number goes to the next new one, unless
	// another keeper holds it (see Number): absent counts those.
	ids    arena.IDs
	users  arena.Pages[user]
	absent int
	// pays holds the payer state of users who pay, made at their first
	// payment: of a million users seen, most may only ping, and their
	// record is then 40 bytes instead of 500.
	pays  arena.Slots[payer]
	wash  map[string]*washState
	flows map[string]*flowState
	// EmitPath is called with each path to forward; nil drops them (a
	// detector that sees every user can deliver them to itself).
	EmitPath  func(p *Path)
	nLate     int
	nRepeated int
	// preNums is Preload's scratch; preTouch what its loads read.
	preNums  []int32
	preTouch int64
}

// New returns a detector with rules r (already validated).
func New(r *Rules) *Detector {
	return &Detector{rules: r, wash: map[string]*washState{}, flows: map[string]*flowState{}}
}

// SetRules swaps the rules; later events use them.
func (d *Detector) SetRules(r *Rules) { d.rules = r }

// Rules returns the rules in force.
func (d *Detector) Rules() *Rules { return d.rules }

// Users is the number of users with state.
func (d *Detector) Users() int { return d.ids.Len() - d.absent }

// Late is how many events came later than the lateness allowed and were
// skipped.
func (d *Detector) Late() int { return d.nLate }

// Repeated is how many transactions were repeats of one already scored,
// and skipped.
func (d *Detector) Repeated() int { return d.nRepeated }

// get returns the state of id (a view string is fine: ids copies it when a
// user is first seen), resetting a user idle longer than idle_evict so that
// eviction and a late return give the same answer however often Evict runs.
func (d *Detector) get(id string, ms int64) *user {
	u, _ := d.getNumbered(id, ms)
	return u
}

// Preload brings in what the events of users ids, about to be handled,
// will read first: each user's entry in the ids and record (see
// arena.IDs.Preload). With a million users a ping's lookup paid three
// cache misses one after another, 8% of a catch-up's CPU. It returns
// the users' numbers, -1 for those it did not find at once: valid until
// the next call.
func (d *Detector) Preload(ids []string) []int32 {
	d.preNums = d.ids.Preload(ids, d.preNums[:0])
	var touch int64
	for _, n := range d.preNums {
		if n >= 0 {
			touch += d.users.At(n).lastMS
		}
	}
	d.preTouch += touch
	return d.preNums
}

// getNumbered is get, with the user's number.
func (d *Detector) getNumbered(id string, ms int64) (*user, int32) {
	n, added := d.ids.Number(id)
	u := d.users.At(n)
	if added {
		*u = user{lastMS: ms}
		return u, n
	}
	if u.lastMS == absent {
		d.absent--
		*u = user{lastMS: ms, other: u.other}
		return u, n
	}
	if ms > u.lastMS+d.rules.IdleEvict.Milliseconds() {
		reg := u.registeredMS
		d.unpay(u)
		*u = user{lastMS: ms, registeredMS: reg, other: u.other}
	}
	u.lastMS = max(u.lastMS, ms)
	return u, n
}

// Number returns the number of user id, one with no state if the
// detector has none for them. A keeper of other records of the
// detector's users (the engine's helper router) numbers them so, as
// they come through the detector first: a ping's user is numbered once
// for both (Ping returns the number), where each keeping its own table
// of ids looked every user up twice. The keeper marks the users it
// keeps with SetOther, and their numbers stay theirs while their
// detector state is evicted and made again.
func (d *Detector) Number(id string) int32 {
	n, added := d.ids.Number(id)
	if added {
		*d.users.At(n) = user{lastMS: absent}
		d.absent++
	}
	return n
}

// Other returns what SetOther last set for the user numbered n, 0 if
// nothing.
func (d *Detector) Other(n int32) int32 { return d.users.At(n).other }

// SetOther keeps v (not 0) with the user numbered n, and n theirs.
func (d *Detector) SetOther(n, v int32) { d.users.At(n).other = v }

// payerOf returns the payer state of u, made at the first call.
func (d *Detector) payerOf(u *user) *payer {
	if u.pay == 0 {
		u.pay = d.pays.New()
	}
	return d.pays.At(u.pay)
}

// unpay gives back u's payer state, if any.
func (d *Detector) unpay(u *user) {
	if u.pay != 0 {
		d.pays.Free(u.pay)
		u.pay = 0
	}
}

// late reports whether a payment comes later than the lateness allows
// behind the user's latest payment. Only payments order payments: pings and
// profiles travel on other topics and may run ahead of them.
func (d *Detector) late(pa *payer, ms int64) bool {
	if ms < pa.txnMS-d.rules.Lateness.Milliseconds() {
		d.nLate++
		return true
	}
	pa.txnMS = max(pa.txnMS, ms)
	return false
}

// Evict drops users idle (in event time) since before nowMS - idle_evict.
func (d *Detector) Evict(nowMS int64) int {
	cut := nowMS - d.rules.IdleEvict.Milliseconds()
	n := 0
	for i := range d.ids.Top() {
		if u := d.users.At(i); d.ids.Live(i) && u.lastMS < cut {
			if u.lastMS == absent {
				if u.other == 0 {
					d.ids.Forget(i) // numbered, never kept
					d.absent--
				}
				continue
			}
			id := d.ids.String(i)
			d.unpay(u)
			delete(d.wash, id)
			delete(d.flows, id)
			n++
			if u.other != 0 {
				*u = user{lastMS: absent, other: u.other}
				d.absent++
				continue
			}
			d.ids.Forget(i)
		}
	}
	return n
}

// Ping updates the user's last known place and returns the user's
// number (see Number).
func (d *Detector) Ping(p *events.Ping) int32 {
	u, n := d.getNumbered(p.UserID, p.TS)
	if p.TS >= u.placeMS {
		u.placeMS, u.lat, u.lng = p.TS, float32(p.Lat), float32(p.Lng)
	}
	return n
}

// Profile records when the account was registered. A profile read after
// the payments of the account's first day still judges them: the spend
// counted since the first payment is checked against max_total now.
func (d *Detector) Profile(p *events.Profile, out []Alert) []Alert {
	if p.RegisteredAt == 0 {
		return out
	}
	u := d.get(p.UserID, p.TS)
	known := u.registeredMS != 0
	u.registeredMS = p.RegisteredAt
	if known || u.pay == 0 {
		return out
	}
	pa := d.pays.At(u.pay)
	r := &d.rules.NewAccountBurst
	if pa.firstPayMS == 0 || pa.firstPayMS < p.RegisteredAt || pa.firstPayMS-p.RegisteredAt > r.AccountAge.Milliseconds() {
		return out
	}
	if pa.firstSpend < r.MaxTotal {
		return out
	}
	a := Alert{UserID: strings.Clone(p.UserID), TS: p.TS, Rule: RuleNewAccountBurst, Score: scoreOver(float64(pa.firstSpend) / float64(r.MaxTotal)),
		Evidence: []Field{num("total", float64(pa.firstSpend)), num("max_total", float64(r.MaxTotal)),
			num("account_age_h", math.Round(float64(pa.txnMS-p.RegisteredAt)/360_000)/10)}}
	a.Severity = severityOf(a.Score, High)
	a.finish(d.rules.Version)
	return append(out, a)
}

// Transaction runs every rule on a payment and appends the alerts to out.
//
// A transaction whose id is among the user's latest eight scored is a
// repeat, and is counted, not scored. A producer that retries a write
// it did not see acknowledged publishes the same transaction twice, at
// two offsets; scored twice, it would count twice towards velocity and
// the other windows, and a user spending as usual could be flagged.
func (d *Detector) Transaction(t *events.Transaction, out []Alert) []Alert {
	u := d.get(t.UserID, t.TS)
	pa := d.payerOf(u)
	if d.late(pa, t.TS) {
		return out
	}
	if pa.repeat(idHash(t.TxnID)) {
		d.nRepeated++
		return out
	}
	r := d.rules
	sec := uint32(t.TS / 1000)
	if t.HasLocation {
		out = d.travel(u, t, out)
	}
	switch t.Kind {
	case events.Purchase:
		out = d.amountSpike(pa, t, out)
		pa.addPurchase(t.Amount)
		if t.Amount >= r.WashRefund.MinAmount && t.CounterpartyID != "" {
			d.washFor(t.UserID).add(t)
		}
	case events.Refund:
		out = d.washRefund(pa, t, sec, out)
	case events.Transfer:
		out = d.structuring(pa, t, sec, out)
		if t.CounterpartyKind == events.User && t.Amount >= r.RoundTrip.MinAmount && t.CounterpartyID != t.UserID {
			out = d.transferOut(t, out)
		}
	}
	if t.Kind == events.Purchase || t.Kind == events.Transfer || t.Kind == events.Reward {
		out = d.velocity(pa, t, sec, out)
		out = d.newAccount(u, pa, t, out)
	}
	return out
}

func (d *Detector) alert(rule string, t *events.Transaction, score float64, cap Severity, ev ...Field) Alert {
	a := Alert{UserID: strings.Clone(t.UserID), TS: t.TS, Rule: rule, Score: score,
		Severity: severityOf(score, cap), TxnIDs: []string{strings.Clone(t.TxnID)}, Evidence: ev}
	a.finish(d.rules.Version)
	return a
}

// amountSpike compares a purchase with the user's own baseline: the 90th
// percentile of their recent purchases, pulled towards a prior while the
// history is short. A user who always spends big has a big baseline.
func (d *Detector) amountSpike(pa *payer, t *events.Transaction, out []Alert) []Alert {
	r := &d.rules.AmountSpike
	p90, n := pa.p90()
	// A thin history is pulled up towards the prior, never below what the
	// user has been seen to spend: the prior can only spare a user an
	// alert, and a user who always spends big has a big baseline.
	baseline := float64(r.PriorP90)
	if n > 0 {
		w := float64(r.PriorCount)
		blend := math.Exp((w*math.Log(float64(r.PriorP90)) + float64(n)*math.Log(float64(max(p90, 1)))) / (w + float64(n)))
		baseline = math.Max(float64(p90), blend)
	}
	threshold := math.Max(float64(r.MinAmount), r.Ratio*baseline)
	if float64(t.Amount) < threshold {
		return out
	}
	// Confidence follows history: with almost none, a big purchase is only
	// worth a look; the user's own record is what makes it an anomaly.
	cap := High
	switch {
	case n < 2:
		cap = Low
	case n < r.MinHistory:
		cap = Medium
	}
	// The score measures the surprise against the user's own baseline;
	// min_amount only decides whether a sum is large enough to matter.
	return append(out, d.alert(RuleAmountSpike, t, scoreOver(float64(t.Amount)/(r.Ratio*baseline)), cap,
		num("amount", float64(t.Amount)), num("baseline_p90", math.Round(baseline)), num("ratio", r.Ratio),
		num("threshold", math.Round(threshold)), num("history", float64(n))))
}

// velocity counts payments in a sliding window ending at this one, exact
// at each event; it alerts when the count or the total crosses its limit.
func (d *Detector) velocity(pa *payer, t *events.Transaction, sec uint32, out []Alert) []Alert {
	r := &d.rules.Velocity
	win, twin := uint32(r.Window.Seconds()), uint32(r.TotalWindow.Seconds())
	_, before := pa.window(sec, twin)
	pa.addPayment(sec, t.Amount)
	n, _ := pa.window(sec, win)
	_, total := pa.window(sec, twin)
	switch {
	case n == r.MaxCount+1:
		return append(out, d.alert(RuleVelocity, t, scoreOver(float64(n)/float64(r.MaxCount)), High,
			num("payments", float64(n)), num("window_s", float64(win)), num("max_count", float64(r.MaxCount))))
	case before < r.MaxTotal && total >= r.MaxTotal:
		return append(out, d.alert(RuleVelocity, t, scoreOver(float64(total)/float64(r.MaxTotal)), High,
			num("total", float64(total)), num("window_s", float64(twin)), num("max_total", float64(r.MaxTotal))))
	}
	return out
}

// travel compares where a payment was made with the user's last known
// place: farther than min_distance_km at more than max_speed_kmh is not a
// journey anyone makes. A flight between cities is slower than that.
func (d *Detector) travel(u *user, t *events.Transaction, out []Alert) []Alert {
	r := &d.rules.ImpossibleTravel
	// The time between the two events counts either way round: a ping may
	// be read after a payment made later, and too far too fast is the same.
	if u.placeMS != 0 {
		km := geo.DistanceM(float64(u.lat), float64(u.lng), t.Lat, t.Lng) / 1000
		hours := math.Abs(float64(t.TS-u.placeMS)) / 3_600_000
		speed := km / math.Max(hours, 1.0/3600)
		if km >= r.MinDistanceKm && speed > r.MaxSpeedKmh {
			out = append(out, d.alert(RuleImpossibleTravel, t, scoreOver(speed/r.MaxSpeedKmh), High,
				num("distance_km", math.Round(km*10)/10), num("minutes", math.Round(hours*600)/10),
				num("speed_kmh", math.Round(speed)), num("max_speed_kmh", r.MaxSpeedKmh),
				num("from_lat", float64(u.lat)), num("from_lng", float64(u.lng)), num("to_lat", t.Lat), num("to_lng", t.Lng)))
		}
	}
	if t.TS >= u.placeMS {
		u.placeMS, u.lat, u.lng = t.TS, float32(t.Lat), float32(t.Lng)
	}
	return out
}

// structuring counts transfers just under the reporting threshold.
func (d *Detector) structuring(pa *payer, t *events.Transaction, sec uint32, out []Alert) []Alert {
	r := &d.rules.Structuring
	lo := int64(float64(r.Threshold) * (1 - r.Band))
	if t.Amount < lo || t.Amount >= r.Threshold {
		return out
	}
	n := pushSmall(&pa.nearSec, &pa.nNear, sec, uint32(r.Window.Seconds()))
	if n < r.MinCount {
		return out
	}
	return append(out, d.alert(RuleStructuring, t, scoreOver(float64(n)/float64(r.MinCount)), High,
		num("transfers_below_threshold", float64(n)), num("threshold", float64(r.Threshold)),
		num("band_from", float64(lo)), num("amount", float64(t.Amount)), num("window_h", r.Window.Hours())))
}

// newAccount watches the spend of an account younger than account_age; it
// alerts when the total crosses max_total, and again at each doubling.
// Before the registration is known it counts from the first payment seen.
func (d *Detector) newAccount(u *user, pa *payer, t *events.Transaction, out []Alert) []Alert {
	r := &d.rules.NewAccountBurst
	age := r.AccountAge.Milliseconds()
	if pa.firstPayMS == 0 {
		pa.firstPayMS = t.TS
	}
	if u.registeredMS == 0 {
		if t.TS-pa.firstPayMS <= age {
			pa.firstSpend += t.Amount
		}
		return out
	}
	if t.TS < u.registeredMS || t.TS-u.registeredMS > age {
		return out
	}
	before := pa.firstSpend
	pa.firstSpend += t.Amount
	for level := r.MaxTotal; level <= pa.firstSpend && level > 0; level *= 2 {
		if before < level {
			return append(out, d.alert(RuleNewAccountBurst, t, scoreOver(float64(pa.firstSpend)/float64(r.MaxTotal)), High,
				num("total", float64(pa.firstSpend)), num("max_total", float64(r.MaxTotal)),
				num("account_age_h", math.Round(float64(t.TS-u.registeredMS)/360_000)/10)))
		}
	}
	return out
}
