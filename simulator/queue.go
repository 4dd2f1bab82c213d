package simulator

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

// queue is a binary min-heap of actions by time, ties by insertion order so
// that a seed always gives the same stream.
type queue struct{ items []item }

func (q *queue) Len() int { return len(q.items) }

func (q *queue) less(i, j int) bool {
	a, b := &q.items[i], &q.items[j]
	return a.at < b.at || a.at == b.at && a.seq < b.seq
}

func (q *queue) add(it item) {
	q.items = append(q.items, it)
	i := len(q.items) - 1
	for i > 0 {
		p := (i - 1) / 2
		if !q.less(i, p) {
			break
		}
		q.items[i], q.items[p] = q.items[p], q.items[i]
		i = p
	}
}

func (q *queue) pop() item {
	top := q.items[0]
	last := len(q.items) - 1
	q.items[0] = q.items[last]
	q.items = q.items[:last]
	i := 0
	for {
		l, r, m := 2*i+1, 2*i+2, i
		if l < last && q.less(l, m) {
			m = l
		}
		if r < last && q.less(r, m) {
			m = r
		}
		if m == i {
			break
		}
		q.items[i], q.items[m] = q.items[m], q.items[i]
		i = m
	}
	return top
}

func (s *Sim) push(at int64, kind uint8, u int32) {
	s.seq++
	s.q.add(item{at: at, seq: s.seq, kind: kind, user: u})
}

// schedule queues a prepared message for its own time.
func (s *Sim) schedule(m Message) {
	s.seq++
	mm := m
	s.q.add(item{at: m.TS, seq: s.seq, kind: kindMessage, msg: &mm})
}
