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
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/segmentio/kafka-go"

	"everywhere/config"
	"everywhere/consumers"
	"everywhere/metrics"
	"everywhere/pipeline/aggregate"
	"everywhere/pipeline/batcher"
	"everywhere/pipeline/sink"
	"everywhere/warehouse"
)

// Engine is one running instance.
type Engine struct {
	cfg     *config.Config
	topics  config.Topics
	m       *metrics.Metrics
	conn    driver.Conn
	tables  []*batcher.Batcher[*sink.Rows]
	dead    []*batcher.Batcher[[]consumers.DeadLetter]
	dlq     *kafka.Writer
	health  *health
	version string
}

// Run runs the engine until ctx ends, then shuts down gracefully.
func Run(ctx context.Context, cfg *config.Config, version string) error {
	e := &Engine{cfg: cfg, topics: cfg.Topics(), version: version}
	var sinkNames []string
	for _, t := range append(append([]sink.Table{}, aggregate.Watermarked...), aggregate.PingUsersIn, aggregate.OutcomesTable, aggregate.DeadLetterTable) {
		sinkNames = append(sinkNames, t.Name)
	}
	sinkNames = append(sinkNames, e.topics.DeadLetter)
	e.m = metrics.New(version, e.topics.Inputs(), sinkNames)
	e.health = newHealth(cfg, e.m)

	srv, err := e.serveHTTP()
	if err != nil {
		return err
	}
	defer srv.shutdown()

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

	env := e.buildSinks()
	factories := map[string]consumers.Factory{
		e.topics.Pings: func(ctx context.Context, _ string, p int) (consumers.Handler, error) {
			return aggregate.NewPings(ctx, env, p)
		},
		e.topics.Needs: func(ctx context.Context, _ string, p int) (consumers.Handler, error) {
			return aggregate.NewNeeds(ctx, env, p)
		},
		e.topics.Transactions: func(ctx context.Context, _ string, p int) (consumers.Handler, error) {
			return aggregate.NewTransactions(ctx, env, p)
		},
		e.topics.Outcomes: func(ctx context.Context, _ string, p int) (consumers.Handler, error) {
			return aggregate.NewOutcomes(ctx, env, p)
		},
		e.topics.Profiles: func(ctx context.Context, _ string, p int) (consumers.Handler, error) {
			return aggregate.NewProfiles(ctx, env, p)
		},
	}
	start := kafka.FirstOffset
	if cfg.Kafka.StartOffset == "latest" {
		start = kafka.LastOffset
	}
	drain := cfg.Engine.ShutdownTimeout * 3 / 4
	group := consumers.NewGroup(consumers.Config{
		Brokers: cfg.Kafka.Brokers, Group: cfg.Kafka.Group, Topics: e.topics.Inputs(), StartOffset: start,
		MinBytes: cfg.Kafka.FetchMinBytes, MaxBytes: cfg.Kafka.FetchMaxBytes, MaxWait: cfg.Kafka.FetchMaxWait,
		SessionTimeout: cfg.Kafka.SessionTimeout, RebalanceTimeout: cfg.Kafka.RebalanceTimeout,
		SealInterval: cfg.Engine.SealInterval, SealEvents: cfg.Engine.SealEvents, DrainTimeout: drain,
	}, factories, e.dead, e.m)

	hctx, stopHealth := context.WithCancel(context.Background())
	go e.health.run(hctx)
	defer stopHealth()

	slog.Info("engine running", "version", version, "brokers", cfg.Kafka.Brokers, "clickhouse", cfg.ClickHouse.Addr,
		"database", cfg.ClickHouse.Database, "http", cfg.HTTP.Addr)
	err = group.Run(ctx)
	e.health.stopping.Store(true)
	slog.Info("draining sinks")
	rest := cfg.Engine.ShutdownTimeout - drain
	for _, b := range e.tables {
		b.Stop(rest)
	}
	for _, b := range e.dead {
		b.Stop(rest)
	}
	if cerr := e.dlq.Close(); cerr != nil && err == nil {
		err = fmt.Errorf("close dead-letter producer: %w", cerr)
	}
	slog.Info("engine stopped")
	return err
}

// connect waits for ClickHouse: the engine may start before its warehouse,
// and reports not ready meanwhile instead of exiting.
func (e *Engine) connect(ctx context.Context) (driver.Conn, error) {
	var lastLog time.Time
	for {
		conn, err := warehouse.Open(ctx, e.cfg.ClickHouse)
		if err == nil {
			return conn, nil
		}
		if time.Since(lastLog) > 10*time.Second {
			slog.Warn("waiting for ClickHouse", "err", err)
			lastLog = time.Now()
		}
		select {
		case <-ctx.Done():
			return nil, nil
		case <-time.After(time.Second):
		}
	}
}

func (e *Engine) buildSinks() *aggregate.Env {
	ch := e.cfg.ClickHouse
	tableCfg := func(name string) batcher.Config {
		return batcher.Config{Name: name, MaxRows: ch.FlushRows, MaxWait: ch.FlushInterval, Queue: 256,
			Backoff: ch.RetryBackoff, MaxBackoff: ch.MaxBackoff}
	}
	table := func(t sink.Table) *batcher.Batcher[*sink.Rows] {
		b := batcher.New(tableCfg(t.Name), sink.Insert(e.conn, t), batcher.Observer(e.m))
		b.Start()
		e.tables = append(e.tables, b)
		e.health.sinks = append(e.health.sinks, b)
		return b
	}
	env := &aggregate.Env{
		Sinks: aggregate.Sinks{
			PingCells: table(aggregate.PingCellMinute), PingUsers: table(aggregate.PingUsersIn),
			NeedCells: table(aggregate.NeedCellMinute), TxnCells: table(aggregate.TxnCellMinute),
			UserSpend: table(aggregate.UserSpendDay), Outcomes: table(aggregate.OutcomesTable),
		},
		Conn: e.conn, Resolution: e.cfg.Aggregate.H3Resolution, BaseCurrency: e.cfg.Engine.BaseCurrency, Metrics: e.m,
	}
	e.dlq = sink.NewWriter(sink.WriterConfig{Brokers: e.cfg.Kafka.Brokers, Topic: e.topics.DeadLetter,
		BatchSize: e.cfg.Kafka.WriteBatchSize, BatchTimeout: e.cfg.Kafka.WriteBatchTimeout})
	dlqKafka := batcher.New(batcher.Config{Name: e.topics.DeadLetter, MaxRows: e.cfg.Kafka.WriteBatchSize,
		MaxWait: 50 * time.Millisecond, Queue: 256, Backoff: ch.RetryBackoff, MaxBackoff: ch.MaxBackoff},
		sink.Produce(e.dlq, encodeDeadLetters), batcher.Observer(e.m))
	dlqTable := batcher.New(tableCfg(aggregate.DeadLetterTable.Name), deadLetterInsert(e.conn), batcher.Observer(e.m))
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

func deadLetterInsert(conn driver.Conn) func(context.Context, [][]consumers.DeadLetter) error {
	insert := sink.Insert(conn, aggregate.DeadLetterTable)
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
