package route

import (
	"everywhere/models/fraud"
	"everywhere/pipeline/ack"
)

// Transfers sends one user partition's large transfers to every regions
// partition. The regions find money rings themselves (fraud.Rings), each
// over every user's transfers in the event-time order it merges its
// sources in: a ring found by the partitions closes when its last path is
// read from the paths topic, which depends on timing, and its members
// must leave the lists at the same point in every run. Large transfers
// are few, so each region hears of all of them, as of outcomes.
type Transfers struct {
	out *Emitter
	tr  Transfer
	rec []byte // the record being sent, encoded once for every partition
}

// NewTransfers returns the transfer router of a user partition; out is
// the partition's emitter, so its transfers are in order with its helpers.
func NewTransfers(out *Emitter) *Transfers { return &Transfers{out: out} }

// Transfer sends a large transfer the partition's detector scored: the
// first hop of a money path, p.Users[0] paying p.To.
func (x *Transfers) Transfer(p *fraud.Path, t *ack.Ticket) {
	x.out.Observe(p.LastMS, t)
	x.tr = Transfer{From: p.Users[0], To: p.To, TxnID: p.TxnIDs[0], Amount: p.Amount}
	x.rec = AppendTransfer(x.rec[:0], x.out.src, x.out.WM(), p.LastMS, &x.tr)
	x.out.everyPartition(x.tr.From, x.rec)
}
