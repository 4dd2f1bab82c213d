package fraud

import (
	"math"
	"slices"
	"strings"

	"everywhere/events"
)

// Path is money that moved along large transfers: Users[0] paid Users[1],
// who paid the next, ..., and the last hop was paid to To. The engine
// publishes it keyed by To, which is where the next hop is made.
type Path struct {
	To      string
	Users   []string
	TxnIDs  []string
	FirstMS int64
	LastMS  int64
	Amount  int64 // of the first hop; later hops must stay within tolerance
}

type outgoing struct {
	ms     int64
	to     string
	amount int64
	txnID  string
}

// flowState is kept only for users who send or receive large transfers.
type flowState struct {
	in     []Path     // paths that reached this user, at most smallSize
	out    []outgoing // this user's recent large transfers, at most smallSize
	lastMS int64      // the latest transfer or path kept, for Rings.Evict
}

func (d *Detector) flowFor(id string, ms int64) *flowState {
	f := d.flows[id]
	if f == nil {
		f = &flowState{}
		d.flows[strings.Clone(id)] = f
	}
	f.lastMS = max(f.lastMS, ms)
	return f
}

// hop reports whether a transfer at ms of amount continues path p.
func (d *Detector) hop(p *Path, ms, amount int64) bool {
	r := &d.rules.RoundTrip
	return ms > p.LastMS && ms-p.FirstMS <= r.Window.Milliseconds() &&
		math.Abs(float64(amount-p.Amount)) <= r.Tolerance*float64(p.Amount)
}

// transferOut handles a large transfer from t.UserID: it starts a path,
// extends or closes the paths that reached the payer.
func (d *Detector) transferOut(t *events.Transaction, out []Alert) []Alert {
	f := d.flowFor(t.UserID, t.TS)
	o := outgoing{ms: t.TS, to: strings.Clone(t.CounterpartyID), amount: t.Amount, txnID: strings.Clone(t.TxnID)}
	f.out = pushBounded(f.out, o)
	d.emit(&Path{To: o.to, Users: []string{strings.Clone(t.UserID)}, TxnIDs: []string{o.txnID}, FirstMS: t.TS, LastMS: t.TS, Amount: t.Amount})
	for i := range f.in {
		out = d.join(&f.in[i], strings.Clone(t.UserID), o, out)
	}
	return out
}

// Path handles a path that reached p.To: it is kept, and joined with the
// transfers p.To already made.
func (d *Detector) Path(p *Path, out []Alert) []Alert {
	f := d.flowFor(p.To, p.LastMS)
	cut := p.LastMS - d.rules.RoundTrip.Window.Milliseconds()
	f.in = slices.DeleteFunc(f.in, func(q Path) bool { return q.LastMS < cut })
	f.in = pushBounded(f.in, *p)
	for _, o := range f.out {
		out = d.join(p, p.To, o, out)
	}
	return out
}

// join continues path p (which reached payer) with payer's transfer o:
// back to the origin with three or more people is a ring; otherwise the
// path goes on to o.to while it has hops left.
func (d *Detector) join(p *Path, payer string, o outgoing, out []Alert) []Alert {
	if !d.hop(p, o.ms, o.amount) || slices.Contains(p.Users, payer) {
		return out
	}
	users := append(slices.Clone(p.Users), payer)
	txns := append(slices.Clone(p.TxnIDs), o.txnID)
	if o.to == p.Users[0] {
		if len(users) < 3 {
			return out // two people paying each other back is not a ring
		}
		return d.ring(users, txns, p, o, out)
	}
	if len(users) >= d.rules.RoundTrip.MaxHops || slices.Contains(users, o.to) {
		return out
	}
	d.emit(&Path{To: o.to, Users: users, TxnIDs: txns, FirstMS: p.FirstMS, LastMS: o.ms, Amount: p.Amount})
	return out
}

// ring raises one alert per member: everyone in a ring inflates their
// spend, and each member's account is what a risk team acts on.
func (d *Detector) ring(users, txns []string, p *Path, o outgoing, out []Alert) []Alert {
	r := &d.rules.RoundTrip
	score := scoreOver(float64(p.Amount) / float64(r.MinAmount))
	route := strings.Join(users, ">") + ">" + users[0]
	for _, u := range users {
		a := Alert{UserID: u, TS: o.ms, Rule: RuleRoundTrip, Score: score, Severity: severityOf(score, High), TxnIDs: txns,
			Evidence: []Field{str("ring", route), num("users", float64(len(users))), num("first_amount", float64(p.Amount)),
				num("last_amount", float64(o.amount)), num("minutes", float64((o.ms-p.FirstMS)/60_000)), num("min_amount", float64(r.MinAmount))}}
		a.finish(d.rules.Version)
		out = append(out, a)
	}
	return out
}

func (d *Detector) emit(p *Path) {
	if d.EmitPath != nil {
		d.EmitPath(p)
	}
}

func pushBounded[T any](s []T, v T) []T {
	if len(s) == smallSize {
		copy(s, s[1:])
		s = s[:smallSize-1]
	}
	return append(s, v)
}
