package fraud

import (
	"slices"

	"everywhere/events"
)

// Rings finds money rings (round_trip) over every user's large transfers
// at once, as a detector that holds every user does. The partitions find
// rings too, and publish their alerts; but a ring found there closes when
// its last path is read from the paths topic, and when that is depends on
// timing. The regions each run a Rings over the large transfers every
// user partition sends them, in the event-time order they merge their
// sources in, so that a ring's members leave the lists at the same point
// in every run: at the transfer that closes the ring.
//
// The rule is the partitions' own code, paths delivered at once instead
// of through Kafka, so both find the same rings (the detector's joins do
// not depend on the order paths and transfers meet).
type Rings struct {
	lb  *loopback
	txn events.Transaction
}

// NewRings returns a ring finder with rules r.
func NewRings(r *Rules) *Rings { return &Rings{lb: newLoopback(r)} }

// SetRules swaps the rules; later transfers use them.
func (g *Rings) SetRules(r *Rules) { g.lb.d.SetRules(r) }

// Rules returns the rules in force.
func (g *Rings) Rules() *Rules { return g.lb.d.Rules() }

// Transfer takes a large transfer (at least the rule's minimum, between
// two users) from one user to another at event time ms, and appends the
// alerts of the rings it closes, one per member.
func (g *Rings) Transfer(from, to, txnID string, ms, amount int64, out []Alert) []Alert {
	if from == to || amount < g.lb.d.rules.RoundTrip.MinAmount || g.seen(from, txnID) {
		return out
	}
	g.txn = events.Transaction{TxnID: txnID, UserID: from, TS: ms, Amount: amount, Kind: events.Transfer,
		CounterpartyID: to, CounterpartyKind: events.User}
	return g.lb.drain(g.lb.d.transferOut(&g.txn, out))
}

// seen reports whether from's transfer txnID is kept already: a user
// partition sends again what it sent after its last commit, and kept
// twice, a transfer would take the room of another.
func (g *Rings) seen(from, txnID string) bool {
	f := g.lb.d.flows[from]
	return f != nil && slices.ContainsFunc(f.out, func(o outgoing) bool { return o.txnID == txnID })
}

// Users is the number of users whose transfers or paths are kept.
func (g *Rings) Users() int { return len(g.lb.d.flows) }

// Evict drops what users did before nowMS less the rule's window: no ring
// can use it any more.
func (g *Rings) Evict(nowMS int64) int {
	cut := nowMS - g.lb.d.rules.RoundTrip.Window.Milliseconds()
	n := 0
	for id, f := range g.lb.d.flows {
		if f.lastMS < cut {
			delete(g.lb.d.flows, id)
			n++
		}
	}
	return n
}
