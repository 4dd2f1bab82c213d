package consumers

import (
	"context"
	"time"

	"github.com/segmentio/kafka-go"
)

// input is one topic of a worker's set: its reader, the fetched messages
// on their way to the handler, and where it stands.
type input struct {
	topic  string
	offset int64 // the committed offset: where new work starts
	// replayTo: messages before it are read again only to rebuild state.
	replayTo int64
	h        Handler
	r        *reader
	// ch brings the fetched messages in chunks (see fetch); chunk is the
	// one being handed over, from its next-th message.
	ch      chan []kafka.Message
	chunk   []kafka.Message
	next    int
	head    kafka.Message
	headTS  int64
	has     bool
	closed  bool
	seen    bool // a message has arrived: the reader's lag is known
	arrived time.Time
	// stalled: the reader reports lag, its last fetch succeeded and brought
	// nothing, and nothing came for stallAfter; the others are not held
	// for it until a message of its own arrives. A slow, failing or
	// restarting broker is waited for instead: going on without it would
	// hand the others over out of order.
	stalled bool
	behind  int64 // messages after the start offset when the worker began
	last    int64 // last offset handled, -1 for none
	sealed  int64 // last offset sealed, -1 for none

	ok, bad float64
	lag     interface{ Set(float64) }
}

// chunkSize is how many messages go through an input's channel at once.
const chunkSize = 256

// preloadGroup is how many messages a Preloader reads ahead at a time:
// what they bring in must stay in the cache while they are handled.
const preloadGroup = 64

// fetch feeds one input's channel and wakes the worker. The reader retries
// failed fetches itself; it stops only when the generation ends.
//
// Messages go in chunks: sent one by one, each took a send, a receive and
// a wake, each with the channel's lock, 4 to 5% of a catch-up's CPU. A
// chunk is copied out of the fetch, whose messages the reader reuses,
// into one of three buffers in turn: the channel holds one chunk and the
// worker hands over another, so the one filled next is neither (the send
// before it waited for the worker to take the chunk after the one it
// had).
func (w *worker) fetch(ctx context.Context, in *input) {
	defer close(in.ch)
	defer in.r.close()
	var bufs [3][]kafka.Message
	next := 0
	for {
		msgs, err := in.r.fetch(ctx)
		if err != nil {
			return
		}
		for len(msgs) > 0 {
			n := min(len(msgs), chunkSize)
			chunk := append(bufs[next][:0], msgs[:n]...)
			bufs[next], next = chunk, (next+1)%len(bufs)
			// The lag is read from the fetch's own copy: once sent, the
			// chunk is the worker's.
			last := &msgs[n-1]
			msgs = msgs[n:]
			select {
			case in.ch <- chunk:
				in.r.delivered(last)
			case <-ctx.Done():
				return
			}
			select {
			case w.wake <- struct{}{}:
			default:
			}
		}
	}
}

// take moves the input's next message, if one is at hand, to its head,
// and reports whether the input has closed: its fetch ended and
// everything it brought was taken.
func (in *input) take(now time.Time) (closed bool) {
	if in.next == len(in.chunk) {
		// Done with the chunk: its buffer, filled again later, holds no
		// message's bytes meanwhile.
		clear(in.chunk)
		in.chunk, in.next = nil, 0
		select {
		case c, open := <-in.ch:
			if !open {
				return true
			}
			in.chunk = c
		default:
			return false
		}
	}
	if in.next%preloadGroup == 0 {
		if p, ok := in.h.(Preloader); ok {
			p.Preload(in.chunk[in.next:min(in.next+preloadGroup, len(in.chunk))])
		}
	}
	m := &in.chunk[in.next]
	in.head, in.headTS, in.has, in.seen = *m, EventTime(m.Value), true, true
	in.next++
	in.arrived, in.stalled = now, false
	return false
}
