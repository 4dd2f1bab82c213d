// Package engine wires the whole engine: the consumer group and its
// handlers, the batched sinks, and the HTTP listener, and shuts them down in
// the order that loses nothing: stop fetching, seal and drain the partition
// workers, flush the sinks, commit, close.
package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/segmentio/kafka-go"

	"everywhere/config"
	"everywhere/consumers"
	"everywhere/events"
	"everywhere/geo"
	"everywhere/metrics"
	"everywhere/models/fraud"
	"everywhere/pipeline/ack"
	"everywhere/pipeline/aggregate"
	"everywhere/pipeline/batcher"
	"everywhere/pipeline/detect"
	"everywhere/pipeline/matching"
	"everywhere/pipeline/route"
	"everywhere/pipeline/sink"
)

// Engine is one running instance.
type Engine struct {
	cfg    *config.Config
	topics config.Topics
	m      *metrics.Metrics
	conn   driver.Conn
	// tableConns: each table's own connection, by table name (openWriters).
	tableConns map[string]driver.Conn
	dead       []*batcher.Batcher[[]consumers.DeadLetter]
	stops      []func(time.Duration) // every table and topic sink, stopped after the workers
	writers    []*sink.Producer
	health     *health
	version    string
	tables     int // table sinks configured, for their phases (see tableSink)
}

// Run runs the engine until ctx ends, then shuts down gracefully.
func Run(ctx context.Context, cfg *config.Config, version string) error {
	if err := checkHeapPages(cfg, os.Getenv("GODEBUG")); err != nil {
		return err
	}
	limitMemory(cfg)
	e := &Engine{cfg: cfg, topics: cfg.Topics(), version: version}
	var sinkNames []string
	for _, t := range tables() {
		sinkNames = append(sinkNames, t.Name)
	}
	sinkNames = append(sinkNames, e.topics.DeadLetter, e.topics.Alerts, e.topics.Suggestions)
	sinkNames = append(sinkNames, e.topics.Internal()...)
	e.m = metrics.New(version, append(e.topics.Inputs(), e.topics.Internal()...), sinkNames)
	e.health = newHealth(cfg, e.m)
	e.adviseHugePages(ctx)

	srv, err := e.serveHTTP()
	if err != nil {
		return err
	}
	defer srv.shutdown()
	if prof, err := e.servePprof(); err != nil {
		return err
	} else if prof != nil {
		defer prof.shutdown()
	}

	conn, err := e.connect(ctx)
	if err != nil {
		return err
	}
	if conn == nil { // ctx ended while waiting
		return nil
	}
	e.conn = conn
	defer conn.Close()
	e.health.conn = conn
	if err := e.openWriters(); err != nil {
		return err
	}
	defer e.closeWriters()

	env := e.buildSinks()
	rules, err := detect.NewRules(cfg.Fraud.Rules, cfg.Fraud.RulesFile)
	if err != nil {
		return err
	}
	rules.OnReload = func(_ *fraud.Rules, err error) {
		result := "applied"
		if err != nil {
			result = "rejected"
		}
		e.m.RulesReloads.WithLabelValues(result).Inc()
	}
	stopWatch := make(chan struct{})
	defer close(stopWatch)
	go rules.Watch(cfg.Fraud.ReloadInterval, stopWatch)
	denv := e.buildFraudSinks(rules)
	menv, err := e.buildMatching(ctx, rules)
	if err != nil {
		return err
	}
	if menv == nil { // ctx ended while waiting for Kafka
		return nil
	}
	t := e.topics
	sets := []*consumers.Set{
		{Topics: []string{t.Pings, t.Profiles, t.Transactions, t.Paths}, Factory: func(ctx context.Context, p int, topics []string) (map[string]consumers.Handler, error) {
			return e.userHandlers(ctx, env, denv, menv, p)
		}},
		{Topics: []string{t.Needs}, Factory: func(ctx context.Context, p int, _ []string) (map[string]consumers.Handler, error) {
			h, err := aggregate.NewNeeds(ctx, env, p)
			if err != nil {
				return nil, err
			}
			out := menv.emitter(ctx, e, menv.userParts+p, "need")
			h.OnEvent = route.NewNeeds(out, menv.regions(e)).Need
			return map[string]consumers.Handler{t.Needs: route.Sealing{Inner: h, Out: out}}, nil
		}},
		{Topics: []string{t.Outcomes}, Factory: func(ctx context.Context, p int, _ []string) (map[string]consumers.Handler, error) {
			h, err := aggregate.NewOutcomes(ctx, env, p)
			if err != nil {
				return nil, err
			}
			out := menv.emitter(ctx, e, menv.userParts+menv.needParts+p, "outcome")
			h.OnEvent = route.NewOutcomes(out).Outcome
			return map[string]consumers.Handler{t.Outcomes: route.Sealing{Inner: h, Out: out}}, nil
		}},
		{Topics: []string{t.Regions}, Factory: func(ctx context.Context, p int, _ []string) (map[string]consumers.Handler, error) {
			return map[string]consumers.Handler{t.Regions: matching.NewHandler(ctx, menv.match)}, nil
		}},
	}
	start := kafka.FirstOffset
	if cfg.Kafka.StartOffset == "latest" {
		start = kafka.LastOffset
	}
	drain := cfg.Engine.ShutdownTimeout * 3 / 4
	group := consumers.NewGroup(consumers.Config{
		Brokers: cfg.Kafka.Brokers, Group: cfg.Kafka.Group, StartOffset: start, Restore: cfg.Engine.Restore == "replay",
		MinBytes: cfg.Kafka.FetchMinBytes, MaxBytes: cfg.Kafka.FetchMaxBytes, MaxWait: cfg.Kafka.FetchMaxWait,
		FetchLinger: cfg.Kafka.FetchLinger, SessionTimeout: cfg.Kafka.SessionTimeout, RebalanceTimeout: cfg.Kafka.RebalanceTimeout,
		SealInterval: cfg.Engine.SealInterval, SealEvents: cfg.Engine.SealEvents, IdleAfter: cfg.Engine.IdleAfter, DrainTimeout: drain,
		Backlog:     cfg.ClickHouse.FlushInterval,
		PendingRuns: pendingRuns(max(cfg.ClickHouse.FlushInterval, cfg.Kafka.WriteBatchTimeout), cfg.Engine.SealInterval),
	}, sets, e.dead, e.m)

	hctx, stopHealth := context.WithCancel(context.Background())
	go e.health.run(hctx)
	defer stopHealth()

	slog.Info("engine running", "version", version, "brokers", cfg.Kafka.Brokers, "clickhouse", cfg.ClickHouse.Addr,
		"database", cfg.ClickHouse.Database, "http", cfg.HTTP.Addr)
	err = group.Run(ctx)
	e.health.stopping.Store(true)
	slog.Info("draining sinks")
	rest := cfg.Engine.ShutdownTimeout - drain
	for _, b := range e.dead {
		b.Stop(rest)
	}
	for _, stop := range e.stops {
		stop(rest)
	}
	for _, w := range e.writers {
		if cerr := w.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("close producer of %s: %w", w.Topic, cerr)
		}
	}
	slog.Info("engine stopped")
	return err
}

func (e *Engine) buildSinks() *aggregate.Env {
	ch := e.cfg.ClickHouse
	env := &aggregate.Env{
		Sinks: aggregate.Sinks{
			PingCells: e.table(aggregate.PingCellMinute), PingUsers: e.table(aggregate.PingUsersIn),
			NeedCells: e.table(aggregate.NeedCellMinute), TxnCells: e.table(aggregate.TxnCellMinute),
			UserSpend: e.table(aggregate.UserSpendDay), Outcomes: e.table(aggregate.OutcomesTable),
		},
		Conn: e.conn, Resolution: e.cfg.Aggregate.H3Resolution, PlaceResolution: route.ReachResolution, BaseCurrency: e.cfg.Engine.BaseCurrency, Metrics: e.m,
	}
	env.Guesses = geo.NewGuesses(max(env.PlaceResolution, env.Resolution), 17)
	dlqKafka := batcher.New(batcher.Config{Name: e.topics.DeadLetter, MaxRows: e.cfg.Kafka.WriteBatchSize,
		MaxWait: 50 * time.Millisecond, Queue: 256, Backoff: ch.RetryBackoff, MaxBackoff: ch.MaxBackoff},
		sink.Produce(e.writer(e.topics.DeadLetter), encodeDeadLetters), batcher.Observer(e.m))
	dlqTable := batcher.New(e.tableSink(aggregate.DeadLetterTable.Name), deadLetterInsert(e.insert(aggregate.DeadLetterTable)), batcher.Observer(e.m))
	dlqKafka.Start()
	dlqTable.Start()
	e.dead = []*batcher.Batcher[[]consumers.DeadLetter]{dlqKafka, dlqTable}
	e.health.sinks = append(e.health.sinks, dlqKafka, dlqTable)
	return env
}

func encodeDeadLetters(dst []kafka.Message, chunk []consumers.DeadLetter) []kafka.Message {
	for i := range chunk {
		d := &chunk[i]
		dst = append(dst, kafka.Message{Key: d.Key, Value: d.AppendJSON(nil)})
	}
	return dst
}

func deadLetterInsert(insert func(context.Context, []*sink.Rows) error) func(context.Context, [][]consumers.DeadLetter) error {
	return func(ctx context.Context, batch [][]consumers.DeadLetter) error {
		rows := make([]*sink.Rows, 0, len(batch))
		for _, chunk := range batch {
			n := len(chunk)
			topics, parts, offs := make([]string, n), make([]uint16, n), make([]uint64, n)
			seen, errs, payloads := make([]time.Time, n), make([]string, n), make([]string, n)
			for i, d := range chunk {
				topics[i], parts[i], offs[i] = d.Topic, uint16(d.Partition), uint64(d.Offset)
				seen[i], errs[i], payloads[i] = d.SeenAt, d.Error, string(d.Payload)
			}
			rows = append(rows, &sink.Rows{Cols: []any{topics, parts, offs, seen, errs, payloads}, N: n})
		}
		return insert(ctx, rows)
	}
}

var errNotReady = errors.New("not ready")

func (e *Engine) writer(topic string) *sink.Producer {
	w := sink.NewProducer(sink.ProducerConfig{Brokers: e.cfg.Kafka.Brokers, Topic: topic, Partitioner: e.cfg.Kafka.Partitioner})
	e.writers = append(e.writers, w)
	return w
}

// buildFraudSinks makes the alert and path outputs. Alerts and paths are
// written as soon as they are made (MaxWait of a millisecond or two): the
// budget from transaction to alert is 25 ms at the 99th percentile.
func (e *Engine) buildFraudSinks(rules *detect.Rules) *detect.Env {
	alertsKafka := batcher.New(e.topicSink(e.topics.Alerts), sink.Produce(e.writer(e.topics.Alerts), detect.AlertMessages), batcher.Observer(e.m))
	paths := batcher.New(e.topicSink(e.topics.Paths), sink.Produce(e.writer(e.topics.Paths), messages), batcher.Observer(e.m))
	insert := e.insert(AlertsTable)
	cfg := e.tableSink(AlertsTable.Name)
	cfg.Queue = 1024 // a chunk per alert hand-off: many small ones
	alertsTable := batcher.New(cfg, func(ctx context.Context, batch [][]fraud.Alert) error {
		return insert(ctx, []*sink.Rows{{Cols: detect.AlertColumns(batch)}})
	}, batcher.Observer(e.m))
	e.start(alertsKafka)
	e.start(paths)
	e.start(alertsTable)
	return &detect.Env{Sinks: detect.Sinks{AlertsKafka: alertsKafka, AlertsTable: alertsTable, Paths: paths}, Rules: rules, Metrics: e.m}
}

// AlertsTable is where alerts are written in ClickHouse.
var AlertsTable = sink.Table{Name: "alerts", Columns: []string{"alert_id", "user_id", "ts", "event_time", "rule", "severity", "score", "txn_ids", "evidence", "rules_version"}}

// userHandlers makes the handlers of one partition number of the
// user-keyed topics: the aggregates, one fraud detector, and the router of
// the partition's helpers to the regions.
func (e *Engine) userHandlers(ctx context.Context, env *aggregate.Env, denv *detect.Env, menv *matchEnv, p int) (map[string]consumers.Handler, error) {
	t := e.topics
	pings, err := aggregate.NewPings(ctx, env, p)
	if err != nil {
		return nil, err
	}
	txns, err := aggregate.NewTransactions(ctx, env, p)
	if err != nil {
		return nil, err
	}
	profiles, _ := aggregate.NewProfiles(ctx, env, p)
	part := detect.NewPartition(ctx, denv)
	out := menv.emitter(ctx, e, p, "helper")
	helpers := route.NewHelpers(out, menv.regions(e), part.Detector())
	pings.OnEvent = func(ev *events.Ping, cell uint64, tk *ack.Ticket) {
		helpers.Ping(ev, part.OnPing(ev, tk), cell, tk)
	}
	profiles.OnEvent = func(ev *events.Profile, tk *ack.Ticket) {
		part.OnProfile(ev, tk)
		helpers.Profile(ev, tk)
	}
	txns.OnEvent = part.OnTransaction
	part.OnAlert = helpers.Alert
	part.OnTransfer = route.NewTransfers(out).Transfer
	wrap := func(h consumers.Handler) consumers.Handler { return route.Sealing{Inner: h, Out: out} }
	return map[string]consumers.Handler{
		t.Pings:        wrap(detect.Preloading{Handler: pings, P: part, Then: helpers.Preload}),
		t.Profiles:     wrap(profiles),
		t.Transactions: wrap(detect.Sealing{Inner: txns, P: part}),
		t.Paths:        wrap(detect.Paths{P: part}),
	}, nil
}
