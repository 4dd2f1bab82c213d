package match

import (
	"math/rand/v2"
	"testing"

	"everywhere/minheap"
)

// TestTimersFireInOrder pushes timers as the matcher does, each kind
// mostly in order with some behind, and pops them as the clock moves: the
// queue must give them back exactly as one heap does.
func TestTimersFireInOrder(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	q := newTimers()
	ref := minheap.New(timerLess)
	spans := [timerKinds]int64{helperStale: 600_000, alertEnds: 86_400_000, needExpires: 0, needFlush: 30_000}
	var now int64
	var last [timerKinds]int64 // the latest time pushed of each kind
	popped := 0
	for step := range 200_000 {
		now += int64(r.IntN(20))
		kind := timerKind(r.IntN(int(timerKinds)))
		at := now + spans[kind]
		switch {
		case kind == needExpires:
			at = now + int64(r.IntN(3_600_000)) // expiries come in any order
		case r.IntN(50) == 0:
			at -= int64(r.IntN(5_000)) // a late event's timer
		}
		x := timer{at: at, ref: at, slot: int32(r.IntN(1000)), kind: kind}
		inHeap := q.heap.Len()
		q.Push(x)
		ref.Push(x)
		if at > last[kind] {
			if kind != needExpires && q.heap.Len() != inHeap {
				t.Fatalf("step %d: %+v, in order, went to the heap", step, x)
			}
			last[kind] = at
		}
		if step%3 == 0 {
			now += int64(r.IntN(200))
		}
		for ref.Len() > 0 && ref.Peek().at <= now {
			if q.Len() != ref.Len() {
				t.Fatalf("step %d: %d timers held, want %d", step, q.Len(), ref.Len())
			}
			if *q.Peek() != *ref.Peek() {
				t.Fatalf("step %d: peek %+v, want %+v", step, *q.Peek(), *ref.Peek())
			}
			if got, want := q.Pop(), ref.Pop(); got != want {
				t.Fatalf("step %d: popped %+v, want %+v", step, got, want)
			}
			popped++
		}
	}
	for ref.Len() > 0 {
		if got, want := q.Pop(), ref.Pop(); got != want {
			t.Fatalf("drain: popped %+v, want %+v", got, want)
		}
		popped++
	}
	if q.Len() != 0 {
		t.Fatalf("%d timers left", q.Len())
	}
	if popped != 200_000 {
		t.Fatalf("popped %d of 200000", popped)
	}
}
