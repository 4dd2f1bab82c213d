package simulator

import "everywhere/minheap"

// Kinds of scheduled action.
const (
	kindPing uint8 = iota
	kindAvail
	kindTxn
	kindTransfer
	kindNeed
	kindMessage // a prepared message, published as is
	kindSpike   // an account takeover, cast when it happens
)

type item struct {
	at   int64
	seq  uint64
	kind uint8
	user int32
	msg  *Message
}

// newQueue returns the schedule: actions by time, ties by insertion order
// so that a seed always gives the same stream.
func newQueue() minheap.Heap[item] {
	return minheap.New(func(a, b *item) bool { return a.at < b.at || a.at == b.at && a.seq < b.seq })
}

func (s *Sim) push(at int64, kind uint8, u int32) {
	s.seq++
	s.q.Push(item{at: at, seq: s.seq, kind: kind, user: u})
}

// schedule queues a prepared message for its own time.
func (s *Sim) schedule(m Message) {
	s.seq++
	mm := m
	s.q.Push(item{at: m.TS, seq: s.seq, kind: kindMessage, msg: &mm})
}
