package aggregate

import (
	"context"
	"time"

	"github.com/segmentio/kafka-go"

	"everywhere/arena"
	"everywhere/events"
	"everywhere/pipeline/ack"
)

// Outcomes writes every valid outcome to the outcomes table, which collapses
// a replayed row by its key; the matching model learns from the same stream.
type Outcomes struct {
	env  *Env
	dec  *events.Decoder
	ev   events.Outcome
	need []string
	help []string
	ts   []uint64
	time []int64 // Unix seconds
	kind []string
	rate []uint8
	ids  arena.Strings // the rows' ids until the seal hands them over
	// OnEvent, when set, receives each valid outcome (a view, valid only
	// during the call), its offset in the partition and the open run's
	// ticket.
	OnEvent func(o *events.Outcome, offset int64, t *ack.Ticket)
}

// NewOutcomes returns the handler of an outcomes partition.
func NewOutcomes(_ context.Context, env *Env, _ int) (*Outcomes, error) {
	return &Outcomes{env: env, dec: newDecoder(env)}, nil
}

// Handle decodes an outcome and queues its row.
func (h *Outcomes) Handle(m *kafka.Message, t *ack.Ticket) error {
	if err := h.dec.Outcome(m.Value, &h.ev); err != nil {
		return err
	}
	if h.OnEvent != nil {
		h.OnEvent(&h.ev, m.Offset, t)
	}
	if t.Replay {
		return nil // written when first read
	}
	h.need = append(h.need, h.ids.Copy(h.ev.NeedID))
	h.help = append(h.help, h.ids.Copy(h.ev.HelperID))
	h.ts = append(h.ts, uint64(h.ev.TS))
	h.time = append(h.time, time.UnixMilli(h.ev.TS).Unix())
	h.kind = append(h.kind, h.ev.Outcome.String())
	h.rate = append(h.rate, uint8(h.ev.Rating))
	return nil
}

// Seal sends the queued rows.
func (h *Outcomes) Seal(ctx context.Context, t *ack.Ticket, _ int64) error {
	rows := rowsOf(len(h.need), h.need, h.help, h.ts, h.time, h.kind, h.rate)
	h.need, h.help, h.ts, h.time, h.kind, h.rate = nil, nil, nil, nil, nil, nil
	return add(ctx, h.env.Sinks.Outcomes, t, rows)
}

// Profiles validates the profiles topic; profiles feed matching, and have no
// aggregate table of their own.
type Profiles struct {
	dec *events.Decoder
	ev  events.Profile
	// OnEvent, when set, receives each valid profile (a view, valid only
	// during the call) and the open run's ticket.
	OnEvent func(p *events.Profile, t *ack.Ticket)
}

// NewProfiles returns the handler of a profiles partition.
func NewProfiles(_ context.Context, env *Env, _ int) (*Profiles, error) {
	return &Profiles{dec: newDecoder(env)}, nil
}

// Handle decodes a profile and passes it on.
func (h *Profiles) Handle(m *kafka.Message, t *ack.Ticket) error {
	if err := h.dec.Profile(m.Value, &h.ev); err != nil {
		return err
	}
	if h.OnEvent != nil {
		h.OnEvent(&h.ev, t)
	}
	return nil
}

// Seal has nothing to write.
func (h *Profiles) Seal(context.Context, *ack.Ticket, int64) error { return nil }
