package match

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
)

// timers is a min-heap on (at, kind, slot): timers due at the same time
// fire in an order that depends only on the input.
type timers struct{ h []timer }

func (t *timers) len() int     { return len(t.h) }
func (t *timers) peek() *timer { return &t.h[0] }
func before(a, b *timer) bool {
	if a.at != b.at {
		return a.at < b.at
	}
	if a.kind != b.kind {
		return a.kind < b.kind
	}
	return a.slot < b.slot
}

func (t *timers) push(x timer) {
	t.h = append(t.h, x)
	for i := len(t.h) - 1; i > 0; {
		p := (i - 1) / 2
		if !before(&t.h[i], &t.h[p]) {
			break
		}
		t.h[i], t.h[p] = t.h[p], t.h[i]
		i = p
	}
}

func (t *timers) pop() timer {
	top := t.h[0]
	last := len(t.h) - 1
	t.h[0] = t.h[last]
	t.h = t.h[:last]
	for i := 0; ; {
		l, r, m := 2*i+1, 2*i+2, i
		if l < last && before(&t.h[l], &t.h[m]) {
			m = l
		}
		if r < last && before(&t.h[r], &t.h[m]) {
			m = r
		}
		if m == i {
			break
		}
		t.h[i], t.h[m] = t.h[m], t.h[i]
		i = m
	}
	return top
}
