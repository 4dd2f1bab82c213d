// Package sink writes batches to ClickHouse tables and Kafka topics; each
// write function is what a batcher.Batcher calls.
package sink

import (
	"context"
	"fmt"
	"strings"

	"github.com/ClickHouse/clickhouse-go/v2/lib/column"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// Rows is a columnar chunk for one table: Cols[i] is a typed slice ([]uint64,
// []string, []int64 of Unix seconds for a DateTime, ...) holding column i
// of N rows. Appending whole columns keeps the write free of per-row
// boxing.
type Rows struct {
	Cols []any
	N    int
	// Sent, when set, is called once the rows are in the table: no write
	// reads their columns again, and their maker may fill them anew. A
	// failed write, which the batcher tries again, does not call it.
	Sent func()
}

// Table describes a ClickHouse table by its insert columns, in order.
// ClickHouse 18.16 rejects a batch insert without an explicit column list.
type Table struct {
	Name    string
	Columns []string
	// Order, when set, gives the order a batch's rows are inserted in,
	// as spans of its chunks appended to spans: each row once. A
	// MergeTree sorts every insert by its key unless the rows come in
	// that order already; rows of many chunks, each in key order, can
	// often be put in order more cheaply by their maker, which knows
	// their runs (see the suggestions table).
	Order func(batch []*Rows, spans []Span) []Span
	// PartTime, on a table whose rows carry src_partition and src_offset
	// (a count table), names the time column its PARTITION BY reads. A
	// write after a failed one then leaves out the rows the failed one
	// may have written after all (see recheck).
	PartTime string
}

// Insert returns the write function of a table. The function belongs to
// one batcher, which calls it from one goroutine at a time. conn should
// be an Interrupter (warehouse.Writer): see inserter. held, if not nil,
// is told how many rows a write tried again after a failed one left out,
// the table holding them already (see recheck).
func Insert(conn driver.Conn, t Table, held func(rows int)) func(ctx context.Context, batch []*Rows) error {
	w := newInserter(conn, t)
	w.held = held
	return w.write
}

// Interrupter is a connection whose inserts in flight can be failed from
// another goroutine (warehouse.Writer).
type Interrupter interface{ Interrupt() }

func newInserter(conn driver.Conn, t Table) *inserter {
	w := &inserter{conn: conn, table: t, query: fmt.Sprintf("INSERT INTO %s (%s)", t.Name, strings.Join(t.Columns, ", "))}
	if i, ok := conn.(Interrupter); ok {
		w.interrupt = i.Interrupt
	}
	if t.PartTime != "" {
		w.src = sourceCols(t)
	}
	return w
}

// inserter keeps one prepared batch across writes, so that its columns
// keep the capacity the largest insert gave them. A batch prepared for
// each write starts from empty columns that grow by doubling as chunks
// are appended: on a catch-up that was a tenth of the engine's CPU and a
// third of the bytes it allocated, all of it fresh memory to fault in
// and collect.
//
// The driver sends a batch again when Send is called after a Send: it
// takes a connection from the pool and opens a new INSERT, as
// PrepareBatch does (its way for long-lived batches, documented with
// WithReleaseConnection; this one holds its first connection only until
// its first Send). So each write empties the columns, fills them with its
// chunks and calls Send. A write with another context than the batch's,
// or after a failed one, prepares a new batch.
//
// The end of a write's context (a batcher's hard stop, its last resort)
// must fail a Send in flight. The driver does that for the context a
// batch was prepared with, but its watchdog reads the batch's connection
// while a second Send replaces it: a context ending during that step is
// a data race inside the driver, which the race detector caught at an
// engine's shutdown. So on an Interrupter the batch is prepared with a
// context that never ends, and the end of a write's context while it
// runs interrupts the connection instead (context.AfterFunc): a
// connection interrupted as its insert ended fails the next write once,
// which the batcher tries again on a new one. A write with an ended
// context fails before it touches the batch.
type inserter struct {
	conn      driver.Conn
	interrupt func() // the connection's Interrupt, nil for none
	table     Table
	query     string
	ctx       context.Context // the context batch was prepared for
	batch     driver.Batch
	cols      []column.Interface
	// views is the []string a Strings column is appended as, emptied
	// after each append so that it keeps no rows alive.
	views []string
	// spans and scratch are kept for a table with an Order: the spans of
	// the last batch, and per column the slice it was gathered into.
	spans   []Span
	scratch []any
	// unsure: the last Send failed, and its rows may be in the table
	// all the same. src: for a table with a PartTime, the columns of a
	// row's source; sources, the batch's rows' sources while recheck
	// runs.
	unsure  bool
	src     [3]int
	sources []source
	held    func(rows int) // see Insert; nil for none
}

func (w *inserter) write(ctx context.Context, batch []*Rows) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("insert into %s: %w", w.table.Name, err)
	}
	if w.interrupt != nil {
		// The driver does not watch the batch's context: see inserter.
		stop := context.AfterFunc(ctx, w.interrupt)
		defer stop()
	}
	for _, rows := range batch {
		if len(rows.Cols) != len(w.table.Columns) {
			return fmt.Errorf("insert into %s: chunk has %d columns, table %d", w.table.Name, len(rows.Cols), len(w.table.Columns))
		}
	}
	// Read before the batch is prepared: it holds the pool's one
	// connection until it is sent.
	var keep []Span
	if w.unsure && w.table.PartTime != "" {
		var all bool
		var err error
		if keep, all, err = w.recheck(ctx, batch); err != nil {
			return fmt.Errorf("insert into %s: %w", w.table.Name, err)
		}
		if all { // every row landed with the failed write
			w.unsure = false
			sent(batch)
			return nil
		}
	}
	if err := w.prepare(ctx); err != nil {
		return fmt.Errorf("insert into %s: %w", w.table.Name, err)
	}
	if err := w.appendAll(batch, keep); err != nil {
		w.drop()
		return fmt.Errorf("insert into %s %w", w.table.Name, err)
	}
	if err := w.batch.Send(); err != nil {
		w.drop()
		w.unsure = true
		return fmt.Errorf("insert into %s: %w", w.table.Name, err)
	}
	w.unsure = false
	sent(batch)
	return nil
}

// sent tells the batch's chunks that their rows are in the table.
func sent(batch []*Rows) {
	for _, rows := range batch {
		if rows.Sent != nil {
			rows.Sent()
		}
	}
}

// appendAll appends the batch's rows to the batch's columns: those of
// keep if it is not nil, else chunk after chunk or in the table's Order.
func (w *inserter) appendAll(batch []*Rows, keep []Span) error {
	if keep != nil {
		return w.gatherAll(batch, keep)
	}
	if w.table.Order == nil || len(batch) == 0 {
		for _, rows := range batch {
			for i, col := range rows.Cols {
				if err := w.append(i, col); err != nil {
					return fmt.Errorf("column %s: %w", w.table.Columns[i], err)
				}
			}
		}
		return nil
	}
	w.spans = w.table.Order(batch, w.spans[:0])
	rows, spanned := 0, 0
	for _, r := range batch {
		rows += r.N
	}
	for _, s := range w.spans {
		spanned += int(s.To - s.From)
	}
	if spanned != rows {
		return fmt.Errorf("in order: its spans hold %d rows of %d", spanned, rows)
	}
	return w.gatherAll(batch, w.spans)
}

// gatherAll appends the rows of spans to the batch's columns, in their
// order.
func (w *inserter) gatherAll(batch []*Rows, spans []Span) error {
	if len(w.scratch) != len(w.cols) {
		w.scratch = make([]any, len(w.cols))
	}
	for i := range w.cols {
		if err := w.gather(i, batch, spans); err != nil {
			return fmt.Errorf("column %s: %w", w.table.Columns[i], err)
		}
	}
	return nil
}

// append appends a chunk's column to the batch's column i.
func (w *inserter) append(i int, col any) error {
	s, ok := col.(*Strings)
	if !ok {
		_, err := w.cols[i].Append(col)
		return err
	}
	w.views = s.appendViews(w.views[:0])
	_, err := w.cols[i].Append(w.views)
	clear(w.views)
	return err
}

// prepare leaves an empty batch for ctx: the kept one with its columns
// emptied, or a new one.
func (w *inserter) prepare(ctx context.Context) error {
	if w.batch != nil && ctx == w.ctx {
		for _, c := range w.cols {
			c.Reset()
		}
		return nil
	}
	w.drop()
	bctx := ctx
	if w.interrupt != nil {
		bctx = context.WithoutCancel(ctx)
	}
	b, err := w.conn.PrepareBatch(bctx, w.query)
	if err != nil {
		return err
	}
	w.ctx, w.batch, w.cols = ctx, b, b.Columns()
	if len(w.cols) != len(w.table.Columns) {
		w.drop()
		return fmt.Errorf("the server gave %d columns for %d", len(w.cols), len(w.table.Columns))
	}
	return nil
}

// drop gives up the kept batch: an unsent one is aborted, which closes
// its connection and with it the INSERT it opened, without rows.
func (w *inserter) drop() {
	if w.batch != nil && !w.batch.IsSent() {
		_ = w.batch.Abort()
	}
	w.ctx, w.batch, w.cols = nil, nil, nil
}
