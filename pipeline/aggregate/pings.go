package aggregate

import (
	"context"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/segmentio/kafka-go"

	"everywhere/events"
	"everywhere/geo"
	"everywhere/pipeline/ack"
	"everywhere/pipeline/sink"
)

type pingCount struct{ pings, available uint64 }

type cellUser struct {
	cellMinute
	user uint64
}

// Pings aggregates one partition of the pings topic.
type Pings struct {
	env       *Env
	dec       *events.Decoder
	loc       *geo.Locator
	ev        events.Ping
	partition int
	watermark int64
	skipped   prometheus.Counter
	counts    map[cellMinute]pingCount
	users     map[cellUser]uint8
	// OnEvent, when set, receives each valid ping (a view, valid only
	// during the call), its cell at Env.PlaceResolution (0 where H3 has
	// none), and the open run's ticket.
	OnEvent func(p *events.Ping, cell uint64, t *ack.Ticket)
}

// NewPings restores the partition's watermark and returns its handler.
func NewPings(ctx context.Context, env *Env, partition int) (*Pings, error) {
	wm, err := env.watermark(ctx, PingCellMinute.Name, partition)
	if err != nil {
		return nil, err
	}
	return newPings(env, partition, wm), nil
}

// newPings returns the handler of a partition whose rows up to offset wm
// are counted.
func newPings(env *Env, partition int, wm int64) *Pings {
	return &Pings{env: env, dec: newDecoder(env), loc: env.locator(), partition: partition, watermark: wm,
		skipped: env.skipped(PingCellMinute.Name),
		counts:  map[cellMinute]pingCount{}, users: map[cellUser]uint8{}}
}

// Handle decodes a ping and counts it.
func (h *Pings) Handle(m *kafka.Message, t *ack.Ticket) error {
	if err := h.dec.Ping(m.Value, &h.ev); err != nil {
		return err
	}
	cell, place := h.env.cell(h.loc, h.ev.Lat, h.ev.Lng)
	if h.OnEvent != nil {
		h.OnEvent(&h.ev, place, t)
	}
	if t.Replay {
		return nil // counted when first read
	}
	k := cellMinute{cell, minuteOf(h.ev.TS)}
	var avail uint8
	if h.ev.Available {
		avail = 1
	}
	// Distinct users are a set: a replayed ping adds nothing, so no watermark.
	uk := cellUser{k, userHash(h.ev.UserID)}
	h.users[uk] |= avail
	if m.Offset <= h.watermark {
		h.skipped.Inc()
		return nil
	}
	c := h.counts[k]
	c.pings++
	c.available += uint64(avail)
	h.counts[k] = c
	return nil
}

// Seal sends the counts and the distinct users.
func (h *Pings) Seal(ctx context.Context, t *ack.Ticket, last int64) error {
	cells, users := h.rows(last)
	if err := add(ctx, h.env.Sinks.PingCells, t, cells); err != nil {
		return err
	}
	return add(ctx, h.env.Sinks.PingUsers, t, users)
}

// rows turns what the run counted into the rows of ping_cell_minute and
// ping_users_in, and empties the handler for the next run; last is the
// run's last offset.
func (h *Pings) rows(last int64) (cells, users *sink.Rows) {
	n := len(h.counts)
	src := newSourced(n)
	pings, avail := make([]uint64, 0, n), make([]uint64, 0, n)
	for k, c := range h.counts {
		src.add(k, h.partition, last)
		pings = append(pings, c.pings)
		avail = append(avail, c.available)
	}
	clear(h.counts)
	cells = rowsOf(n, src.cells, src.minutes, src.parts, src.offs, pings, avail)
	n = len(h.users)
	ucells, umins := make([]uint64, 0, n), make([]int64, 0, n)
	ids, uavail := make([]uint64, 0, n), make([]uint8, 0, n)
	for k, a := range h.users {
		ucells = append(ucells, k.cell)
		umins = append(umins, minuteTime(k.minute))
		ids = append(ids, k.user)
		uavail = append(uavail, a)
	}
	clear(h.users)
	return cells, rowsOf(n, ucells, umins, ids, uavail)
}
