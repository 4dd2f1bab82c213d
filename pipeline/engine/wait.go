package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/segmentio/kafka-go"

	"everywhere/kafkaadmin"
	"everywhere/warehouse"
)

// waitFor calls try every second until it says it is done, logging its
// error ("waiting for what") at most every 10 s: the engine may start
// before what it needs, and reports not ready meanwhile instead of
// exiting. It returns try's error when done (nil, or a final one), and
// nil when ctx ends first: what try was to fill is then left unset.
func waitFor(ctx context.Context, what string, try func() (done bool, err error)) error {
	var lastLog time.Time
	for {
		done, err := try()
		if done {
			return err
		}
		if time.Since(lastLog) > 10*time.Second {
			slog.Warn("waiting for "+what, "err", err)
			lastLog = time.Now()
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(time.Second):
		}
	}
}

// connect waits for ClickHouse, whatever its error; nil, nil when ctx ends
// first.
func (e *Engine) connect(ctx context.Context) (driver.Conn, error) {
	var conn driver.Conn
	err := waitFor(ctx, "ClickHouse", func() (bool, error) {
		var err error
		conn, err = warehouse.Open(ctx, e.cfg.ClickHouse)
		return err == nil, err
	})
	return conn, err
}

// partitionCounts reads how many partitions each topic has, waiting for
// Kafka as connect waits for ClickHouse: for brokers not up yet, or one
// too busy to answer in time. A topic not created yet is waited for too,
// as Kafka's clients do (the error is retriable) and the log names it; an
// error Kafka calls final, such as a refused authorisation, ends the
// start. It returns nil, nil when ctx ends first.
func (e *Engine) partitionCounts(ctx context.Context, topics ...string) ([]int, error) {
	var n []int
	err := waitFor(ctx, "Kafka", func() (bool, error) {
		var err error
		n, err = e.readPartitionCounts(ctx, topics)
		var kerr kafka.Error
		return err == nil || errors.As(err, &kerr) && !kerr.Temporary(), err
	})
	return n, err // n is nil after an error or when ctx ended
}

func (e *Engine) readPartitionCounts(ctx context.Context, topics []string) ([]int, error) {
	n := make([]int, len(topics))
	for i, topic := range topics {
		parts, err := kafkaadmin.Partitions(ctx, e.cfg.Kafka.Brokers, topic)
		if err != nil {
			return nil, fmt.Errorf("partitions of %s: %w", topic, err)
		}
		n[i] = len(parts)
	}
	return n, nil
}
