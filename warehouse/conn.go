// Package warehouse talks to ClickHouse: connecting, applying the sql/
// migrations, and reading the per-partition watermarks that make replayed
// writes idempotent. It uses the native protocol only: clickhouse-go's HTTP
// transport fails against ClickHouse 18.16.
package warehouse

import (
	"context"
	"fmt"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"everywhere/config"
)

// compression maps clickhouse.compression to the driver's method; the
// config has checked the name.
func compression(name string) clickhouse.CompressionMethod {
	switch name {
	case "lz4":
		return clickhouse.CompressionLZ4
	case "zstd":
		return clickhouse.CompressionZSTD
	}
	return clickhouse.CompressionNone
}

// Open connects to the configured database and checks that it answers.
func Open(ctx context.Context, c config.ClickHouse) (driver.Conn, error) {
	return open(ctx, c, c.Database)
}

// options are the driver's settings for a pool of up to open connections
// to database, idle of them kept.
func options(c config.ClickHouse, database string, open, idle int) *clickhouse.Options {
	return &clickhouse.Options{
		Addr:            []string{c.Addr},
		Auth:            clickhouse.Auth{Database: database, Username: c.Username, Password: c.Password},
		DialTimeout:     c.DialTimeout,
		ReadTimeout:     60 * time.Second,
		MaxOpenConns:    open,
		MaxIdleConns:    idle,
		ConnMaxLifetime: time.Hour,
		Compression:     &clickhouse.Compression{Method: compression(c.Compression)},
	}
}

func open(ctx context.Context, c config.ClickHouse, database string) (driver.Conn, error) {
	conn, err := clickhouse.Open(options(c, database, 16, 8))
	if err != nil {
		return nil, fmt.Errorf("clickhouse %s: %w", c.Addr, err)
	}
	pctx, cancel := context.WithTimeout(ctx, c.DialTimeout)
	defer cancel()
	if err := conn.Ping(pctx); err != nil {
		conn.Close()
		return nil, fmt.Errorf("clickhouse %s database %s does not answer (is it running? `make clickhouse` starts a local one): %w", c.Addr, database, err)
	}
	return conn, nil
}
