package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/segmentio/kafka-go"

	"everywhere/kafkaadmin"
)

// partitionCounts reads how many partitions each topic has, waiting for
// Kafka as connect waits for ClickHouse: an engine may start before its
// brokers, or meet one too busy to answer in time, and reports not ready
// meanwhile instead of exiting. A topic not created yet is waited for
// too, as Kafka's clients do (the error is retriable) and the log names
// it; an error Kafka calls final, such as a refused authorisation, ends
// the start. It returns nil, nil when ctx ends first.
func (e *Engine) partitionCounts(ctx context.Context, topics ...string) ([]int, error) {
	var lastLog time.Time
	for {
		n, err := e.readPartitionCounts(ctx, topics)
		if err == nil {
			return n, nil
		}
		var kerr kafka.Error
		if errors.As(err, &kerr) && !kerr.Temporary() {
			return nil, err
		}
		if time.Since(lastLog) > 10*time.Second {
			slog.Warn("waiting for Kafka", "err", err)
			lastLog = time.Now()
		}
		select {
		case <-ctx.Done():
			return nil, nil
		case <-time.After(time.Second):
		}
	}
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
