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
)

// newTimers returns the timers in the order they fire: by time, then
// kind, then slot, so that timers due at the same time fire in an order
// that depends only on the input.
func newTimers() minheap.Heap[timer] {
	return minheap.New(func(a, b *timer) bool {
		if a.at != b.at {
			return a.at < b.at
		}
		if a.kind != b.kind {
			return a.kind < b.kind
		}
		return a.slot < b.slot
	})
}
