package sink

import (
	"context"

	"github.com/segmentio/kafka-go"
)

// ProducerConfig sets up a Producer.
type ProducerConfig struct {
	Brokers     []string
	Partitioner string // murmur2, crc32 or fnv1a
	Topic       string
}

// Produce returns a write function that publishes each chunk's messages,
// built by encode, in one synchronous call.
func Produce[T any](w *Producer, encode func(dst []kafka.Message, chunk T) []kafka.Message) func(ctx context.Context, batch []T) error {
	var msgs []kafka.Message
	return func(ctx context.Context, batch []T) error {
		msgs = msgs[:0]
		for _, c := range batch {
			msgs = encode(msgs, c)
		}
		if len(msgs) == 0 {
			return nil
		}
		return w.WriteMessages(ctx, msgs...)
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
