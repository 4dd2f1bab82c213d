package simulator

import (
	"fmt"
	"math"
	"slices"
	"time"
)

// Recording is a stream made beforehand and kept in memory, to be
// published at a pace without making its events meanwhile. A latency
// measurement publishes its background load live, on the cores the
// engine under measurement shares: making the load's events as they were
// published took about 8% of a core at 130,000 events/s, work that an
// upstream app does on its own machine. Recorded, publishing an event is
// a copy from memory.
//
// Its keys and values are held end to end in two blocks, and its index
// holds no pointer, so a recording of millions of events adds nothing
// for the collector of the process publishing it (in the tests, the
// broker's) to follow.
type Recording struct {
	start time.Time
	keys  string // every key, end to end
	data  []byte // every value, end to end
	at    []recorded
	next  int
}

// recorded is one message of a Recording: where its key and value end
// in the blocks (each starts where the one before ends).
type recorded struct {
	ts             int64
	keyEnd, valEnd uint32
	topic          Topic
}

// sizing is how many messages Record reads before it sizes its blocks.
const sizing = 10_000

// Record reads up to n messages of s into a Recording. The blocks are
// addressed by 32 bits: a stream of more than 4 GiB of values is an
// error.
func Record(s Stream, n int) (*Recording, error) {
	r := &Recording{start: s.Start(), at: make([]recorded, 0, n)}
	var keys []byte
	var m Message
	for len(r.at) < n && s.Next(&m) {
		if len(r.at) == sizing {
			// The blocks' room for the rest, from the messages so far:
			// grown by doubling, they were copied into fresh memory again
			// and again: 903 ns an event recorded, now 568-602
			// (BenchmarkRecord).
			left := n - len(r.at)
			keys = slices.Grow(keys, left*len(keys)/sizing*9/8)
			r.data = slices.Grow(r.data, left*len(r.data)/sizing*9/8)
		}
		keys = append(keys, m.Key...)
		r.data = append(r.data, m.Value...)
		if len(keys) > math.MaxUint32 || len(r.data) > math.MaxUint32 {
			return nil, fmt.Errorf("record: more than 4 GiB of keys or values after %d messages", len(r.at))
		}
		r.at = append(r.at, recorded{ts: m.TS, keyEnd: uint32(len(keys)), valEnd: uint32(len(r.data)), topic: m.Topic})
	}
	r.keys = string(keys)
	return r, nil
}

// Len is the number of messages recorded.
func (r *Recording) Len() int { return len(r.at) }

// Start is the event time of the stream recorded.
func (r *Recording) Start() time.Time { return r.start }

// Next stores the next message in m: its key and value are views into
// the recording, valid as long as the recording is.
func (r *Recording) Next(m *Message) bool {
	if r.next >= len(r.at) {
		return false
	}
	var keyAt, valAt uint32
	if r.next > 0 {
		keyAt, valAt = r.at[r.next-1].keyEnd, r.at[r.next-1].valEnd
	}
	e := &r.at[r.next]
	r.next++
	*m = Message{Topic: e.topic, Key: r.keys[keyAt:e.keyEnd], Value: r.data[valAt:e.valEnd:e.valEnd], TS: e.ts}
	return true
}
