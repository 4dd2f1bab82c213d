package match

// ranked is a helper in a need's list: what keeping the list in order
// needs, and no more. A list is read whenever one of its helpers changes
// (to find the helper, then to put it back in order), and where helpers
// are few each is listed by dozens of needs:
// at 10,000 users finding the helper and shifting the scores took a
// sixth of the matcher's time. As the full Suggestion, with its id,
// distance and reasons, an entry took 88 bytes, a list of fifteen 21
// cache lines; as ranked, 24 bytes and 6 lines. What a published list
// shows is worked out again for its top k when it is published
// (Index.suggestion), which costs less than carrying it: a listed
// helper's entry is scored afresh at each of the helper's changes, so
// the helper has not changed since, and the same sums give the same
// bits (the random matcher test compares every publication with a fresh
// query). BenchmarkMatcher, three alternating pairs, µs per input: at
// 10,000 users 17.1-17.9 before, 15.2-17.2 after; at 100,000, 13.3-14.0
// and 12.6-13.6.
//
// An entry keeps no score: its score at the list's time is worked out
// when it is read (scoreAt), from the part time does not change and the
// ping. A stored score had to be brought to the time of each change for
// every entry of each list the helper is in, and took a quarter of the
// entry's bytes; a change reads a few scores (BenchmarkMatcher, six
// alternating pairs: at 10,000 users, median 9,512 ns per input before
// and 9,269 after; at 100,000, 8,449 and 8,098).
type ranked struct {
	still float64 // the part of the score that time does not change
	ping  int64   // event time of the ping it was scored with
	slot  int32
}

func rankedOf(s *Suggestion) ranked {
	return ranked{still: s.Reasons.still(), ping: s.ping, slot: s.slot}
}

// scoreAt is e's score at event time at, worked out as Reasons.sum does:
// the bits a fresh ranking at at gives. A list is read as of its time
// (openNeed.at), which a change moves on: every listed helper has lost
// the same recency since, so the order holds. Scores lowered a step at a
// time instead came to depend, through rounding, on the times a list was
// moved on at, and two helpers tied in score swapped places in one run
// and not in another.
func (m *Matcher) scoreAt(e *ranked, at int64) float64 {
	return e.still + m.p.recency(at-e.ping)
}

// better reports whether a ranks above b at event time at: a higher
// score, or the same score and the smaller id, as Query ranks.
func (m *Matcher) better(a, b *ranked, at int64) bool {
	if sa, sb := m.scoreAt(a, at), m.scoreAt(b, at); sa != sb {
		return sa > sb
	}
	return m.idx.id(a.slot) < m.idx.id(b.slot)
}

// sameHelpers reports whether list holds the helpers of found, in order.
func sameHelpers(list []ranked, found []Suggestion) bool {
	if len(list) != len(found) {
		return false
	}
	for i := range list {
		if list[i].slot != found[i].slot {
			return false
		}
	}
	return true
}

func listedIn(list []ranked, slot int32) bool {
	for i := range list {
		if list[i].slot == slot {
			return true
		}
	}
	return false
}
