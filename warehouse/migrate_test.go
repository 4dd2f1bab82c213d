package warehouse

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"everywhere/config"
	"everywhere/sql"
)

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
	ch.Database = fmt.Sprintf("wh_test_%d", rand.IntN(1e9))
	t.Cleanup(func() {
		ctx := context.Background()
		if c, err := open(ctx, ch, "default"); err == nil {
			_ = c.Exec(ctx, "DROP DATABASE IF EXISTS "+ch.Database)
			c.Close()
		}
	})
	return ch
}

func TestMigrateTwiceAndRefuseEditedMigration(t *testing.T) {
	ch := testClickHouse(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	first, err := Migrate(ctx, ch, sql.Migrations)
	if err != nil {
		t.Fatalf("first run (ClickHouse must be running: make clickhouse): %v", err)
	}
	for _, m := range first {
		if m.Applied {
			t.Fatalf("%s reported as already applied on a fresh database", m.Name)
		}
	}
	second, err := Migrate(ctx, ch, sql.Migrations)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range second {
		if !m.Applied {
			t.Fatalf("%s applied twice", m.Name)
		}
	}
	conn, err := Open(ctx, ch)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var n uint64
	if err := conn.QueryRow(ctx, "SELECT count() FROM system.tables WHERE database = ? AND name IN ('ping_cell_minute','alerts','suggestions','dead_letters')", ch.Database).Scan(&n); err != nil || n != 4 {
		t.Fatalf("tables: %d, %v", n, err)
	}
	edited := fstest.MapFS{}
	ms, _ := Load(sql.Migrations)
	for _, m := range ms {
		body, _ := sql.Migrations.ReadFile(m.Name)
		edited[m.Name] = &fstest.MapFile{Data: body}
	}
	edited[ms[0].Name] = &fstest.MapFile{Data: append(edited[ms[0].Name].Data, []byte("\n-- edited\n")...)}
	if _, err := Migrate(ctx, ch, edited); err == nil || !strings.Contains(err.Error(), "different content") {
		t.Fatalf("edited migration: %v", err)
	}
}

func TestWatermarks(t *testing.T) {
	ch := testClickHouse(t)
	ctx := context.Background()
	if _, err := Migrate(ctx, ch, sql.Migrations); err != nil {
		t.Fatal(err)
	}
	conn, err := Open(ctx, ch)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	b, err := conn.PrepareBatch(ctx, "INSERT INTO ping_cell_minute (cell, minute, src_partition, src_offset, pings, available_pings)")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC().Truncate(time.Minute)
	for _, r := range [][2]int{{0, 10}, {0, 42}, {2, 7}} {
		if err := b.Append(uint64(1), now, uint16(r[0]), uint64(r[1]), uint64(1), uint64(0)); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.Send(); err != nil {
		t.Fatal(err)
	}
	w, err := Watermarks(ctx, conn, "ping_cell_minute", []int{0, 1, 2})
	if err != nil {
		t.Fatal(err)
	}
	if w[0] != 42 || w[1] != -1 || w[2] != 7 {
		t.Fatalf("watermarks %v, want 0:42 1:-1 2:7", w)
	}
}

func TestStatements(t *testing.T) {
	got := Statements("-- c\nCREATE TABLE a (x UInt8)\nENGINE = Memory;\n\n-- d\nCREATE TABLE b (y UInt8) ENGINE = Memory;\n")
	if len(got) != 2 || !strings.HasPrefix(got[1], "CREATE TABLE b") || strings.HasSuffix(got[0], ";") {
		t.Fatalf("%q", got)
	}
}
