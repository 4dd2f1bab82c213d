package sink

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"everywhere/warehouse"
)

// TestLostAnswerCountsOnce: an insert whose rows the server wrote, but
// whose answer never came back, fails; the write tried again leaves those
// rows out, so the count table holds each row once.
func TestLostAnswerCountsOnce(t *testing.T) {
	conn, db := testDatabase(t)
	table := Table{Name: db + ".counts", Columns: []string{"cell", "minute", "src_partition", "src_offset", "n"}, PartTime: "minute"}
	mustExec(t, conn, "CREATE TABLE "+table.Name+" (cell UInt64, minute DateTime, src_partition UInt16, src_offset UInt64, n UInt64)"+
		" ENGINE = MergeTree PARTITION BY toYYYYMM(minute) ORDER BY (cell, minute, src_partition, src_offset)")

	loser := loseAnswers(t)
	ch := testClickHouse(t)
	ch.Addr = loser.addr
	wconn, err := warehouse.OpenWriter(ch)
	if err != nil {
		t.Fatal(err)
	}
	defer wconn.Close()
	w := newInserter(wconn, table)
	held := 0
	w.held = func(rows int) { held += rows }
	ctx := context.Background()
	june := time.Date(2026, 6, 10, 8, 0, 0, 0, time.UTC)

	first := []*Rows{counted(0, 99, june, 20_000), counted(1, 99, june, 5_000)}
	if err := w.write(ctx, first); err != nil {
		t.Fatal(err)
	}
	// The next insert's rows reach the server; its answer is lost.
	second := []*Rows{counted(0, 199, june.Add(time.Hour), 20_000), counted(1, 150, june, 10_000)}
	loser.armAfter(100 << 10)
	if err := w.write(ctx, second); err == nil {
		t.Fatal("an insert whose answer was cut succeeded")
	} else {
		t.Logf("the insert failed: %v", err)
	}
	if n := countRows(t, conn, table.Name); n != 55_000 {
		t.Fatalf("after the cut answer the table holds %d rows, want the 55,000 of both inserts: the answer was not lost after the rows were written", n)
	}
	if err := w.write(ctx, second); err != nil {
		t.Fatal(err)
	}
	if n := countRows(t, conn, table.Name); n != 55_000 || held != 30_000 {
		t.Fatalf("the table holds %d rows after the write was tried again, want 55,000; %d rows told held, want 30,000", n, held)
	}
	// The write after a good one reads nothing first.
	if err := w.write(ctx, []*Rows{counted(0, 300, june, 100)}); err != nil {
		t.Fatal(err)
	}
	if n := countRows(t, conn, table.Name); n != 55_100 {
		t.Fatalf("the table holds %d rows, want 55,100", n)
	}
}

// TestRecheckWritesWhatDidNotLand: a chunk whose rows span two months is
// written as two parts, of which one can land without the other; the
// write tried again writes the other's rows, and only those. A chunk
// that landed whole is not written again, and the rows of another
// partition at a landed offset are. Dates compare as the driver reads
// them back.
func TestRecheckWritesWhatDidNotLand(t *testing.T) {
	conn, db := testDatabase(t)
	table := Table{Name: db + ".spend", Columns: []string{"day", "user_id", "src_partition", "src_offset", "n"}, PartTime: "day"}
	mustExec(t, conn, "CREATE TABLE "+table.Name+" (day Date, user_id String, src_partition UInt16, src_offset UInt64, n UInt64)"+
		" ENGINE = MergeTree PARTITION BY toYYYYMM(day) ORDER BY (day, user_id, src_partition, src_offset)")
	wconn, err := warehouse.OpenWriter(testClickHouse(t))
	if err != nil {
		t.Fatal(err)
	}
	defer wconn.Close()
	ctx := context.Background()
	jan31 := time.Date(2026, 1, 31, 0, 0, 0, 0, time.UTC)

	spans := spent(3, 70, jan31, 2, 400) // 400 rows on Jan 31, 400 on Feb 1
	whole := spent(3, 90, jan31, 1, 300) // landed whole
	other := spent(4, 70, jan31, 1, 200) // another partition, offset 70
	landedRows := prefix(spans, 400)     // January's part of spans
	plain := newInserter(wconn, Table{Name: table.Name, Columns: table.Columns})
	if err := plain.write(ctx, []*Rows{landedRows, whole}); err != nil {
		t.Fatal(err)
	}
	w := newInserter(wconn, table)
	held := 0
	w.held = func(rows int) { held += rows }
	w.unsure = true // as after a failed Send
	if err := w.write(ctx, []*Rows{spans, whole, other}); err != nil {
		t.Fatal(err)
	}
	if n := countRows(t, conn, table.Name); n != 800+300+200 || held != 400+300 {
		t.Fatalf("the table holds %d rows, want 1,300, each once; %d told held, want 700", n, held)
	}
	var distinct uint64
	if err := conn.QueryRow(ctx, "SELECT uniqExact(day, user_id, src_partition, src_offset) FROM "+table.Name).Scan(&distinct); err != nil {
		t.Fatal(err)
	}
	if distinct != 1300 {
		t.Fatalf("%d distinct rows, want 1,300", distinct)
	}
	// Everything landed: nothing is written, and the chunks are told.
	told := 0
	for _, r := range []*Rows{spans, whole} {
		r.Sent = func() { told++ }
	}
	w.unsure = true
	if err := w.write(ctx, []*Rows{spans, whole}); err != nil {
		t.Fatal(err)
	}
	if n := countRows(t, conn, table.Name); n != 1300 || told != 2 || held != 700+1100 {
		t.Fatalf("after a write of landed chunks: %d rows (want 1,300), %d chunks told (want 2), %d rows told held in all (want 1,800)", n, told, held)
	}
}

// counted is a count table's chunk from partition part, sealed at
// offset off: n rows, fifty cells a minute from first on.
func counted(part uint16, off uint64, first time.Time, n int) *Rows {
	cells, mins, parts, offs, ones := make([]uint64, n), make([]int64, n), make([]uint16, n), make([]uint64, n), make([]uint64, n)
	for i := range n {
		cells[i], mins[i] = uint64(i%50), first.Unix()+int64(i/50)*60
		parts[i], offs[i], ones[i] = part, off, 1
	}
	return &Rows{Cols: []any{cells, mins, parts, offs, ones}, N: n}
}

// spent is a spend table's chunk from partition part, sealed at offset
// off: perDay users on each of days days from first on.
func spent(part uint16, off uint64, first time.Time, days, perDay int) *Rows {
	n := days * perDay
	ds, users, parts, offs, ones := make([]time.Time, n), make([]string, n), make([]uint16, n), make([]uint64, n), make([]uint64, n)
	for i := range n {
		ds[i], users[i] = first.AddDate(0, 0, i/perDay), "u"+strconv.Itoa(i%perDay)
		parts[i], offs[i], ones[i] = part, off, 1
	}
	return &Rows{Cols: []any{ds, users, parts, offs, ones}, N: n}
}

// prefix is a chunk of r's first n rows.
func prefix(r *Rows, n int) *Rows {
	p := &Rows{N: n}
	for _, c := range r.Cols {
		switch c := c.(type) {
		case []time.Time:
			p.Cols = append(p.Cols, c[:n])
		case []string:
			p.Cols = append(p.Cols, c[:n])
		case []uint16:
			p.Cols = append(p.Cols, c[:n])
		case []uint64:
			p.Cols = append(p.Cols, c[:n])
		}
	}
	return p
}

// testDatabase makes a database of the test's own on the local
// ClickHouse, dropped at its end.
func testDatabase(t *testing.T) (driver.Conn, string) {
	t.Helper()
	conn, err := warehouse.Open(context.Background(), testClickHouse(t))
	if err != nil {
		t.Fatalf("ClickHouse must be running (make clickhouse): %v", err)
	}
	db := fmt.Sprintf("sink_test_%d", rand.IntN(1e9))
	t.Cleanup(func() {
		_ = conn.Exec(context.Background(), "DROP DATABASE IF EXISTS "+db)
		conn.Close()
	})
	mustExec(t, conn, "CREATE DATABASE "+db)
	return conn, db
}

func mustExec(t *testing.T, conn driver.Conn, q string) {
	t.Helper()
	if err := conn.Exec(context.Background(), q); err != nil {
		t.Fatal(err)
	}
}

func countRows(t *testing.T, conn driver.Conn, table string) uint64 {
	t.Helper()
	var n uint64
	if err := conn.QueryRow(context.Background(), "SELECT count() FROM "+table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// answerLoser passes connections through to the local ClickHouse. Armed
// with a number of bytes, it cuts the connection the server speaks on
// next once clients have sent that many more: after an insert's rows,
// that is the server's answer, sent once the rows are written.
type answerLoser struct {
	addr  string
	sent  atomic.Int64 // bytes clients sent, on all connections
	armed atomic.Int64 // the count of sent at which to cut, 0 for none
}

func loseAnswers(t *testing.T) *answerLoser {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	l := &answerLoser{addr: ln.Addr().String()}
	to := testClickHouse(t).Addr
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go l.pipe(c, to)
		}
	}()
	return l
}

func (l *answerLoser) armAfter(bytes int64) { l.armed.Store(l.sent.Load() + bytes) }

func (l *answerLoser) pipe(c net.Conn, to string) {
	s, err := net.Dial("tcp", to)
	if err != nil {
		c.Close()
		return
	}
	defer c.Close()
	defer s.Close()
	go func() {
		defer s.Close()
		buf := make([]byte, 64<<10)
		for {
			n, err := c.Read(buf)
			if n > 0 {
				l.sent.Add(int64(n)) // before the server can have read them
				if _, werr := s.Write(buf[:n]); werr != nil {
					return
				}
			}
			if err != nil {
				return
			}
		}
	}()
	buf := make([]byte, 64<<10)
	for {
		n, err := s.Read(buf)
		if n > 0 {
			if at := l.armed.Load(); at > 0 && l.sent.Load() >= at && l.armed.CompareAndSwap(at, 0) {
				return // the answer is lost with both connections
			}
			if _, werr := c.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// TestRecheckRefusesMisshapenChunks: a chunk whose source columns are
// not of the types recheck reads, or shorter than its rows, fails the
// write with the reason, before anything is read or written.
func TestRecheckRefusesMisshapenChunks(t *testing.T) {
	table := Table{Name: "counts", Columns: []string{"cell", "minute", "src_partition", "src_offset", "n"}, PartTime: "minute"}
	for name, c := range map[string]struct {
		rows *Rows
		want string
	}{
		"partition of uint32": {&Rows{Cols: []any{[]uint64{1}, []int64{60}, []uint32{0}, []uint64{9}, []uint64{1}}, N: 1}, "src_partition is []uint32"},
		"minute of strings":   {&Rows{Cols: []any{[]uint64{1}, []string{"x"}, []uint16{0}, []uint64{9}, []uint64{1}}, N: 1}, "minute is []string"},
		"short offsets":       {&Rows{Cols: []any{[]uint64{1, 2}, []int64{60, 60}, []uint16{0, 0}, []uint64{9}, []uint64{1, 1}}, N: 2}, "src_offset 1"},
		"short minutes":       {&Rows{Cols: []any{[]uint64{1, 2}, []int64{60}, []uint16{0, 0}, []uint64{9, 9}, []uint64{1, 1}}, N: 2}, "minute holds fewer"},
	} {
		w := newInserter(nil, table)
		w.unsure = true
		err := w.write(context.Background(), []*Rows{c.rows})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error with %q", name, err, c.want)
		}
	}
}
