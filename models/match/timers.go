package match

import "everywhere/minheap"

// A timer is something that falls due at an event time: a listed helper's
// ping growing stale, an alert's window ending, a need expiring. ref is
// what the timer was set for (a ping time, an alert time, an expiry), so a
// timer made obsolete by a later change is recognised and ignored when it
// fires instead of being searched for and removed.
type timer struct {
	at   int64
	ref  int64
	slot int32 // a helper's slot, or a need's for needExpires
	kind timerKind
}

type timerKind uint8

const (
	helperStale timerKind = iota
	alertEnds
	needExpires
	needFlush
	timerKinds
)

// timerLess orders timers as they fire: by time, then kind, then slot,
// so that timers due at the same time fire in an order that depends only
// on the input. Two timers equal in all three are equal in ref too (ref
// fixes at for every kind), so the order is total.
func timerLess(a, b *timer) bool {
	if a.at != b.at {
		return a.at < b.at
	}
	if a.kind != b.kind {
		return a.kind < b.kind
	}
	return a.slot < b.slot
}

// timers holds the matcher's timers and gives them back in timerLess
// order.
//
// Most timers are set a fixed span after the clock: a listed helper's
// staleness MaxPingAge after its ping, a gathered change's flush the
// republish interval after the last version, an alert's end AlertWindow
// after it. Set as the clock moves, each kind comes in the order it
// fires, so each kind has a queue that takes timers pushed in order, at
// no cost beyond an append and a read of its head. Only the rest (needs'
// expiries, a late ping's timer) go to a heap. In one heap, every listed
// helper's ping pushed a timer onto some hundred thousand others, and
// taking each off walked the heap's height in cache misses: 3.5% of a
// catch-up's CPU.
type timers struct {
	lanes [timerKinds]lane
	heap  minheap.Heap[timer]
	n     int
}

// lane is a queue of timers of one kind, pushed in the order they fire.
type lane struct {
	items []timer
	head  int
}

func newTimers() timers {
	return timers{heap: minheap.New(timerLess)}
}

// Len is the number of timers held.
func (q *timers) Len() int { return q.n }

// Push adds t.
func (q *timers) Push(t timer) {
	q.n++
	l := &q.lanes[t.kind]
	if l.head < len(l.items) && timerLess(&t, &l.items[len(l.items)-1]) {
		q.heap.Push(t)
		return
	}
	if l.head == len(l.items) {
		l.items, l.head = l.items[:0], 0
	} else if len(l.items) == cap(l.items) && l.head >= len(l.items)/2 {
		// Full, and half of it taken: move the rest down rather than grow.
		l.items = l.items[:copy(l.items, l.items[l.head:])]
		l.head = 0
	}
	l.items = append(l.items, t)
}

// Peek returns the timer that fires first, which must exist.
func (q *timers) Peek() *timer {
	t, _ := q.first()
	return t
}

// Pop removes and returns the timer that fires first, which must exist.
func (q *timers) Pop() timer {
	t, from := q.first()
	q.n--
	if from < 0 {
		return q.heap.Pop()
	}
	x := *t
	q.lanes[from].head++
	return x
}

// first returns the timer that fires first and the lane it heads, -1 for
// the heap.
func (q *timers) first() (*timer, int) {
	var best *timer
	from := -1
	if q.heap.Len() > 0 {
		best = q.heap.Peek()
	}
	for i := range q.lanes {
		l := &q.lanes[i]
		if l.head < len(l.items) && (best == nil || timerLess(&l.items[l.head], best)) {
			best, from = &l.items[l.head], i
		}
	}
	return best, from
}
