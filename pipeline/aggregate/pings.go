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

// cellCount is a row of ping_cell_minute being counted.
type cellCount struct {
	k cellMinute
	n pingCount
}

// seenLog2 sizes the users' rows a handler remembers sending (see
// Pings.seen): 2^14 of them, 128 KiB, which a core's cache holds.
const seenLog2 = 14

// Pings aggregates one partition of the pings topic.
type Pings struct {
	env       *Env
	dec       *events.Decoder
	loc       *geo.Locator
	ev        events.Ping
	partition int
	watermark int64
	skipped   prometheus.Counter
	// cellAt indexes cells, the run's rows of ping_cell_minute, by key.
	cellAt cellIndex
	cells  []cellCount
	// seen holds, at a place its fingerprint picks, the fingerprint of
	// a users row (cell, minute, user, availability) lately added to
	// users. ping_users_in feeds uniqExact states, to which a row sent
	// twice adds nothing, so the handler need not keep an exact set: a
	// row is added unless seen holds it, and two rows that take the same
	// place only cost a row sent again. A set of every row, a map with
	// a 24-byte key, took a fifth of a ping's aggregation where each
	// user pings once a minute and so few rows repeat. seen outlives a
	// run: the rows it holds went out with an earlier run of the same
	// assignment, committed before any later one.
	seen  []uint64
	users userRows
	// OnEvent, when set, receives each valid ping (a view, valid only
	// during the call), its cell at Env.PlaceResolution (0 where H3 has
	// none), and the open run's ticket.
	OnEvent func(p *events.Ping, cell uint64, t *ack.Ticket)
}

// NewPings restores the partition's watermark and returns its handler.
func NewPings(ctx context.Context, env *Env, partition int) (*Pings, error) {
	wm, err := env.watermark(ctx, env.Sinks.PingCells, PingCellMinute.Name, partition)
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
		seen:    make([]uint64, 1<<seenLog2)}
}

// userRows are the columns of ping_users_in.
type userRows struct {
	cells, users []uint64
	minutes      []int64 // Unix seconds
	avail        []uint8
}

// addUser adds a users row unless seen holds it.
func (h *Pings) addUser(k cellMinute, user uint64, avail uint8) {
	f := rowPrint(k, user, avail)
	at := &h.seen[f&(1<<seenLog2-1)]
	if *at == f {
		return
	}
	*at = f
	u := &h.users
	u.cells, u.minutes = append(u.cells, k.cell), append(u.minutes, minuteTime(k.minute))
	u.users, u.avail = append(u.users, user), append(u.avail, avail)
}

// rowPrint is a 64-bit fingerprint of a users row, never 0 (an empty
// place of seen): two rows share one about once in 2^63 comparisons.
func rowPrint(k cellMinute, user uint64, avail uint8) uint64 {
	f := mix64(k.cell ^ mix64(uint64(k.minute)<<1|uint64(avail)) ^ mix64(user))
	return f | 1
}

// mix64 is the finalizer of MurmurHash3: every input bit moves about
// half the output bits.
func mix64(x uint64) uint64 {
	x ^= x >> 33
	x *= 0xff51afd7ed558ccd
	x ^= x >> 33
	x *= 0xc4ceb9fe1a85ec53
	x ^= x >> 33
	return x
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
	h.addUser(k, userHash(h.ev.UserID), avail)
	if m.Offset <= h.watermark {
		h.skipped.Inc()
		return nil
	}
	i, added := h.cellAt.at(k, int32(len(h.cells)))
	if added {
		h.cells = append(h.cells, cellCount{k: k})
	}
	c := &h.cells[i].n
	c.pings++
	c.available += uint64(avail)
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
	n := len(h.cells)
	src := newSourced(n)
	pings, avail := make([]uint64, 0, n), make([]uint64, 0, n)
	for _, c := range h.cells {
		src.add(c.k, h.partition, last)
		pings = append(pings, c.n.pings)
		avail = append(avail, c.n.available)
	}
	h.cellAt.reset()
	h.cells = h.cells[:0]
	cells = rowsOf(n, src.cells, src.minutes, src.parts, src.offs, pings, avail)
	// The columns go to the batcher as they are; the next run starts
	// new ones as large.
	u := h.users
	n = len(u.users)
	h.users = userRows{cells: make([]uint64, 0, n), users: make([]uint64, 0, n), minutes: make([]int64, 0, n), avail: make([]uint8, 0, n)}
	return cells, rowsOf(n, u.cells, u.minutes, u.users, u.avail)
}
