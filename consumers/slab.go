package consumers

import (
	"sync"
	"sync/atomic"

	"github.com/segmentio/kafka-go"
)

// slab is room for the keys and values of fetched messages, one reader's
// at a time, used again once every message carved from it was handled.
//
// The bytes of fetched messages were half of what the engine allocated
// while streaming (10 MB/s at 60,000 events/s): every slab was new memory,
// and the collector ran twice as often for it. Handlers keep nothing of a
// message past Handle (decoders give views into their own buffers, and
// what is kept is copied), so a slab's bytes are free once its messages
// are handled. Each message carries its slab in kafka.Message.WriterData,
// which only kafka.Writer reads. Messages never handled (those in hand
// when a generation ends) leave their slab to the collector.
type slab struct {
	b []byte
	// refs counts the messages carved from the slab and not yet handled,
	// plus one while its reader may still fill it.
	refs atomic.Int64
}

// slabs holds slabs whose messages were all handled. A slab takes at
// least slabSize bytes, or a whole partition's share of a fetch: while
// catching up a share is most of kafka.fetch_max_bytes, and slabs grow to
// it once.
var slabs = sync.Pool{New: func() any { return &slab{b: make([]byte, 0, slabSize)} }}

// newSlab returns an empty slab of at least n bytes, holding the reader's
// reference.
func newSlab(n int) *slab {
	s := slabs.Get().(*slab)
	if cap(s.b) < n {
		s.b = make([]byte, 0, n)
	}
	s.refs.Store(1)
	return s
}

// unref drops one reference; the last one gives the slab back.
func (s *slab) unref() {
	if s.refs.Add(-1) == 0 {
		s.b = s.b[:0]
		slabs.Put(s)
	}
}

// carve makes msgs hold references to s: each drops its own once handled.
func (s *slab) carve(msgs []kafka.Message) {
	for i := range msgs {
		msgs[i].WriterData = s
	}
	s.refs.Add(int64(len(msgs)))
}

// handled tells the slab of m, if any, that m was handled: nothing reads
// its key or value again.
func handled(m *kafka.Message) {
	if s, ok := m.WriterData.(*slab); ok {
		m.WriterData = nil
		s.unref()
	}
}
