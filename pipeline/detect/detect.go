// Package detect runs the fraud detectors inside the engine: one detector
// per partition number of the user-keyed topics (pings, profiles,
// transactions and the money paths), fed in event-time order by the
// partition worker, publishing alerts and paths as they happen under the
// run's ticket, so their input is committed only once they are durable.
package detect

import (
	"context"
	"slices"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/segmentio/kafka-go"

	"everywhere/events"
	"everywhere/metrics"
	"everywhere/models/fraud"
	"everywhere/pipeline/ack"
	"everywhere/pipeline/batcher"
)

// Sinks are where alerts and paths go.
type Sinks struct {
	AlertsKafka *batcher.Batcher[[]fraud.Alert]
	AlertsTable *batcher.Batcher[[]fraud.Alert]
	// Paths takes the records of the money-paths topic, encoded.
	Paths *batcher.Batcher[[]kafka.Message]
}

// Env is what every partition's detector shares.
type Env struct {
	Sinks   Sinks
	Rules   *Rules
	Metrics *metrics.Metrics
}

// Partition is the detector of one partition number.
type Partition struct {
	keys     []string // Preload's scratch
	env      *Env
	ctx      context.Context
	d        *fraud.Detector
	cur      *ack.Ticket
	alerts   []fraud.Alert
	users    int
	late     int
	repeated int
	maxTS    int64
	seals    int
	pdec     pathDecoder
	path     fraud.Path
	err      error // first failed hand-off to a sink: the run must not commit
	latency  prometheus.Observer
	// OnAlert, when set, sees every alert for a user of this partition,
	// under its run's ticket.
	OnAlert func(a *fraud.Alert, t *ack.Ticket)
	// OnTransfer, when set, sees every large transfer scored here (a
	// money path's first hop), under its run's ticket, replayed ones too.
	OnTransfer func(p *fraud.Path, t *ack.Ticket)
}

// NewPartition starts an empty detector. ctx bounds the hand-offs to the
// sinks: when it ends, output not handed over keeps its run uncommitted.
func NewPartition(ctx context.Context, env *Env) *Partition {
	p := &Partition{env: env, ctx: ctx, d: fraud.New(env.Rules.Load()), latency: env.Metrics.EventToOutput.WithLabelValues("alerts")}
	p.d.EmitPath = p.emitPath
	return p
}

func (p *Partition) sync(t *ack.Ticket, ts int64) {
	if r := p.env.Rules.Load(); r != p.d.Rules() {
		p.d.SetRules(r)
	}
	p.cur = t
	p.maxTS = max(p.maxTS, ts)
}

// OnPing feeds a ping and returns its user's number (see Detector).
func (p *Partition) OnPing(ev *events.Ping, t *ack.Ticket) (user int32) {
	p.sync(t, ev.TS)
	return p.d.Ping(ev)
}

// Detector is the partition's detector, whose numbering of the
// partition's users the helper router shares (fraud.Detector.Number).
func (p *Partition) Detector() *fraud.Detector { return p.d }

// OnProfile feeds a profile; a late one may complete an alert.
func (p *Partition) OnProfile(ev *events.Profile, t *ack.Ticket) {
	p.sync(t, ev.TS)
	p.alerts = p.d.Profile(ev, p.alerts[:0])
	p.publish(t, ev.UserID)
}

// OnTransaction scores a transaction and publishes its alerts.
func (p *Partition) OnTransaction(ev *events.Transaction, t *ack.Ticket) {
	p.sync(t, ev.TS)
	p.alerts = p.d.Transaction(ev, p.alerts[:0])
	p.publish(t, ev.UserID)
}

// publish hands over the alerts of an event keyed by user key. An alert
// for another user (a member of a ring closed here) is published, and
// nothing more: the regions find rings themselves to keep members out of
// the lists (see route.Transfers).
func (p *Partition) publish(t *ack.Ticket, key string) {
	if len(p.alerts) == 0 {
		return
	}
	if t.Replay {
		// A replayed message's alerts and paths were published the first
		// time; what keeps state from them (the helper router) must still
		// hear them.
		for i := range p.alerts {
			if a := &p.alerts[i]; p.OnAlert != nil && a.UserID == key {
				p.OnAlert(a, t)
			}
		}
		return
	}
	chunk := slices.Clone(p.alerts)
	now := time.Now()
	for i := range chunk {
		a := &chunk[i]
		p.env.Metrics.Alerts.WithLabelValues(a.Rule, a.Severity.String()).Inc()
		p.latency.Observe(max(now.Sub(time.UnixMilli(a.TS)).Seconds(), 0))
		if a.UserID == key && p.OnAlert != nil {
			p.OnAlert(a, t)
		}
	}
	p.add(p.env.Sinks.AlertsKafka.Add(p.ctx, batcher.Chunk[[]fraud.Alert]{Data: chunk, Rows: len(chunk), Ticket: t}))
	p.add(p.env.Sinks.AlertsTable.Add(p.ctx, batcher.Chunk[[]fraud.Alert]{Data: chunk, Rows: len(chunk), Ticket: t}))
}

func (p *Partition) emitPath(fp *fraud.Path) {
	if len(fp.Users) == 1 && p.OnTransfer != nil {
		p.OnTransfer(fp, p.cur)
	}
	if p.cur.Replay {
		return
	}
	p.send(fp.To, AppendPath(nil, fp), p.cur)
}

// send hands one record of the paths topic, keyed by user to, over under
// ticket t.
func (p *Partition) send(to string, value []byte, t *ack.Ticket) {
	msg := []kafka.Message{{Key: []byte(to), Value: value}}
	p.add(p.env.Sinks.Paths.Add(p.ctx, batcher.Chunk[[]kafka.Message]{Data: msg, Rows: 1, Ticket: t}))
}

// add keeps the first failed hand-off. Its ticket was taken before the
// hand-off failed and is never released, so the run stays uncommitted and
// is read again: the alert is delayed, never lost.
func (p *Partition) add(err error) {
	if err != nil && p.err == nil {
		p.err = err
	}
}

// Seal reports state sizes and, now and then, evicts idle users.
func (p *Partition) Seal() error {
	p.seals++
	if p.seals%64 == 0 {
		p.d.Evict(p.maxTS)
	}
	m := p.env.Metrics
	m.FraudUsers.Add(float64(p.d.Users() - p.users))
	p.users = p.d.Users()
	m.LateEvents.Add(float64(p.d.Late() - p.late))
	p.late = p.d.Late()
	m.Repeated.Add(float64(p.d.Repeated() - p.repeated))
	p.repeated = p.d.Repeated()
	return p.err
}

// Close takes this partition's users out of the state gauge.
func (p *Partition) Close() { p.env.Metrics.FraudUsers.Sub(float64(p.users)) }

// Paths handles the money-paths topic of one partition.
type Paths struct{ P *Partition }

// Handle decodes a path and joins it with the payee's transfers.
func (h Paths) Handle(m *kafka.Message, t *ack.Ticket) error {
	p := h.P
	notice, err := p.pdec.decode(m.Value, &p.path)
	if err != nil {
		return err
	}
	p.sync(t, p.path.LastMS)
	if notice {
		// A notice of a ring member's high alert: a valid record of the
		// topic, but nothing this partition needs, since the regions
		// find rings themselves.
		return nil
	}
	path := p.path
	path.Users, path.TxnIDs = slices.Clone(path.Users), slices.Clone(path.TxnIDs)
	p.alerts = p.d.Path(&path, p.alerts[:0])
	p.publish(t, path.To)
	return nil
}

// Seal reports the detector's state.
func (h Paths) Seal(context.Context, *ack.Ticket, int64) error { return h.P.Seal() }

// AlertMessages encodes alerts for the alerts topic, keyed by user.
func AlertMessages(dst []kafka.Message, chunk []fraud.Alert) []kafka.Message {
	for i := range chunk {
		a := &chunk[i]
		dst = append(dst, kafka.Message{Key: []byte(a.UserID), Value: a.AppendJSON(nil)})
	}
	return dst
}

// AlertColumns turns alerts into the alerts table's columns.
func AlertColumns(batch [][]fraud.Alert) []any {
	var (
		ids, users, rules, sevs, evs, vers []string
		ts                                 []uint64
		times                              []time.Time
		scores                             []float32
		txns                               [][]string
	)
	for _, chunk := range batch {
		for i := range chunk {
			a := &chunk[i]
			ids, users, rules = append(ids, a.ID), append(users, a.UserID), append(rules, a.Rule)
			sevs, vers = append(sevs, a.Severity.String()), append(vers, a.RulesVersion)
			evs = append(evs, string(a.AppendEvidence(nil)))
			ts, times = append(ts, uint64(a.TS)), append(times, time.UnixMilli(a.TS).UTC())
			scores, txns = append(scores, float32(a.Score)), append(txns, a.TxnIDs)
		}
	}
	return []any{ids, users, ts, times, rules, sevs, scores, txns, evs, vers}
}

// Sealing is a handler whose seal also reports its partition's detector.
type Sealing struct {
	Inner interface {
		Handle(m *kafka.Message, t *ack.Ticket) error
		Seal(ctx context.Context, t *ack.Ticket, last int64) error
	}
	P *Partition
}

// Handle passes the message on.
func (h Sealing) Handle(m *kafka.Message, t *ack.Ticket) error { return h.Inner.Handle(m, t) }

// Seal seals the inner handler, then the detector.
func (h Sealing) Seal(ctx context.Context, t *ack.Ticket, last int64) error {
	if err := h.Inner.Seal(ctx, t, last); err != nil {
		return err
	}
	return h.P.Seal()
}

// Close takes the partition's users out of the state gauge.
func (h Sealing) Close() { h.P.Close() }
