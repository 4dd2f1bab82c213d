package warehouse

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"

	"everywhere/config"
)

// testDatabase is testClickHouse with its database made, and a context
// that ends a minute on.
func testDatabase(t *testing.T) (config.ClickHouse, context.Context) {
	t.Helper()
	ch := testClickHouse(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	admin, err := open(ctx, ch, "default")
	if err != nil {
		t.Fatalf("ClickHouse must be running (make clickhouse): %v", err)
	}
	defer admin.Close()
	if err := admin.Exec(ctx, "CREATE DATABASE IF NOT EXISTS "+ch.Database); err != nil {
		t.Fatal(err)
	}
	return ch, ctx
}

// TestEveryCompressionWrites: a batch insert and a read back over a
// connection with each clickhouse.compression setting. The server must
// take what the driver sends compressed, and answer in kind.
func TestEveryCompressionWrites(t *testing.T) {
	ch, ctx := testDatabase(t)
	for _, method := range []string{"none", "lz4", "zstd"} {
		ch.Compression = method
		conn, err := Open(ctx, ch)
		if err != nil {
			t.Fatalf("%s: %v", method, err)
		}
		table := "c_" + method
		if err := conn.Exec(ctx, fmt.Sprintf("CREATE TABLE %s (id UInt64, name String) ENGINE = Memory", table)); err != nil {
			t.Fatalf("%s: %v", method, err)
		}
		queryID := fmt.Sprintf("%s-%s", ch.Database, method)
		qctx := clickhouse.Context(ctx, clickhouse.WithQueryID(queryID), clickhouse.WithSettings(clickhouse.Settings{"log_queries": 1}))
		b, err := conn.PrepareBatch(qctx, fmt.Sprintf("INSERT INTO %s (id, name)", table))
		if err != nil {
			t.Fatalf("%s: %v", method, err)
		}
		const n = 10_000
		ids, names := make([]uint64, n), make([]string, n)
		for i := range n {
			ids[i], names[i] = uint64(i), fmt.Sprintf("helper-%d", i%100)
		}
		if err := b.Column(0).Append(ids); err != nil {
			t.Fatal(err)
		}
		if err := b.Column(1).Append(names); err != nil {
			t.Fatal(err)
		}
		if err := b.Send(); err != nil {
			t.Fatalf("%s: insert: %v", method, err)
		}
		var count, sum uint64
		var distinct uint64
		if err := conn.QueryRow(ctx, fmt.Sprintf("SELECT count(), sum(id), uniqExact(name) FROM %s", table)).Scan(&count, &sum, &distinct); err != nil {
			t.Fatalf("%s: read back: %v", method, err)
		}
		if count != n || sum != n*(n-1)/2 || distinct != 100 {
			t.Fatalf("%s: read back %d rows, ids summing to %d, %d names; want %d, %d, 100", method, count, sum, distinct, n, n*(n-1)/2)
		}
		// What the server read compressed for the insert: nothing when
		// the driver sends plain blocks. The server logs a query's end
		// after answering it, so the row may come after the insert
		// returned: the log is flushed and read until it is there.
		var compressed uint64
		for deadline := time.Now().Add(20 * time.Second); ; {
			if err := conn.Exec(ctx, "SYSTEM FLUSH LOGS"); err != nil {
				t.Fatal(err)
			}
			err := conn.QueryRow(ctx, `SELECT ProfileEvents.Values[indexOf(ProfileEvents.Names, 'ReadCompressedBytes')]
				FROM system.query_log WHERE query_id = ? AND type = 2`, queryID).Scan(&compressed)
			if err == nil {
				break
			}
			if !errors.Is(err, sql.ErrNoRows) || time.Now().After(deadline) {
				t.Fatalf("%s: query log: %v", method, err)
			}
			time.Sleep(200 * time.Millisecond)
		}
		if (compressed > 0) != (method != "none") {
			t.Fatalf("%s: the server read %d bytes compressed for the insert", method, compressed)
		}
		t.Logf("%s: %d bytes read compressed", method, compressed)
		conn.Close()
	}
}

// TestWriterKeepsOneConnection: inserts through a writer's pool go out on
// one connection, which stays open between them, so that its buffer
// keeps what the table's largest insert made it.
func TestWriterKeepsOneConnection(t *testing.T) {
	ch, ctx := testDatabase(t)
	conn, err := OpenWriter(ch)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := conn.Exec(ctx, "CREATE TABLE w (id UInt64) ENGINE = Memory"); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		b, err := conn.PrepareBatch(ctx, "INSERT INTO w (id)")
		if err != nil {
			t.Fatal(err)
		}
		if err := b.Column(0).Append([]uint64{uint64(i)}); err != nil {
			t.Fatal(err)
		}
		if err := b.Send(); err != nil {
			t.Fatal(err)
		}
		if s := conn.Stats(); s.MaxOpenConns != 1 || s.Open != 0 || s.Idle != 1 {
			t.Fatalf("after insert %d: %+v; want a pool of one connection, kept idle between inserts", i+1, s)
		}
	}
	var n uint64
	if err := conn.QueryRow(ctx, "SELECT count() FROM w").Scan(&n); err != nil || n != 3 {
		t.Fatalf("read back %d rows (%v), want 3", n, err)
	}
}
