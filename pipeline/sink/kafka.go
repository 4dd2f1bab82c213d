package sink

import (
	"context"
	"fmt"
	"time"

	"github.com/segmentio/kafka-go"
)

// WriterConfig tunes a Kafka producer.
type WriterConfig struct {
	Brokers     []string
	Partitioner string // murmur2, crc32 or fnv1a
	Topic       string
	BatchSize   int
}

// maxRequestMessages caps the messages of one partition's produce request.
// kafka-go allocates room for BatchSize messages (about 160 bytes each)
// for every partition batch it starts, however few it then holds: at 1000
// that was 160 KB allocated and cleared per partition per write, 5% of the
// engine's CPU while catching up. A larger write is sent as several
// requests.
const maxRequestMessages = 256

// NewWriter returns a synchronous producer that waits for all in-sync
// replicas: a kafka.Writer literal defaults to fire-and-forget and a 1 s
// batch timeout, neither acceptable for outputs whose offsets are committed
// after the write. Its callers hand it whole batches (a batcher gathers
// them), so it must not wait for more: a partial batch would otherwise sit
// for the batch timeout on every write.
func NewWriter(c WriterConfig) *kafka.Writer {
	return &kafka.Writer{
		Addr:         kafka.TCP(c.Brokers...),
		Topic:        c.Topic,
		Balancer:     Balancer(c.Partitioner),
		RequiredAcks: kafka.RequireAll,
		BatchSize:    min(c.BatchSize, maxRequestMessages),
		BatchTimeout: time.Microsecond,
		// Under the broker's default message.max.bytes (1 MiB): a larger
		// record batch is refused whole.
		BatchBytes:             1_000_000,
		MaxAttempts:            5,
		WriteBackoffMin:        50 * time.Millisecond,
		WriteBackoffMax:        2 * time.Second,
		AllowAutoTopicCreation: false,
	}
}

// Produce returns a write function that publishes each chunk's messages,
// built by encode, in one synchronous call.
func Produce[T any](w *kafka.Writer, encode func(dst []kafka.Message, chunk T) []kafka.Message) func(ctx context.Context, batch []T) error {
	var msgs []kafka.Message
	return func(ctx context.Context, batch []T) error {
		msgs = msgs[:0]
		for _, c := range batch {
			msgs = encode(msgs, c)
		}
		if len(msgs) == 0 {
			return nil
		}
		if err := w.WriteMessages(ctx, msgs...); err != nil {
			return fmt.Errorf("produce to %s: %w", w.Topic, err)
		}
		return nil
	}
}

// Balancer returns the partitioner by its config name; keyed messages land
// where a producer with the same partitioner puts them.
func Balancer(name string) kafka.Balancer {
	switch name {
	case "crc32":
		return kafka.CRC32Balancer{Consistent: true}
	case "fnv1a":
		return &kafka.Hash{}
	}
	return kafka.Murmur2Balancer{Consistent: true}
}

// Chosen is the balancer of a producer whose messages already name their
// partition (Message.Partition): the engine's region router decides where
// each record goes, and may send one record to several partitions.
type Chosen struct{}

// Balance returns the partition the message names.
func (Chosen) Balance(m kafka.Message, partitions ...int) int {
	if m.Partition >= 0 && m.Partition < len(partitions) {
		return partitions[m.Partition]
	}
	return partitions[0]
}
