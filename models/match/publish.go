package match

import "math"

// publish announces need ni's list, one version up, unless the change
// waits for the end of the republish interval.
func (m *Matcher) publish(ni int32, at int64) {
	if m.holding {
		m.held = append(m.held, ni)
		return
	}
	n := &m.needs[ni]
	if n.version > 0 && m.Republish > 0 && at < n.pubAt+m.Republish && !m.dropsCandidate(n, at) {
		if n.flushAt == 0 {
			n.flushAt = n.pubAt + m.Republish
			m.timers.Push(timer{at: n.flushAt, kind: needFlush, slot: ni, ref: n.flushAt})
		}
		return
	}
	m.emit(ni, at)
}

// dropsCandidate reports whether a helper of the last published list is
// no longer a candidate: the matcher must not leave them suggested.
//
// It is asked at every change gathered for a need, and where helpers are
// few each is listed by dozens of needs and each of its pings asks it
// of all of them: asking the index about all k helpers every time was a
// twentieth of a catch-up's CPU. So once the whole list has been checked
// only what may have changed since is: a helper stops being a candidate
// by a change of its own (Helper, Alert: changed), or by time alone,
// its ping growing stale or an alert it was sent ahead of its time
// starting (Index.candidateUntil). Until the earliest of those times,
// only the helpers changed since the last check are asked again.
func (m *Matcher) dropsCandidate(n *openNeed, at int64) bool {
	full := n.checkSeq == 0 || at < n.checkAt || at >= n.checkUntil
	if full {
		n.checkUntil = math.MaxInt64
	}
	for _, slot := range n.pub {
		if !full && !m.changedSince(slot, n.checkSeq) {
			continue
		}
		if !m.idx.Candidate(slot, &n.ev, n.cosLat, n.reqHash, at) {
			n.checkSeq = 0
			return true
		}
		n.checkUntil = min(n.checkUntil, m.idx.candidateUntil(slot, at))
	}
	n.checkSeq, n.checkAt = m.changes, at
	return false
}

// changedSince reports whether the helper in slot changed after change
// count seq; a helper never seen to change counts as changed.
func (m *Matcher) changedSince(slot int32, seq uint64) bool {
	return int(slot) >= len(m.changedAt) || m.changedAt[slot] > seq
}

// emit publishes need ni's list if it differs from the last published.
func (m *Matcher) emit(ni int32, at int64) {
	n := &m.needs[ni]
	n.flushAt, n.pubLeft = 0, false // pub becomes, or is, the top of the list
	top := n.list[:min(m.k, len(n.list))]
	if n.version > 0 && len(n.pub) == len(top) {
		same := true
		for i := range top {
			same = same && n.pub[i] == top[i].slot
		}
		if same {
			m.Unchanged++
			return
		}
	}
	n.pub, n.checkSeq = n.pub[:0], 0
	for i := range top {
		n.pub = append(n.pub, top[i].slot)
	}
	n.pubAt = at
	if n.version > 0 {
		m.Changed++
	}
	n.version++
	m.Published++
	if m.Publish != nil {
		m.out = m.out[:0]
		for i := range top {
			m.out = append(m.out, m.idx.suggestion(top[i].slot, &n.ev, n.cosLat, at))
		}
		m.shown = List{NeedID: n.ev.NeedID, RequesterID: n.ev.UserID, Version: n.base + n.version, EventTS: at, Suggestions: m.out}
		m.Publish(&m.shown)
	}
}
