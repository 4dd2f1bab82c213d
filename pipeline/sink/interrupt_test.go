package sink

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"testing"
	"time"

	"everywhere/warehouse"
)

// TestEndedContextFailsAHungInsert: a server that takes the connection
// and never answers holds an insert until the write's context ends, and
// no longer: the writer's socket is closed under the driver, where the
// driver alone would wait for its own timeouts (30 s to dial here, a
// minute to read).
func TestEndedContextFailsAHungInsert(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close() // held open, unanswered, until the test ends
		}
	}()
	ch := testClickHouse(t)
	ch.Addr, ch.DialTimeout = ln.Addr().String(), 30*time.Second
	conn, err := warehouse.OpenWriter(ch)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	w := newInserter(conn, Table{Name: "t", Columns: []string{"id", "name", "at"}})
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	err = w.write(ctx, []*Rows{chunk(0, 10)})
	if err == nil {
		t.Fatal("an insert to a server that never answers succeeded")
	}
	if took := time.Since(start); took > 10*time.Second {
		t.Fatalf("the insert failed %v after it began, its context having ended at 300ms: %v", took, err)
	}
	t.Logf("failed after %v: %v", time.Since(start).Round(time.Millisecond), err)
}

// TestContextEndingMidInsert ends writes' contexts at random moments of
// their inserts, the first of a kept batch and the later ones, which
// reconnect inside the driver's Send. Under the race detector (make
// test) a context watched by the driver there was a data race inside it.
// Each write succeeds or fails; a write with a new context then
// succeeds, at its second try at most; and the table holds every row of the writes that succeeded,
// and none but those of the writes tried.
func TestContextEndingMidInsert(t *testing.T) {
	_, table := testTable(t)
	conn, err := warehouse.OpenWriter(testClickHouse(t))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	w := newInserter(conn, table)
	r := rand.New(rand.NewPCG(3, 4))
	next, wrote, tried := 0, 0, 0
	for range 60 {
		ctx, cancel := context.WithCancel(context.Background())
		for range 3 {
			n := 1 + r.IntN(2000)
			timer := time.AfterFunc(time.Duration(r.IntN(20_000))*time.Microsecond, cancel)
			err := w.write(ctx, []*Rows{chunk(next, next+n)})
			timer.Stop()
			tried += n
			if err == nil {
				wrote += n
			}
			next += n
		}
		cancel()
		// An interrupt as an insert ended leaves the pool a closed
		// socket, which fails one write: the batcher's next try dials.
		n := 1 + r.IntN(100)
		err := w.write(context.Background(), []*Rows{chunk(next, next+n)})
		tried += n
		if err != nil {
			err = w.write(context.Background(), []*Rows{chunk(next, next+n)})
			tried += n
		}
		if err != nil {
			t.Fatalf("a write with a new context, tried twice after interrupted ones: %v", err)
		}
		wrote, next = wrote+n, next+n
	}
	var rows uint64
	if err := conn.QueryRow(context.Background(), fmt.Sprintf("SELECT count() FROM %s", table.Name)).Scan(&rows); err != nil {
		t.Fatal(err)
	}
	if int(rows) < wrote || int(rows) > tried {
		t.Fatalf("the table holds %d rows; the writes that succeeded sent %d, all tried %d", rows, wrote, tried)
	}
	t.Logf("%d rows in the table: %d written by writes that succeeded, %d tried", rows, wrote, tried)
}
