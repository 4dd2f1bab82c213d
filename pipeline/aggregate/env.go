package aggregate

import (
	"context"
	"fmt"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/prometheus/client_golang/prometheus"

	"everywhere/events"
	"everywhere/geo"
	"everywhere/metrics"
	"everywhere/pipeline/ack"
	"everywhere/pipeline/batcher"
	"everywhere/pipeline/sink"
	"everywhere/warehouse"
)

// Sinks are the table batchers the handlers write to.
type Sinks struct {
	PingCells, PingUsers, NeedCells, TxnCells, UserSpend, Outcomes *batcher.Batcher[*sink.Rows]
}

// Env is what every handler shares.
type Env struct {
	Sinks      Sinks
	Conn       driver.Conn // to read watermarks on assignment
	Resolution int         // H3 resolution of the cell aggregates
	// PlaceResolution is the resolution a place's cell is computed at,
	// once per event: the finest that the aggregates or a ping's
	// OnEvent need, at least Resolution. Coarser cells are its
	// ancestors (geo.Parent), which cost nothing, where each
	// resolution looked up directly is a call into C.
	PlaceResolution int
	// Guesses, when set, are the place cells by square that the
	// handlers of every partition learn and share (see geo.Locator).
	Guesses      *geo.Guesses
	BaseCurrency string
	Metrics      *metrics.Metrics
}

// watermark is the highest offset of partition that table holds rows
// from: its handler skips what it reads again up to there. It first
// waits for what the table's batcher b holds to be written
// (batcher.Barrier): rows the partition's last owner in this process
// handed over, still queued or retried when it stopped, would otherwise
// land after the read and be counted twice.
func (e *Env) watermark(ctx context.Context, b *batcher.Batcher[*sink.Rows], table string, partition int) (int64, error) {
	if b != nil {
		if err := b.Barrier(ctx); err != nil {
			return 0, fmt.Errorf("%s: wait for the rows queued for it: %w", table, err)
		}
	}
	w, err := warehouse.Watermarks(ctx, e.Conn, table, []int{partition})
	if err != nil {
		return 0, err
	}
	return w[partition], nil
}

func (e *Env) skipped(table string) prometheus.Counter {
	return e.Metrics.Skipped.WithLabelValues(table)
}

// add hands rows to a batcher under ticket t; empty rows are not sent.
func add(ctx context.Context, b *batcher.Batcher[*sink.Rows], t *ack.Ticket, rows *sink.Rows) error {
	if rows.N == 0 {
		return nil
	}
	return b.Add(ctx, batcher.Chunk[*sink.Rows]{Data: rows, Rows: rows.N, Ticket: t})
}

func newDecoder(e *Env) *events.Decoder { return events.NewDecoder(e.BaseCurrency) }
