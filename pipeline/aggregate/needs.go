package aggregate

import (
	"context"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/segmentio/kafka-go"

	"everywhere/events"
	"everywhere/geo"
	"everywhere/pipeline/ack"
)

type needKey struct {
	cellMinute
	category events.Category
	status   events.NeedStatus
}

type needCount struct{ needs, reward uint64 }

// Needs aggregates one partition of the needs topic. Status updates that
// carry no place have no cell and are not part of the cell aggregate.
type Needs struct {
	env       *Env
	dec       *events.Decoder
	loc       *geo.Locator
	ev        events.Need
	partition int
	watermark int64
	skipped   prometheus.Counter
	counts    map[needKey]needCount
	// OnEvent, when set, receives each valid need (a view, valid only
	// during the call) and the open run's ticket.
	OnEvent func(n *events.Need, t *ack.Ticket)
}

// NewNeeds restores the partition's watermark and returns its handler.
func NewNeeds(ctx context.Context, env *Env, partition int) (*Needs, error) {
	wm, err := env.watermark(ctx, env.Sinks.NeedCells, NeedCellMinute.Name, partition)
	if err != nil {
		return nil, err
	}
	return &Needs{env: env, dec: newDecoder(env), loc: env.locator(), partition: partition, watermark: wm,
		skipped: env.skipped(NeedCellMinute.Name), counts: map[needKey]needCount{}}, nil
}

// Handle decodes a need and counts it.
func (h *Needs) Handle(m *kafka.Message, t *ack.Ticket) error {
	if err := h.dec.Need(m.Value, &h.ev); err != nil {
		return err
	}
	if h.OnEvent != nil {
		h.OnEvent(&h.ev, t)
	}
	if t.Replay || !h.ev.HasPlace || h.ev.Category == events.CategoryNone {
		return nil
	}
	if m.Offset <= h.watermark {
		h.skipped.Inc()
		return nil
	}
	cell, _ := h.env.cell(h.loc, h.ev.Lat, h.ev.Lng)
	k := needKey{cellMinute{cell, minuteOf(h.ev.TS)}, h.ev.Category, h.ev.Status}
	c := h.counts[k]
	c.needs++
	c.reward += uint64(h.ev.Reward)
	h.counts[k] = c
	return nil
}

// Seal sends the counts.
func (h *Needs) Seal(ctx context.Context, t *ack.Ticket, last int64) error {
	n := len(h.counts)
	src := newSourced(n)
	cats, statuses := make([]string, 0, n), make([]string, 0, n)
	needs, rewards := make([]uint64, 0, n), make([]uint64, 0, n)
	for k, c := range h.counts {
		src.add(k.cellMinute, h.partition, last)
		cats = append(cats, k.category.String())
		statuses = append(statuses, k.status.String())
		needs = append(needs, c.needs)
		rewards = append(rewards, c.reward)
	}
	clear(h.counts)
	return add(ctx, h.env.Sinks.NeedCells, t, rowsOf(n, src.cells, src.minutes, cats, statuses, src.parts, src.offs, needs, rewards))
}
