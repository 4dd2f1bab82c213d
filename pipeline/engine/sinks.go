package engine

import (
	"context"
	"math"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"everywhere/pipeline/aggregate"
	"everywhere/pipeline/batcher"
	"everywhere/pipeline/matching"
	"everywhere/pipeline/sink"
	"everywhere/warehouse"
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
//
// Each table gets its own phase of the interval, the next multiple of the
// golden ratio's fraction of it, so that phases stay apart however many
// tables there are. Without them every table's insert went out within
// 20 ms of the others once a second, since the partitions seal all their
// tables at once: seven inserts encoding on both cores at the same
// moment, while the need and transaction paths waited.
func (e *Engine) tableSink(name string) batcher.Config {
	ch := e.cfg.ClickHouse
	e.tables++
	phase := time.Duration(math.Mod(float64(e.tables)*0.6180339887, 1) * float64(ch.FlushInterval))
	return batcher.Config{Name: name, MaxRows: ch.FlushRows, MaxWait: ch.FlushInterval, Phase: phase, Queue: 256,
		Backoff: ch.RetryBackoff, MaxBackoff: ch.MaxBackoff}
}

// table starts the batcher that inserts into t.
func (e *Engine) table(t sink.Table) *batcher.Batcher[*sink.Rows] {
	b := batcher.New(e.tableSink(t.Name), e.insert(t), batcher.Observer(e.m))
	e.start(b)
	return b
}

// tables are the ClickHouse tables the engine writes.
func tables() []sink.Table {
	return append(append([]sink.Table{}, aggregate.Watermarked...), aggregate.PingUsersIn, aggregate.OutcomesTable,
		aggregate.DeadLetterTable, AlertsTable, matching.SuggestionsTable)
}

// openWriters gives each table a connection of its own
// (warehouse.OpenWriter), for its one writer.
func (e *Engine) openWriters() error {
	e.tableConns = make(map[string]driver.Conn)
	for _, t := range tables() {
		conn, err := warehouse.OpenWriter(e.cfg.ClickHouse)
		if err != nil {
			e.closeWriters()
			return err
		}
		e.tableConns[t.Name] = conn
	}
	return nil
}

// closeWriters closes the tables' connections, once their sinks are
// stopped.
func (e *Engine) closeWriters() {
	for _, conn := range e.tableConns {
		conn.Close()
	}
}

// insert is the write function of table t, on its own connection.
func (e *Engine) insert(t sink.Table) func(context.Context, []*sink.Rows) error {
	return sink.Insert(e.tableConns[t.Name], t, e.m.Held(t.Name))
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

// pendingRuns is how many sealed runs a partition worker lets wait for
// their writes (consumers.Config.PendingRuns). A run is durable once its
// slowest batch is written: a batch waits up to one and a half times
// hold, the longest any sink holds rows (see batcher.Config.Phase), and
// then its insert. Twice that in seals, and four more, so that a worker
// never stops reading while its sinks are healthy: with a fixed eight and
// a flush interval of 4 s, every partition stopped for 0.9 s at a time,
// and need → suggestions had a p99 of 1.3 to 1.5 s at 20,000 events/s
// (67 and 57 ms with enough room). At most 1,024, a buffer of 16 KiB per
// worker: a hold of more than 340 seal intervals brings the stalls back.
func pendingRuns(hold, seal time.Duration) int {
	return min(int(math.Ceil(float64(3*hold)/float64(seal)))+4, 1024)
}
