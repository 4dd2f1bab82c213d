package aggregate

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/segmentio/kafka-go"

	"everywhere/arena"
	"everywhere/events"
	"everywhere/geo"
	"everywhere/pipeline/ack"
)

type txnKey struct {
	cellMinute
	kind events.TxnKind
}

type txnCount struct{ txns, total, max uint64 }

type spendKey struct {
	day  int64
	user string
	cell uint64
}

type spend struct{ purchases, purchaseTotal, refunds, refundTotal uint64 }

// Transactions aggregates one partition of the transactions topic into the
// per-cell table and the per-user spend board. A transaction without a
// location is counted in cell 0, so the cell table's totals are the
// topic's totals.
type Transactions struct {
	env       *Env
	dec       *events.Decoder
	loc       *geo.Locator
	ev        events.Transaction
	partition int
	wmCells   int64
	wmSpend   int64
	skipCells prometheus.Counter
	skipSpend prometheus.Counter
	counts    map[txnKey]txnCount
	spends    map[spendKey]int32 // where the key's sums are in sums
	sums      []spend
	// The users of spends' keys until the seal hands them over: one
	// allocation for thousands of them.
	users arena.Strings
	// OnEvent, when set, receives each valid transaction (a view, valid
	// only during the call) and the open run's ticket.
	OnEvent func(t *events.Transaction, tk *ack.Ticket)
}

// NewTransactions restores the partition's watermarks and returns its handler.
func NewTransactions(ctx context.Context, env *Env, partition int) (*Transactions, error) {
	wc, err := env.watermark(ctx, env.Sinks.TxnCells, TxnCellMinute.Name, partition)
	if err != nil {
		return nil, err
	}
	ws, err := env.watermark(ctx, env.Sinks.UserSpend, UserSpendDay.Name, partition)
	if err != nil {
		return nil, err
	}
	return &Transactions{env: env, dec: newDecoder(env), loc: env.locator(), partition: partition, wmCells: wc, wmSpend: ws,
		skipCells: env.skipped(TxnCellMinute.Name), skipSpend: env.skipped(UserSpendDay.Name),
		counts: map[txnKey]txnCount{}, spends: map[spendKey]int32{}}, nil
}

// Handle decodes a transaction and counts it.
func (h *Transactions) Handle(m *kafka.Message, t *ack.Ticket) error {
	ev := &h.ev
	if err := h.dec.Transaction(m.Value, ev); err != nil {
		return err
	}
	if !t.Replay { // counted when first read
		h.count(m, ev)
	}
	if h.OnEvent != nil {
		h.OnEvent(ev, t)
	}
	return nil
}

func (h *Transactions) count(m *kafka.Message, ev *events.Transaction) {
	var cell uint64
	if ev.HasLocation {
		cell, _ = h.env.cell(h.loc, ev.Lat, ev.Lng)
	}
	amount := uint64(ev.Amount)
	if m.Offset > h.wmCells {
		k := txnKey{cellMinute{cell, minuteOf(ev.TS)}, ev.Kind}
		c := h.counts[k]
		c.txns++
		c.total += amount
		c.max = max(c.max, amount)
		h.counts[k] = c
	} else {
		h.skipCells.Inc()
	}
	if ev.Kind != events.Purchase && ev.Kind != events.Refund {
		return
	}
	if m.Offset <= h.wmSpend {
		h.skipSpend.Inc()
		return
	}
	// The decoded id is a view into the fetch buffer: it may be used to look
	// up, never stored. Updates go through the index, because assigning
	// to an existing string key replaces the stored key with the view.
	k := spendKey{dayOf(ev.TS), ev.UserID, cell}
	i, ok := h.spends[k]
	if !ok {
		k.user = h.users.Copy(k.user)
		i = int32(len(h.sums))
		h.sums = append(h.sums, spend{})
		h.spends[k] = i
	}
	s := &h.sums[i]
	if ev.Kind == events.Purchase {
		s.purchases++
		s.purchaseTotal += amount
	} else {
		s.refunds++
		s.refundTotal += amount
	}
}

// Seal sends both aggregates.
func (h *Transactions) Seal(ctx context.Context, t *ack.Ticket, last int64) error {
	n := len(h.counts)
	src := newSourced(n)
	kinds := make([]string, 0, n)
	txns, totals, maxes := make([]uint64, 0, n), make([]uint64, 0, n), make([]uint64, 0, n)
	for k, c := range h.counts {
		src.add(k.cellMinute, h.partition, last)
		kinds = append(kinds, k.kind.String())
		txns = append(txns, c.txns)
		totals = append(totals, c.total)
		maxes = append(maxes, c.max)
	}
	clear(h.counts)
	if err := add(ctx, h.env.Sinks.TxnCells, t, rowsOf(n, src.cells, src.minutes, kinds, src.parts, src.offs, txns, totals, maxes)); err != nil {
		return err
	}
	n = len(h.spends)
	days, users, scells := make([]time.Time, 0, n), make([]string, 0, n), make([]uint64, 0, n)
	sparts, soffs := make([]uint16, 0, n), make([]uint64, 0, n)
	pc, pt, rc, rt := make([]uint64, 0, n), make([]uint64, 0, n), make([]uint64, 0, n), make([]uint64, 0, n)
	for k, i := range h.spends {
		s := &h.sums[i]
		days = append(days, dayTime(k.day))
		users = append(users, k.user)
		scells = append(scells, k.cell)
		sparts = append(sparts, uint16(h.partition))
		soffs = append(soffs, uint64(last))
		pc = append(pc, s.purchases)
		pt = append(pt, s.purchaseTotal)
		rc = append(rc, s.refunds)
		rt = append(rt, s.refundTotal)
	}
	clear(h.spends)
	h.sums = h.sums[:0]
	return add(ctx, h.env.Sinks.UserSpend, t, rowsOf(n, days, users, scells, sparts, soffs, pc, pt, rc, rt))
}
