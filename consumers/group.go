package consumers

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/segmentio/kafka-go"

	"everywhere/metrics"
	"everywhere/pipeline/batcher"
)

// Config tunes the group and its partition workers.
type Config struct {
	Brokers          []string
	Group            string
	Topics           []string
	StartOffset      int64 // kafka.FirstOffset or kafka.LastOffset
	MinBytes         int
	MaxBytes         int
	MaxWait          time.Duration
	SessionTimeout   time.Duration
	RebalanceTimeout time.Duration
	SealInterval     time.Duration // a worker seals its work this often
	SealEvents       int           // or after this many messages
	DrainTimeout     time.Duration // how long a stopping worker waits for its writes
}

// Group runs the consumer group until its context ends.
type Group struct {
	cfg         Config
	factories   map[string]Factory
	deadLetters []*batcher.Batcher[[]DeadLetter]
	m           *metrics.Metrics
}

// NewGroup returns a group that makes each partition's handler with the
// factory of its topic and sends rejections to every dead-letter sink.
func NewGroup(cfg Config, factories map[string]Factory, deadLetters []*batcher.Batcher[[]DeadLetter], m *metrics.Metrics) *Group {
	return &Group{cfg: cfg, factories: factories, deadLetters: deadLetters, m: m}
}

// Run joins the group and processes assigned partitions until ctx ends; it
// returns after every worker has sealed, drained and committed what it could.
func (g *Group) Run(ctx context.Context) error {
	cg, err := kafka.NewConsumerGroup(kafka.ConsumerGroupConfig{
		ID:                     g.cfg.Group,
		Brokers:                g.cfg.Brokers,
		Topics:                 g.cfg.Topics,
		StartOffset:            g.cfg.StartOffset,
		SessionTimeout:         g.cfg.SessionTimeout,
		RebalanceTimeout:       g.cfg.RebalanceTimeout,
		HeartbeatInterval:      g.cfg.SessionTimeout / 4,
		JoinGroupBackoff:       time.Second,
		WatchPartitionChanges:  true,
		PartitionWatchInterval: 30 * time.Second,
		ErrorLogger:            kafka.LoggerFunc(throttledKafkaLog()),
	})
	if err != nil {
		return fmt.Errorf("consumer group %s: %w", g.cfg.Group, err)
	}
	stopped := make(chan struct{})
	go func() {
		<-ctx.Done()
		// Close ends the current generation, which cancels every worker's
		// context and waits for the workers to return.
		cg.Close()
		close(stopped)
	}()
	var lastLog time.Time
	for {
		gen, err := cg.Next(ctx)
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, kafka.ErrGroupClosed) {
				<-stopped
				return nil
			}
			if time.Since(lastLog) > 10*time.Second {
				slog.Warn("joining consumer group failed, retrying", "group", g.cfg.Group, "err", err)
				lastLog = time.Now()
			}
			select {
			case <-time.After(time.Second):
			case <-ctx.Done():
			}
			continue
		}
		n := 0
		for topic, parts := range gen.Assignments {
			for _, pa := range parts {
				n++
				w := &worker{g: g, gen: gen, topic: topic, partition: pa.ID, offset: pa.Offset}
				gen.Start(w.run)
			}
		}
		g.m.Partitions.Set(float64(n))
		slog.Info("partitions assigned", "group", g.cfg.Group, "generation", gen.ID, "partitions", n)
	}
}

// throttledKafkaLog logs kafka-go's errors at most once per second: during a
// broker outage it retries in a tight loop and would flood the log.
func throttledKafkaLog() func(string, ...any) {
	var last time.Time
	return func(format string, args ...any) {
		if time.Since(last) < time.Second {
			return
		}
		last = time.Now()
		slog.Warn("kafka: " + fmt.Sprintf(format, args...))
	}
}
