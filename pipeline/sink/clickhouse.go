// Package sink writes batches to ClickHouse tables and Kafka topics; each
// write function is what a batcher.Batcher calls.
package sink

import (
	"context"
	"fmt"
	"strings"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// Rows is a columnar chunk for one table: Cols[i] is a typed slice ([]uint64,
// []string, []time.Time, ...) holding column i of N rows. Appending whole
// columns keeps the write free of per-row boxing.
type Rows struct {
	Cols []any
	N    int
}

// Table describes a ClickHouse table by its insert columns, in order.
// ClickHouse 18.16 rejects a batch insert without an explicit column list.
type Table struct {
	Name    string
	Columns []string
}

// Insert returns the write function of a table.
func Insert(conn driver.Conn, t Table) func(ctx context.Context, batch []*Rows) error {
	query := fmt.Sprintf("INSERT INTO %s (%s)", t.Name, strings.Join(t.Columns, ", "))
	return func(ctx context.Context, batch []*Rows) error {
		b, err := conn.PrepareBatch(ctx, query)
		if err != nil {
			return fmt.Errorf("insert into %s: %w", t.Name, err)
		}
		for _, rows := range batch {
			if len(rows.Cols) != len(t.Columns) {
				b.Abort()
				return fmt.Errorf("insert into %s: chunk has %d columns, table %d", t.Name, len(rows.Cols), len(t.Columns))
			}
			for i, col := range rows.Cols {
				if err := b.Column(i).Append(col); err != nil {
					b.Abort()
					return fmt.Errorf("insert into %s column %s: %w", t.Name, t.Columns[i], err)
				}
			}
		}
		if err := b.Send(); err != nil {
			return fmt.Errorf("insert into %s: %w", t.Name, err)
		}
		return nil
	}
}
