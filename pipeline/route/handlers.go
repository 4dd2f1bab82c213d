package route

import (
	"context"

	"github.com/segmentio/kafka-go"

	"everywhere/consumers"
	"everywhere/events"
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

// Idle tells the regions the source has nothing more for now.
func (s Sealing) Idle(t *ack.Ticket) { s.Out.Idle(t) }

// Close closes the inner handler if it must be.
func (s Sealing) Close() {
	if c, ok := s.Inner.(consumers.Closer); ok {
		c.Close()
	}
}

// HelperOutcomes reads the outcomes re-keyed by helper, so that the
// helper's own partition learns their record.
type HelperOutcomes struct {
	dec *events.Decoder
	ev  events.Outcome
	h   *Helpers
}

// NewHelperOutcomes returns the handler of one partition of the re-keyed
// outcomes.
func NewHelperOutcomes(baseCurrency string, h *Helpers) *HelperOutcomes {
	return &HelperOutcomes{dec: events.NewDecoder(baseCurrency), h: h}
}

// Handle decodes an outcome and teaches the helper's record.
func (o *HelperOutcomes) Handle(m *kafka.Message, t *ack.Ticket) error {
	if err := o.dec.Outcome(m.Value, &o.ev); err != nil {
		return err
	}
	o.h.Outcome(&o.ev, t)
	return nil
}

// Seal has nothing of its own to write.
func (o *HelperOutcomes) Seal(context.Context, *ack.Ticket, int64) error { return nil }
