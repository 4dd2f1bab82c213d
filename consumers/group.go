package consumers

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
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
	FetchLinger      time.Duration // see fetcher
	SessionTimeout   time.Duration
	RebalanceTimeout time.Duration
	SealInterval     time.Duration // a worker seals its work this often
	SealEvents       int           // or after this many messages
	// IdleAfter is how long an input that has caught up is still waited
	// for after its last message. 0 waits only for an input behind the
	// end of its partition: in a live stream, one between two messages
	// is gone past, and the worker tells its handlers it is idle (Idler)
	// as soon as all are. Waiting keeps a live stream's order that of
	// the same messages read from filled topics, for an input silent no
	// longer than the wait, at the price of the wait whenever one falls
	// silent: the regions wait for every source's next message.
	IdleAfter time.Duration
	// Backlog: a worker that handed messages over without a break for at
	// least this long was working through a backlog, and when it catches
	// up it seals at once and hurries the run (ack.Ticket.Hurry), so that
	// the sinks write it without waiting for their timed writes. In a
	// live stream a worker catches up after every fetch and does not
	// hurry. 0 never hurries.
	Backlog      time.Duration
	DrainTimeout time.Duration // how long a stopping worker waits for its writes
	// PendingRuns is how many sealed runs a worker lets wait for their
	// writes before it waits itself and stops reading; 0 means 8. A run
	// is durable when the slowest sink has written it, and a ClickHouse
	// batcher holds rows up to one and a half flush intervals: set it to
	// cover that wait, or a healthy engine stalls its inputs once per
	// batch. Waiting runs hold only offsets and a ticket; the sinks'
	// queues bound the data (see batcher).
	PendingRuns int
	// Restore replays each assigned partition from its first offset up to
	// the committed one before going on (see worker.run).
	Restore bool
}

// pendingRuns is PendingRuns, or its default.
func (c *Config) pendingRuns() int {
	if c.PendingRuns > 0 {
		return c.PendingRuns
	}
	return 8
}

// Group runs the consumer group until its context ends.
type Group struct {
	cfg         Config
	sets        []*Set
	deadLetters []*batcher.Batcher[[]DeadLetter]
	m           *metrics.Metrics
	readerLog   func(string, ...any) // shared by every partition reader
	// transport carries every partition reader's requests: one metadata
	// cache, and a pool of connections, one per fetch in flight.
	transport *kafka.Transport
	fetcher   *fetcher   // gathers the readers' fetches
	committer *committer // sends the workers' commits, one at a time
}

// NewGroup returns a group that consumes every topic of the sets, makes the
// handlers with each set's factory and sends rejections to every
// dead-letter sink.
func NewGroup(cfg Config, sets []*Set, deadLetters []*batcher.Batcher[[]DeadLetter], m *metrics.Metrics) *Group {
	g := &Group{cfg: cfg, sets: sets, deadLetters: deadLetters, m: m, readerLog: throttledKafkaLog(),
		transport: &kafka.Transport{}}
	for _, s := range sets {
		g.cfg.Topics = append(g.cfg.Topics, s.Topics...)
	}
	g.fetcher = newFetcher(g.transport, cfg.Brokers, cfg)
	return g
}

// Run joins the group and processes assigned partitions until ctx ends; it
// returns after every worker has sealed, drained and committed what it could.
func (g *Group) Run(ctx context.Context) error {
	defer g.transport.CloseIdleConnections()
	fctx, stopFetcher := context.WithCancel(context.Background())
	defer stopFetcher() // after the workers, whose readers use it, have returned
	go g.fetcher.run(fctx)
	g.committer = newCommitter()
	defer close(g.committer.stop) // after the workers have returned
	cg, err := kafka.NewConsumerGroup(kafka.ConsumerGroupConfig{
		ID:          g.cfg.Group,
		Brokers:     g.cfg.Brokers,
		Topics:      g.cfg.Topics,
		StartOffset: g.cfg.StartOffset,
		// Range assignment gives one member the same partition numbers of
		// every topic with the same partition count: what co-partitioned
		// sets need.
		GroupBalancers:         []kafka.GroupBalancer{CoPartitioned{}},
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
		for _, set := range g.sets {
			byPartition := map[int][]*input{}
			for _, topic := range set.Topics {
				for _, pa := range gen.Assignments[topic] {
					byPartition[pa.ID] = append(byPartition[pa.ID], &input{topic: topic, offset: pa.Offset})
					n++
				}
			}
			for p, inputs := range byPartition {
				partial := len(inputs) != len(set.Topics)
				if partial {
					slog.Warn("partition assigned for only some topics of a co-partitioned set: waiting for a rebalance; are their partition counts equal?",
						"partition", p, "topics", set.Topics, "assigned", len(inputs))
				}
				w := &worker{g: g, gen: gen, set: set, partition: p, inputs: inputs, partial: partial}
				gen.Start(w.run)
			}
		}
		g.m.Partitions.Set(float64(n))
		slog.Info("partitions assigned", "group", g.cfg.Group, "generation", gen.ID, "partitions", n)
	}
}

// throttledKafkaLog logs Kafka errors (the partition readers', or
// kafka-go's) at most once per second, for every reader that shares it: during a broker outage, or when a loaded
// broker answers fetches later than their wait, each of the dozens of
// partition readers retries in a tight loop and would flood the log with
// the same line.
func throttledKafkaLog() func(string, ...any) {
	var last atomic.Int64 // unix nanoseconds of the last line
	return func(format string, args ...any) {
		now, prev := time.Now().UnixNano(), last.Load()
		if now-prev < int64(time.Second) || !last.CompareAndSwap(prev, now) {
			return
		}
		slog.Warn("kafka: " + fmt.Sprintf(format, args...))
	}
}
