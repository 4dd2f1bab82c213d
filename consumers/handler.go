// Package consumers reads the input topics: one consumer group, one
// goroutine per assigned partition, decoding and validation by a Handler,
// rejected messages to the dead-letter sinks, and offsets committed only
// after everything derived from the messages is durable.
package consumers

import (
	"context"

	"github.com/segmentio/kafka-go"

	"everywhere/pipeline/ack"
)

// Handler processes the messages of one partition of one topic. A partition
// worker owns its handler, so a handler needs no locks.
type Handler interface {
	// Handle processes one message; an error rejects it to the dead-letter
	// topic with the error's text as the reason.
	Handle(m *kafka.Message) error
	// Seal hands everything derived since the last seal to the sinks, each
	// chunk holding t. last is the offset of the last message handled.
	Seal(ctx context.Context, t *ack.Ticket, last int64) error
}

// Factory makes the handler of a partition when it is assigned; this is
// where a handler restores what it needs (watermarks, state).
type Factory func(ctx context.Context, topic string, partition int) (Handler, error)
