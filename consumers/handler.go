// Package consumers reads the input topics: one consumer group, one
// goroutine per assigned partition (or per partition number of a set of
// co-partitioned topics), decoding and validation by a Handler, rejected
// messages to the dead-letter sinks, and offsets committed only after
// everything derived from the messages is durable.
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
	// topic with the error's text as the reason. Output made at once (an
	// alert) is handed to its sink holding t, the ticket of the open run.
	Handle(m *kafka.Message, t *ack.Ticket) error
	// Seal hands everything derived since the last seal to the sinks, each
	// chunk holding t. last is the offset of the last message handled.
	Seal(ctx context.Context, t *ack.Ticket, last int64) error
}

// Factory makes the handlers of one partition number when it is assigned,
// one per topic of its set; this is where handlers restore what they need
// (watermarks, state) and share what they must (a detector per user
// partition).
type Factory func(ctx context.Context, partition int, topics []string) (map[string]Handler, error)

// Set is a group of topics processed together: one worker per partition
// number reads that partition of every topic in the set and hands their
// messages to the handlers in event-time order. Topics in a set must be
// co-partitioned (same partition count, same key, same partitioner).
type Set struct {
	Topics  []string
	Factory Factory
}

// Closer is a handler that must let go of something when its partition
// goes: the worker calls Close after its last seal, from its own goroutine.
type Closer interface{ Close() }

// Idler is a handler that wants to know when its worker has caught up with
// every input and has nothing to do: a source of event-time watermarks
// says so downstream, so that others do not wait for it. Idle is called
// once each time the worker goes idle, with the open run's ticket.
type Idler interface{ Idle(t *ack.Ticket) }

// Preloader is a handler that reads ahead: the worker hands it each group
// of preloadGroup messages (or what is left of a chunk) before their
// Handle calls, so that it can bring into the cache what they will read.
// Loads that depend on nothing before them overlap their cache misses;
// the same loads made one message at a time are paid one after another.
// The messages are valid during the call only.
type Preloader interface{ Preload(msgs []kafka.Message) }

// Holder is a handler that keeps some handled messages pending (a merge
// waiting for other inputs). Held returns the offset of the first message
// whose effects are not yet handed to the sinks, or -1 when none is: the
// worker commits no further than that, so a restart reads them again.
type Holder interface{ Held() int64 }
