package consumers

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/segmentio/kafka-go"

	"everywhere/deadline"
)

// reader fetches one partition of one topic, a whole fetch response at a
// time, through the member's fetcher.
//
// It replaces kafka.Reader in the partition workers for four reasons,
// each measured while catching up or streaming live:
//   - kafka.Reader allocates every message's key and value apart (two
//     allocations an event, about half of the engine's); here a fetch's
//     records are copied into a shared slab in one move and read in place
//     (see rawFetch and readBatches);
//   - it hands each message through a channel of its own before the
//     worker's; here the worker's fetch goroutine calls fetch directly;
//   - it gives a fetch response only kafka.fetch_max_wait to arrive and
//     then drops the connection and dials again, so a loaded broker turns
//     into a storm of reconnections; here a response has requestTimeout;
//   - it fetches its partition alone; here the fetcher gathers the
//     member's partitions into one request (see fetcher).
//
// A reader belongs to one goroutine, but for Lag and hollow, which the
// worker reads.
type reader struct {
	f         *fetcher
	lease     *deadline.Lease // bounds the fetch goroutine's requests
	topic     string
	partition int
	log       func(string, ...any)

	offset int64 // next offset to fetch; kafka.FirstOffset or LastOffset until resolved
	lag    atomic.Int64
	// hollowed: the last fetch succeeded and brought nothing although the
	// partition holds messages past the offset (transaction markers, which
	// count in the offsets and are never delivered).
	hollowed atomic.Bool

	msgs []kafka.Message // the last fetch's messages: values handed on, the slice reused
	slab *slab           // room for keys and values; a fetch that outgrows it starts another
}

// requestTimeout bounds one request to the broker. A fetch is answered
// after at most kafka.fetch_max_wait when the broker is well; a loaded one
// may take longer, and waiting is cheaper than reconnecting.
const requestTimeout = 30 * time.Second

// slabSize is the least room a reader takes for keys and values at a time.
const slabSize = 256 << 10

// Backoff after a failed fetch, doubling.
const (
	fetchBackoffMin = 50 * time.Millisecond
	fetchBackoffMax = 2 * time.Second
)

// newReader returns a reader of a partition that fetches through f.
// Its requests are bounded by their context: the lease's, or ReadLag's
// caller's.
func newReader(f *fetcher, topic string, partition int, log func(string, ...any)) *reader {
	return &reader{f: f, lease: deadline.NewLease(requestTimeout, time.Second),
		topic: topic, partition: partition, log: log, offset: kafka.FirstOffset}
}

// SetOffset sets where the next fetch starts: an offset, or
// kafka.FirstOffset or kafka.LastOffset.
func (r *reader) SetOffset(offset int64) { r.offset = offset }

// Lag is how many messages the partition held, when last fetched, past
// the last message handed on.
func (r *reader) Lag() int64 { return r.lag.Load() }

// ReadLag asks the broker how many messages lie after the start offset,
// and settles kafka.FirstOffset or LastOffset with the same answer. ctx
// bounds the request: it must have a deadline.
func (r *reader) ReadLag(ctx context.Context) (int64, error) {
	first, last, err := r.bounds(ctx)
	if err != nil {
		return 0, err
	}
	r.settle(first, last)
	return max(last-r.offset, 0), nil
}

// hollow reports whether the last fetch succeeded and brought nothing
// although the partition holds more: not a slow or failing fetch, which
// says nothing of what the partition holds.
func (r *reader) hollow() bool { return r.hollowed.Load() }

// bounds returns the partition's first offset and the offset after its last.
func (r *reader) bounds(ctx context.Context) (first, last int64, err error) {
	res, err := r.f.client.ListOffsets(ctx, &kafka.ListOffsetsRequest{Topics: map[string][]kafka.OffsetRequest{
		r.topic: {kafka.FirstOffsetOf(r.partition), kafka.LastOffsetOf(r.partition)}}})
	if err != nil {
		return 0, 0, err
	}
	for _, p := range res.Topics[r.topic] {
		if p.Partition == r.partition {
			return p.FirstOffset, p.LastOffset, p.Error
		}
	}
	return 0, 0, fmt.Errorf("no offsets for partition %d of %s", r.partition, r.topic)
}

// fetch returns the next messages, waiting for the broker to have some and
// retrying with backoff while it fails. It returns an error only when ctx
// ends. The messages are valid until the next call; their keys and values
// for good.
func (r *reader) fetch(ctx context.Context) ([]kafka.Message, error) {
	backoff := fetchBackoffMin
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		req := r.lease.Context(ctx)
		err := r.resolve(req)
		if err == nil {
			var msgs []kafka.Message
			if msgs, err = r.fetchOnce(req); err == nil {
				if len(msgs) > 0 {
					return msgs, nil
				}
				backoff = fetchBackoffMin
				continue // the fetch waited maxWait and found nothing: ask again
			}
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		r.log("fetch from partition %d of %s at offset %d failed, retrying in %s: %v", r.partition, r.topic, r.offset, backoff, err)
		select {
		case <-time.After(backoff):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		backoff = min(2*backoff, fetchBackoffMax)
	}
}

// close ends the context of the fetch goroutine's requests, and lets its
// slab go once the messages carved from it are handled; the reader is not
// used after.
func (r *reader) close() {
	r.lease.Release()
	if r.slab != nil {
		r.slab.unref()
		r.slab = nil
	}
}

// resolve turns kafka.FirstOffset or LastOffset into an offset, and moves an
// offset the partition no longer holds (removed by retention) to its first.
func (r *reader) resolve(ctx context.Context) error {
	if r.offset >= 0 {
		return nil
	}
	first, last, err := r.bounds(ctx)
	if err != nil {
		return err
	}
	r.settle(first, last)
	return nil
}

// settle turns kafka.FirstOffset or LastOffset into the partition's first
// offset or the one after its last.
func (r *reader) settle(first, last int64) {
	switch r.offset {
	case kafka.FirstOffset:
		r.offset = first
	case kafka.LastOffset:
		r.offset = last
	}
}

func (r *reader) fetchOnce(ctx context.Context) ([]kafka.Message, error) {
	p, err := r.f.fetch(ctx, r.topic, r.partition, r.offset)
	if err != nil {
		if errors.Is(err, kafka.OffsetOutOfRange) {
			first, _, berr := r.bounds(ctx)
			if berr == nil && r.offset < first {
				r.log("offset %d of partition %d of %s is no longer held; going on from %d", r.offset, r.partition, r.topic, first)
				r.offset = first
				return nil, nil
			}
		}
		return nil, err
	}
	records, hw := r.copyOut(p.records), p.highWatermark
	p.release()
	msgs, next, err := readBatches(records, r.topic, r.partition, r.offset, hw, r.f.maxBytes, r.msgs[:0])
	r.slab.carve(msgs)
	if err != nil && len(msgs) == 0 {
		return nil, fmt.Errorf("partition %d of %s: %w", r.partition, r.topic, err)
	}
	// Past a batch that cannot be read, what came before it is handed on
	// and the next fetch starts at it, and fails there.
	r.msgs, r.offset = msgs, next
	if len(msgs) == 0 {
		r.lag.Store(max(hw-r.offset, 0))
	}
	r.hollowed.Store(len(msgs) == 0 && hw > r.offset)
	return msgs, nil
}

// delivered records that m was handed on: the lag counts the messages not
// handed on yet, those of the fetch still held here included, so that the
// worker waits for them.
func (r *reader) delivered(m *kafka.Message) {
	r.lag.Store(max(m.HighWaterMark-m.Offset-1, 0))
}

// copyOut copies a partition's records into the slab, in one move, so
// that the fetch's response, which goes back to its pool, is not held by
// the messages handed on, and a reader's messages take only what its own
// partition brought. Bytes in a slab are not written again until every
// message carved from it was handled (see slab).
func (r *reader) copyOut(b []byte) []byte {
	n := len(b)
	if r.slab == nil || cap(r.slab.b)-len(r.slab.b) < n {
		if r.slab != nil {
			r.slab.unref() // full: it goes once its messages are handled
		}
		r.slab = newSlab(n)
	}
	s := r.slab
	start := len(s.b)
	s.b = append(s.b, b...)
	return s.b[start : start+n : start+n]
}
