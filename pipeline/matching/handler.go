package matching

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/segmentio/kafka-go"

	"everywhere/geo"
	"everywhere/metrics"
	"everywhere/models/fraud"
	"everywhere/models/match"
	"everywhere/pipeline/ack"
	"everywhere/pipeline/batcher"
	"everywhere/pipeline/route"
	"everywhere/pipeline/sink"
)

// Sinks are where lists go: the suggestions topic, as soon as they are
// made (ProduceLists writes them), and the suggestions table, at each
// seal.
type Sinks struct {
	Kafka *batcher.Batcher[*Lists]
	Table *batcher.Batcher[*sink.Rows]
}

// Env is what the matchers of all partitions share.
type Env struct {
	Sinks        Sinks
	Params       *match.Params
	K            int
	Model        string
	Republish    time.Duration
	Sources      int // partitions of the user topics, the needs topic and the outcomes topic
	BaseCurrency string
	// Rules returns the fraud rules in force: a region finds money rings
	// itself, with the partitions' rule (see route.Transfers).
	Rules   func() *fraud.Rules
	Metrics *metrics.Metrics
	// Guesses is the table of helpers' cells by square that every
	// partition's matcher shares (match.NewGuesses); nil gives each
	// matcher a table of its own.
	Guesses *geo.Guesses
}

// Handler matches one partition of the regions topic.
type Handler struct {
	env   *Env
	ctx   context.Context
	dec   *route.Decoder
	rec   route.Record
	merge *Merge
	m     *match.Matcher
	rings *fraud.Rings
	found []fraud.Alert
	seals int
	cur   *ack.Ticket
	rows  rows
	err   error
	low   int64
	// The lists one Handle call makes go to the suggestions sink as one
	// chunk.
	lists *Lists

	published, changed, unchanged uint64
	helpers, needs, ringUsers     int
	latency                       prometheus.Observer
}

// NewHandler returns the matcher of one regions partition. ctx bounds the
// hand-offs to the sinks.
func NewHandler(ctx context.Context, env *Env) *Handler {
	h := &Handler{env: env, ctx: ctx, dec: route.NewDecoder(env.BaseCurrency), merge: NewMerge(env.Sources),
		m: match.NewMatcherSharing(env.Params, env.K, env.Guesses), rings: fraud.NewRings(env.Rules()), lists: NewLists(),
		latency: env.Metrics.EventToOutput.WithLabelValues("suggestions")}
	h.m.Publish = h.publish
	h.m.Republish = env.Republish.Milliseconds()
	return h
}

// Handle takes one record and hands the matcher every record the merge
// can now release, in event-time order.
func (h *Handler) Handle(msg *kafka.Message, t *ack.Ticket) error {
	if err := h.dec.Decode(msg.Value, &h.rec); err != nil {
		return err
	}
	h.cur = t
	h.merge.Push(&h.rec, msg.Offset)
	for {
		r, key := h.merge.Pop()
		if r == nil {
			break
		}
		switch r.Kind {
		case route.KindHelper:
			h.m.Helper(&r.Helper, key)
		case route.KindNeed:
			h.m.Advance(key)
			h.m.NeedMoved(&r.Need, r.Moves)
		case route.KindOutcome:
			h.m.Outcome(&r.Outcome, r.Source, r.Offset, key)
		case route.KindTransfer:
			h.transfer(&r.Transfer, r.TS, key)
		}
	}
	if low := h.merge.Low(); low > h.low {
		h.low = low
		h.m.Advance(low - 1) // what falls due before any record still to come
	}
	h.send()
	return nil
}

// transfer looks for the money rings a large transfer at event time ms
// closes, and keeps the members of a high one out of every list from its
// order key on: the same point of the merge in every run.
func (h *Handler) transfer(tr *route.Transfer, ms, key int64) {
	if r := h.env.Rules(); r != h.rings.Rules() {
		h.rings.SetRules(r)
	}
	h.m.Advance(key)
	h.found = h.rings.Transfer(tr.From, tr.To, tr.TxnID, ms, tr.Amount, h.found[:0])
	for i := range h.found {
		if a := &h.found[i]; a.Severity == fraud.High {
			h.m.Alert(a.UserID, a.TS)
		}
	}
}

func (h *Handler) publish(l *match.List) {
	if h.cur.Replay {
		return // published when the record was first read
	}
	now := time.Now()
	h.lists.Add(l, now.UnixMilli())
	h.latency.Observe(max(now.Sub(time.UnixMilli(l.EventTS)).Seconds(), 0))
	h.env.Metrics.ListLength.Observe(float64(len(l.Suggestions)))
	h.rows.add(l, h.env.Model)
}

// send hands the lists made since the last call to the suggestions sink
// in one chunk, and the blocks of rows filled to the table, under the
// open run's ticket.
func (h *Handler) send() {
	if h.lists.Len() == 0 {
		return
	}
	ls := h.lists
	h.lists = NewLists() // the chunk owns the old one now
	err := h.env.Sinks.Kafka.Add(h.ctx, batcher.Chunk[*Lists]{Data: ls, Rows: ls.Len(), Ticket: h.cur})
	if err == nil {
		err = h.rows.hand(h.table(h.ctx, h.cur), false)
	}
	if err != nil && h.err == nil {
		h.err = err // the run stays uncommitted and is read again
	}
}

// table returns what writes a block of rows to the suggestions table
// under ticket t.
func (h *Handler) table(ctx context.Context, t *ack.Ticket) func(*rowBlock) error {
	return func(b *rowBlock) error {
		return h.env.Sinks.Table.Add(ctx, batcher.Chunk[*sink.Rows]{Data: b.rows(), Rows: b.len(), Ticket: t})
	}
}

// Held keeps the records the merge still holds uncommitted.
func (h *Handler) Held() int64 { return h.merge.Held() }

// Seal writes the run's rows and reports state sizes.
func (h *Handler) Seal(ctx context.Context, t *ack.Ticket, _ int64) error {
	if err := h.err; err != nil {
		return err
	}
	if err := h.rows.hand(h.table(ctx, t), true); err != nil {
		return err
	}
	if h.seals++; h.seals%64 == 0 {
		h.rings.Evict(h.low)
	}
	h.report()
	return nil
}

func (h *Handler) report() {
	mt := h.env.Metrics
	mt.Suggestions.Add(float64(h.m.Published - h.published))
	mt.Rematches.WithLabelValues("published").Add(float64(h.m.Changed - h.changed))
	mt.Rematches.WithLabelValues("unchanged").Add(float64(h.m.Unchanged - h.unchanged))
	h.published, h.changed, h.unchanged = h.m.Published, h.m.Changed, h.m.Unchanged
	mt.MatchHelpers.Add(float64(h.m.Helpers() - h.helpers))
	mt.OpenNeeds.Add(float64(h.m.OpenNeeds() - h.needs))
	h.helpers, h.needs = h.m.Helpers(), h.m.OpenNeeds()
	mt.RingUsers.Add(float64(h.rings.Users() - h.ringUsers))
	h.ringUsers = h.rings.Users()
}

// Close takes this partition's state out of the gauges.
func (h *Handler) Close() {
	h.env.Metrics.MatchHelpers.Sub(float64(h.helpers))
	h.env.Metrics.OpenNeeds.Sub(float64(h.needs))
	h.env.Metrics.RingUsers.Sub(float64(h.ringUsers))
}
