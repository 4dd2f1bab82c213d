package sink

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"everywhere/config"
)

// testTable connects to the local ClickHouse (CLICKHOUSE_TCP_PORT, or the
// default config's address) and makes a table of its own, dropped with
// its database at the end of the test.
func testTable(t *testing.T) (driver.Conn, Table) {
	t.Helper()
	conn, db := testDatabase(t)
	mustExec(t, conn, "CREATE TABLE "+db+".t (id UInt64, name String, at DateTime) ENGINE = Memory")
	return conn, Table{Name: db + ".t", Columns: []string{"id", "name", "at"}}
}

// testClickHouse is the settings of the local ClickHouse
// (CLICKHOUSE_TCP_PORT, or the default config's address), with the
// default database.
func testClickHouse(t *testing.T) config.ClickHouse {
	t.Helper()
	cfg, err := config.Load("", nil)
	if err != nil {
		t.Fatal(err)
	}
	ch := cfg.ClickHouse
	if p := os.Getenv("CLICKHOUSE_TCP_PORT"); p != "" {
		ch.Addr = "127.0.0.1:" + p
	}
	ch.Database = "default"
	return ch
}

// chunk holds the rows with ids from up to to-1.
func chunk(from, to int) *Rows {
	var ids []uint64
	var names []string
	var ats []time.Time
	for i := from; i < to; i++ {
		ids, names, ats = append(ids, uint64(i)), append(names, fmt.Sprint("helper-", i)), append(ats, time.Unix(int64(1_700_000_000+i), 0))
	}
	return &Rows{Cols: []any{ids, names, ats}, N: to - from}
}

// TestInsertKeepsItsBatch: writes with one context share one batch, each
// sending only its own rows, however the sizes go; a failed write, or
// one with another context, prepares a new batch; nothing is lost or
// written twice.
func TestInsertKeepsItsBatch(t *testing.T) {
	conn, table := testTable(t)
	w := newInserter(conn, table)
	ctx := context.Background()
	write := func(ctx context.Context, chunks ...*Rows) {
		t.Helper()
		if err := w.write(ctx, chunks); err != nil {
			t.Fatal(err)
		}
	}

	write(ctx, chunk(0, 3000), chunk(3000, 5000))
	kept := w.batch
	write(ctx, chunk(5000, 5010)) // smaller: the emptied columns hold no rows of the first
	write(ctx, chunk(5010, 20_000), chunk(20_000, 20_001))
	if w.batch != kept {
		t.Fatal("writes with one context prepared a new batch")
	}

	err := w.write(ctx, []*Rows{chunk(20_001, 20_002), {Cols: []any{[]uint64{1}}, N: 1}})
	if err == nil || !strings.Contains(err.Error(), "chunk has 1 columns, table 3") {
		t.Fatalf("a chunk missing columns: err %v", err)
	}
	err = w.write(ctx, []*Rows{{Cols: []any{[]uint64{1}, []int{2}, []time.Time{{}}}, N: 1}})
	if err == nil || !strings.Contains(err.Error(), "column name") {
		t.Fatalf("a column of the wrong type: err %v", err)
	}
	write(ctx, chunk(20_001, 20_100)) // after failures, a new batch
	if w.batch == kept {
		t.Fatal("a failed write kept its batch")
	}

	other, cancel := context.WithCancel(ctx)
	kept = w.batch
	write(other, chunk(20_100, 20_200))
	if w.batch == kept {
		t.Fatal("a write with another context used the batch of the first")
	}
	cancel()
	if err := w.write(other, []*Rows{chunk(20_200, 20_300)}); err == nil {
		t.Fatal("a write with an ended context succeeded")
	}
	write(ctx, chunk(20_200, 20_300))

	var n, sum, distinct uint64
	var first, last time.Time
	if err := conn.QueryRow(ctx, fmt.Sprintf("SELECT count(), sum(id), uniqExact(name), min(at), max(at) FROM %s", table.Name)).
		Scan(&n, &sum, &distinct, &first, &last); err != nil {
		t.Fatal(err)
	}
	const want = 20_300
	if n != want || sum != want*(want-1)/2 || distinct != want {
		t.Fatalf("read back %d rows, ids summing to %d, %d names; want %d, %d, %d", n, sum, distinct, want, want*(want-1)/2, want)
	}
	if first.Unix() != 1_700_000_000 || last.Unix() != 1_700_000_000+want-1 {
		t.Fatalf("times from %v to %v", first, last)
	}
}

// TestSentOnlyOnceWritten: a chunk's Sent is called when its write has
// reached the table, and not when the write failed, since the batcher
// writes the same chunk again.
func TestSentOnlyOnceWritten(t *testing.T) {
	conn, table := testTable(t)
	w := newInserter(conn, table)
	sent := 0
	c := chunk(0, 10)
	c.Sent = func() { sent++ }
	ended, cancel := context.WithCancel(context.Background())
	cancel()
	if err := w.write(ended, []*Rows{c}); err == nil || sent != 0 {
		t.Fatalf("a write with an ended context: err %v, Sent called %d times", err, sent)
	}
	bad := &Rows{Cols: []any{[]uint64{1}, []int{2}, []time.Time{{}}}, N: 1, Sent: func() { sent++ }}
	if err := w.write(context.Background(), []*Rows{c, bad}); err == nil || sent != 0 {
		t.Fatalf("a write with a bad column: err %v, Sent called %d times", err, sent)
	}
	if err := w.write(context.Background(), []*Rows{c}); err != nil || sent != 1 {
		t.Fatalf("a write: err %v, Sent called %d times, want once", err, sent)
	}
}

// TestStringsColumnReadsBack: rows of a Strings column, empty ones and
// ones longer than a cache line among them, spread over chunks beside
// []string ones, read back as they were written; the inserter keeps no
// view of them once written.
func TestStringsColumnReadsBack(t *testing.T) {
	conn, table := testTable(t)
	w := newInserter(conn, table)
	ctx := context.Background()
	name := func(i int) string {
		switch i % 5 {
		case 0:
			return ""
		case 1:
			return strings.Repeat("é", 40+i%7)
		}
		return fmt.Sprint("helper-", i)
	}
	var want []string
	var chunks []*Rows
	for c := range 3 {
		var s Strings
		var ids []uint64
		var ats []time.Time
		for i := c * 1000; i < (c+1)*1000; i++ {
			s.Add(name(i))
			ids, ats = append(ids, uint64(i)), append(ats, time.Unix(1_700_000_000, 0))
			want = append(want, name(i))
		}
		chunks = append(chunks, &Rows{Cols: []any{ids, &s, ats}, N: s.Len()})
	}
	chunks = append(chunks, chunk(3000, 3010))
	for i := 3000; i < 3010; i++ {
		want = append(want, fmt.Sprint("helper-", i))
	}
	if err := w.write(ctx, chunks); err != nil {
		t.Fatal(err)
	}
	for i, v := range w.views {
		if v != "" {
			t.Fatalf("the inserter still holds row %d of a written Strings column: %q", i, v)
		}
	}
	rows, err := conn.Query(ctx, fmt.Sprintf("SELECT id, name FROM %s ORDER BY id", table.Name))
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	n := 0
	for ; rows.Next(); n++ {
		var id uint64
		var got string
		if err := rows.Scan(&id, &got); err != nil {
			t.Fatal(err)
		}
		if id != uint64(n) || got != want[n] {
			t.Fatalf("row %d: id %d, name %q; want %q", n, id, got, want[n])
		}
	}
	if err := rows.Err(); err != nil || n != len(want) {
		t.Fatalf("read back %d rows of %d: %v", n, len(want), err)
	}
}

// TestInsertInTableOrder: a table's Order decides the order rows are
// inserted in, across chunks and column types; spans that do not hold
// every row once, or chunks whose columns differ in type, fail the write
// and send nothing.
func TestInsertInTableOrder(t *testing.T) {
	conn, table := testTable(t)
	// Every row on its own, the last first.
	table.Order = func(batch []*Rows, spans []Span) []Span {
		for c := len(batch) - 1; c >= 0; c-- {
			for i := batch[c].N - 1; i >= 0; i-- {
				spans = append(spans, Span{Chunk: int32(c), From: int32(i), To: int32(i + 1)})
			}
		}
		return spans
	}
	w := newInserter(conn, table)
	ctx := context.Background()
	var s Strings
	var ids []uint64
	var ats []time.Time
	for i := range 700 {
		s.Add(fmt.Sprint("helper-", i))
		ids, ats = append(ids, uint64(i)), append(ats, time.Unix(int64(1_700_000_000+i), 0))
	}
	strs := &Rows{Cols: []any{ids, &s, ats}, N: s.Len()}
	if err := w.write(ctx, []*Rows{strs, chunk(700, 1000)}); err != nil {
		t.Fatal(err)
	}
	if err := w.write(ctx, []*Rows{chunk(1000, 1010)}); err != nil {
		t.Fatal(err)
	}
	// A Memory table keeps an insert's rows in their order; the two
	// inserts are read one at a time.
	read := func(from, to uint64) (ids []uint64) {
		t.Helper()
		rows, err := conn.Query(ctx, fmt.Sprintf("SELECT id, name, toUnixTimestamp(at) FROM %s WHERE id >= %d AND id < %d", table.Name, from, to))
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		for rows.Next() {
			var id uint64
			var name string
			var at uint32
			if err := rows.Scan(&id, &name, &at); err != nil {
				t.Fatal(err)
			}
			if name != fmt.Sprint("helper-", id) || at != uint32(1_700_000_000+id) {
				t.Fatalf("row %d reads back as %q at %d", id, name, at)
			}
			ids = append(ids, id)
		}
		return ids
	}
	for _, in := range [][2]uint64{{0, 1000}, {1000, 1010}} {
		var want []uint64
		for i := in[1]; i > in[0]; i-- {
			want = append(want, i-1)
		}
		if got := read(in[0], in[1]); !slices.Equal(got, want) {
			t.Fatalf("rows read back in the order %v ... (%d), want %v ... (%d)", got[:min(5, len(got))], len(got), want[:5], len(want))
		}
	}

	table.Order = func(batch []*Rows, spans []Span) []Span { return append(spans, Span{To: 1}) }
	w = newInserter(conn, table)
	sent := 0
	c := chunk(2000, 2002)
	c.Sent = func() { sent++ }
	if err := w.write(ctx, []*Rows{c}); err == nil || sent != 0 {
		t.Fatalf("spans holding one row of two: err %v, Sent called %d times", err, sent)
	}
	table.Order = func(batch []*Rows, spans []Span) []Span {
		return append(spans, Span{Chunk: 0, To: 1}, Span{Chunk: 1, To: 1})
	}
	w = newInserter(conn, table)
	odd := &Rows{Cols: []any{[]uint32{1}, []string{"x"}, []time.Time{{}}}, N: 1}
	if err := w.write(ctx, []*Rows{chunk(2000, 2001), odd}); err == nil {
		t.Fatal("chunks whose columns differ in type were written")
	}
	var n uint64
	if err := conn.QueryRow(ctx, "SELECT count() FROM "+table.Name+" WHERE id >= 2000").Scan(&n); err != nil || n != 0 {
		t.Fatalf("%d rows of failed writes in the table (err %v)", n, err)
	}
}
