package route

import (
	"strings"

	"everywhere/events"
	"everywhere/models/match"
	"everywhere/pipeline/ack"
)

// Needs routes one need partition's needs to their regions' partitions. It
// remembers where each open need went, so that a status update, which
// carries no place, follows it there, and a need that moves to another
// region's partition is closed in the old one. It counts those moves and
// tells the new partition (Record.Moves): the lists it publishes must
// carry versions above those the old one published.
type Needs struct {
	out  *Emitter
	reg  *Regions
	open map[string]placed
	seen int
}

type placed struct {
	partition int
	expiresAt int64
	moves     int // to another partition, so far
}

// NewNeeds returns the router of one need partition.
func NewNeeds(out *Emitter, reg *Regions) *Needs {
	return &Needs{out: out, reg: reg, open: map[string]placed{}}
}

// Need sends a need, or its update, to its region.
func (n *Needs) Need(ev *events.Need, t *ack.Ticket) {
	n.out.Observe(ev.TS, t)
	if n.seen++; n.seen%4096 == 0 {
		n.forget()
	}
	was, known := n.open[ev.NeedID]
	if ev.Status == events.Open && ev.HasPlace {
		_, p := n.reg.Of(ev.Lat, ev.Lng)
		now := placed{partition: p, expiresAt: ev.ExpiresAt, moves: was.moves}
		if known && was.partition != p {
			n.closeIn(was.partition, ev, was.moves)
			now.moves = min(was.moves+1, match.MaxMoves)
		}
		if !known {
			n.open[strings.Clone(ev.NeedID)] = now
		} else {
			n.open[ev.NeedID] = now
		}
		n.write(p, ev, now.moves)
		n.out.Send(t)
		return
	}
	// A cancellation or fulfilment goes where the need is; if this
	// partition never saw it open (it opened before a restart), everywhere.
	if known {
		delete(n.open, ev.NeedID)
		n.write(was.partition, ev, was.moves)
		return
	}
	for p := range n.reg.Partitions() {
		n.write(p, ev, 0)
	}
}

// closeIn cancels need ev, which moved, in partition p, where it was
// open, at the time of the move. The record is a status update as the
// needs topic would carry it: no place, and the need's radius and
// currency, which a region checks as it checks every need it reads. A
// record without them fails the check: it would go to the dead letters
// and leave the need open in its old region, ranked there and published
// beside the new region's lists.
func (n *Needs) closeIn(p int, ev *events.Need, moves int) {
	c := events.Need{NeedID: ev.NeedID, TS: ev.TS, RadiusM: ev.RadiusM, Currency: ev.Currency, Status: events.Cancelled}
	n.write(p, &c, moves)
}

func (n *Needs) write(p int, ev *events.Need, moves int) {
	n.out.begin(p, ev.NeedID)
	n.out.pack.Buf = AppendNeed(n.out.pack.Buf, n.out.src, n.out.WM(), moves, ev)
	n.out.end()
}

// Open is the number of needs this router is keeping track of.
func (n *Needs) Open() int { return len(n.open) }

// forget drops needs that expired before the watermark, every few thousand
// needs: they are closed in their regions by expiry, and need no update
// routed.
func (n *Needs) forget() {
	wm := n.out.WM()
	for id, pl := range n.open {
		if pl.expiresAt <= wm {
			delete(n.open, id)
		}
	}
}
