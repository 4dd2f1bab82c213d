package route

import (
	"context"

	"github.com/segmentio/kafka-go"

	"everywhere/consumers"
	"everywhere/events"
	"everywhere/models/match"
	"everywhere/pipeline/ack"
)

// Sealing wraps a handler of a set whose partition routes to the regions:
// after the inner seal, the emitter hands its pending records over under
// the same ticket (so a commit never covers a record not yet written), and
// an idle worker tells the regions so.
type Sealing struct {
	Inner consumers.Handler
	Out   *Emitter
}

// Handle passes the message on.
func (s Sealing) Handle(m *kafka.Message, t *ack.Ticket) error { return s.Inner.Handle(m, t) }

// Seal seals the inner handler, then the emitter.
func (s Sealing) Seal(ctx context.Context, t *ack.Ticket, last int64) error {
	if err := s.Inner.Seal(ctx, t, last); err != nil {
		return err
	}
	return s.Out.Seal(t)
}

// Preload passes the messages on to a Preloader.
func (s Sealing) Preload(msgs []kafka.Message) {
	if p, ok := s.Inner.(consumers.Preloader); ok {
		p.Preload(msgs)
	}
}

// Idle tells the regions the source has nothing more for now.
func (s Sealing) Idle(t *ack.Ticket) { s.Out.Idle(t) }

// Close closes the inner handler if it must be.
func (s Sealing) Close() {
	if c, ok := s.Inner.(consumers.Closer); ok {
		c.Close()
	}
}

// Outcomes routes one outcome partition's outcomes to every regions
// partition. An outcome changes a helper's record, and the helper may be
// in any region: outcomes are few, so each region hears of all of them,
// in event-time order with everything else, and the matchers learn the
// same records whatever the order outcomes were read in. An outcome that
// teaches the model nothing (match.Teaches) moves the source's watermark
// and goes nowhere.
type Outcomes struct {
	out *Emitter
	rec []byte // the record being sent, encoded once for every partition
}

// NewOutcomes returns the router of one outcome partition.
func NewOutcomes(out *Emitter) *Outcomes { return &Outcomes{out: out} }

// Outcome sends an outcome, read at offset, to every partition. The
// record is the same for all of them, so it is encoded once and copied:
// encoded per partition, outcomes took more of a catch-up's CPU than
// routing every helper did.
func (o *Outcomes) Outcome(ev *events.Outcome, offset int64, t *ack.Ticket) {
	o.out.Observe(ev.TS, t)
	if !match.Teaches(ev.Outcome, ev.Rating) {
		return
	}
	o.rec = AppendOutcome(o.rec[:0], o.out.src, o.out.WM(), offset, ev)
	o.out.everyPartition(ev.HelperID, o.rec)
}
