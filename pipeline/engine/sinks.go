package engine

import (
	"time"

	"everywhere/pipeline/batcher"
	"everywhere/pipeline/sink"
)

// topicSink configures the batcher of a Kafka output whose latency counts
// (alerts, paths, suggestions, routed records): it writes as soon as the
// previous write is done (kafka.write_batch_timeout 0).
func (e *Engine) topicSink(name string) batcher.Config {
	ch := e.cfg.ClickHouse
	return batcher.Config{Name: name, MaxRows: e.cfg.Kafka.WriteBatchSize, MaxWait: e.cfg.Kafka.WriteBatchTimeout,
		Queue: 1024, Backoff: ch.RetryBackoff, MaxBackoff: ch.MaxBackoff}
}

// tableSink configures the batcher of a ClickHouse table: few large
// inserts, clickhouse.flush_rows or clickhouse.flush_interval.
func (e *Engine) tableSink(name string) batcher.Config {
	ch := e.cfg.ClickHouse
	return batcher.Config{Name: name, MaxRows: ch.FlushRows, MaxWait: ch.FlushInterval, Queue: 256,
		Backoff: ch.RetryBackoff, MaxBackoff: ch.MaxBackoff}
}

// table starts the batcher that inserts into t.
func (e *Engine) table(t sink.Table) *batcher.Batcher[*sink.Rows] {
	b := batcher.New(e.tableSink(t.Name), sink.Insert(e.conn, t), batcher.Observer(e.m))
	e.start(b)
	return b
}

// start starts a sink; it is stopped after the workers at shutdown and
// counts in readiness.
func (e *Engine) start(b interface {
	Start()
	Stop(time.Duration)
	Healthy() bool
}) {
	b.Start()
	e.stops = append(e.stops, b.Stop)
	e.health.sinks = append(e.health.sinks, b)
}
