package match

// ranked is a helper in a need's list: what keeping the list in order
// needs, and no more. A list is read whole whenever one of its helpers
// changes (to find the helper, then to bring every score to the change's
// time), and where helpers are few each is listed by dozens of needs:
// at 10,000 users finding the helper and shifting the scores took a
// sixth of the matcher's time. As the full Suggestion, with its id,
// distance and reasons, an entry took 88 bytes, a list of fifteen 21
// cache lines; as ranked, 32 bytes and 8 lines. What a published list
// shows is worked out again for its top k when it is published
// (Index.suggestion), which costs less than carrying it: a listed
// helper's entry is scored afresh at each of the helper's changes, so
// the helper has not changed since, and the same sums give the same
// bits (the random matcher test compares every publication with a fresh
// query). BenchmarkMatcher, three alternating pairs, µs per input: at
// 10,000 users 17.1-17.9 before, 15.2-17.2 after; at 100,000, 13.3-14.0
// and 12.6-13.6.
type ranked struct {
	score float64 // at the list's time (openNeed.at)
	still float64 // the part of the score that time does not change
	ping  int64   // event time of the ping it was scored with
	slot  int32
}

func rankedOf(s *Suggestion) ranked {
	return ranked{score: s.Score, still: s.Reasons.still(), ping: s.ping, slot: s.slot}
}

// better reports whether a ranks above b: a higher score, or the same
// score and the smaller id, as Query ranks.
func (m *Matcher) better(a, b *ranked) bool {
	if a.score != b.score {
		return a.score > b.score
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
