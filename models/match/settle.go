package match

import (
	"math"
	"slices"

	"everywhere/geo"
)

// changed settles, for the needs listing the helper in slot and those
// near it, what its change does to their lists.
func (m *Matcher) changed(slot int32, ts int64) {
	m.stamp++
	m.changes++
	for int(slot) >= len(m.changedAt) {
		m.changedAt = append(m.changedAt, 0)
	}
	m.changedAt[slot] = m.changes
	m.aff = m.aff[:0]
	if l := m.listing(slot); l != nil {
		m.arm(slot, l)
		for _, ni := range l.needs {
			m.mark(ni)
			m.heads[ni].lists = m.stamp
		}
	}
	m.holding = true
	if e, avail := m.idx.entry(slot); avail {
		m.enterable(&e, m.places.needsIn(geo.Parent(m.idx.cellOf(slot), NeedResolution)), ts)
	}
	m.preload()
	for _, ni := range m.aff {
		m.update(ni, slot, ts)
		m.syncLast(ni)
	}
	m.release(ts)
}

// preload reads the first entry of each affected need's list before
// update settles them one by one: the needs and their lists lie at random
// in memory, and update's first read of a list, to find the helper in
// it, was a fifth of its time, each need's cache misses paid after the
// last one's. Loads that depend on nothing before them overlap.
func (m *Matcher) preload() {
	var touch int64
	for _, ni := range m.aff {
		if l := m.needs[ni].list; len(l) > 0 {
			touch += int64(l[0].slot) + l[len(l)-1].ping
		}
	}
	m.touch += touch
}

// enterable adds to m.aff, which holds the needs listing the available
// helper with cell entry e, those of near (the needs reaching the
// helper's cell) that it may enter at event time at: within reach, and
// with a bound not below the list's last. It is update's own first test
// (through entryAbove), on the cell's list and the needs' heads alone.
//
// A ping reaches some 450 needs in the benchmark's city: half lie out of
// reach and most of the rest are out of the running, and which is which
// is as good as random to a branch predictor. So the test is made in two
// sweeps without branches, each keeping its survivors: the first on the
// distance, read from the cell's list itself, the second on the bound,
// read from the heads of the needs within reach. A need listing the
// helper is already in m.aff (its stamp says so) and is not added twice.
func (m *Matcher) enterable(e *member, near []nearNeed, at int64) {
	lat, lng := float64(e.lat), float64(e.lng)
	listed := len(m.aff)
	j := listed
	m.aff = slices.Grow(m.aff, len(near))[:j+len(near)]
	for i := range near {
		m.aff[j] = near[i].ni
		j += b2i(near[i].reaches(lat, lng))
	}
	m.aff = m.aff[:j]
	// The second sweep's divisions (the decay's, the distance scale's)
	// are made once. Worked out in another order, the floor may differ
	// from update's in its last bits: twice update's margin covers that.
	perMS, perM := m.decay(0, 1), 1/m.p.DistanceScaleM
	j = listed
	for _, ni := range m.aff[listed:] {
		hd := &m.heads[ni]
		d := math.Sqrt(flatDist2M(hd.lat, hd.lng, hd.cosLat, lat, lng))
		// A last of -Inf (anyone enters) leaves the floor at -Inf.
		floor := hd.last - perMS*float64(at-hd.at) - 2e-9
		m.aff[j] = ni
		j += b2i(m.idx.mayReach(e, hd.cat, d*perM, floor)) & b2i(hd.stamp != m.stamp)
	}
	m.aff = m.aff[:j]
}

// b2i is 1 for true: the compiler makes it a flag, not a branch.
func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// sync copies to need ni's head its place and what its list now says.
func (m *Matcher) sync(ni int32) {
	n, hd := &m.needs[ni], &m.heads[ni]
	hd.lat, hd.lng, hd.cosLat, hd.radiusM, hd.cat = n.ev.Lat, n.ev.Lng, n.cosLat, n.ev.RadiusM, n.ev.Category
	hd.reqHash = n.reqHash
	m.syncLast(ni)
}

// syncLast copies to need ni's head what its list now says: all that a
// helper's change alters, since every change of a need's place syncs it
// whole (NeedMoved ends in rematch). It spares changed a read of the
// need's event, on a cache line of its own.
func (m *Matcher) syncLast(ni int32) {
	n, hd := &m.needs[ni], &m.heads[ni]
	hd.last, hd.at = math.Inf(-1), n.at
	if !n.complete && len(n.list) > 0 {
		hd.last = m.scoreAt(&n.list[len(n.list)-1], n.at)
	}
}

// update settles need ni's list after the helper in slot changed at event
// time at.
func (m *Matcher) update(ni int32, slot int32, at int64) {
	n := &m.needs[ni]
	pos := -1
	if m.heads[ni].lists == m.stamp { // listed: find where, else spare the scan
		for i := range n.list {
			if n.list[i].slot == slot {
				pos = i
				break
			}
		}
	}
	floor := math.Inf(-1)
	if pos < 0 && !n.complete && len(n.list) > 0 {
		// To enter, the helper must beat the last, as of at (a margin
		// covers the bound's rounding).
		floor = m.scoreAt(&n.list[len(n.list)-1], at) - 1e-9
	}
	s, ok := m.idx.entryAbove(slot, &n.ev, &m.heads[ni], at, floor)
	if pos < 0 && !ok {
		return
	}
	n.at = at // the list's scores are read as of the change (scoreAt)
	if pos >= 0 {
		// Take the helper out and put it back where it now ranks, unless
		// it is gone, or it fell below every other listed helper while
		// unlisted ones may rank above it: then it stays out, and the
		// reserve keeps the top k exact until it runs out.
		n.list = append(n.list[:pos], n.list[pos+1:]...)
		back := ok && (n.complete || len(n.list) > 0 && m.better(&s, &n.list[len(n.list)-1], at))
		to := len(n.list) + 1 // where the helper now is: past the list if out
		if back {
			to = m.insert(n, s)
		} else {
			m.unlist(slot, ni)
			if ok {
				n.complete = false
				n.pubLeft = n.pubLeft || slices.Contains(n.pub, slot)
			}
		}
		if len(n.list) < m.k && !n.complete {
			m.rematch(ni, at)
			return
		}
		if ok && (to == pos || min(to, pos) >= m.k) && m.quiet(n, slot, at) {
			return // still a candidate, and the top k are as they were
		}
		m.publish(ni, at)
		return
	}
	if !ok || !n.complete && (len(n.list) == 0 || !m.better(&s, &n.list[len(n.list)-1], at)) {
		return // cannot enter: every unlisted candidate ranks below the list
	}
	if len(n.list) >= m.kk {
		out := n.list[len(n.list)-1].slot
		n.list = n.list[:len(n.list)-1]
		m.unlist(out, ni)
		n.complete = false
		n.pubLeft = n.pubLeft || slices.Contains(n.pub, out)
	}
	to := m.insert(n, s)
	m.list(slot, ni)
	if to >= m.k && m.quiet(n, slot, at) {
		return // into the reserve: the top k are as they were
	}
	m.publish(ni, at)
}

// quiet reports whether publishing need n's list at event time at, after
// the helper in slot changed and left its top k as they were, would
// change nothing: no version (the top k are those of the last list
// published, or of one already gathered for later), and no helper of the
// last list published found to be no longer a candidate, which publish
// must put out at once (dropsCandidate). That holds while every helper
// of that list is still in the list, so that a change of its own that
// makes it no candidate reaches update, and the last check of them
// holds. The helper in slot is a candidate now; the time it may stop
// being one by time alone is noted, as dropsCandidate would have.
// Most changes move a helper within lists, or into their reserve, and
// leave the top k as they were: in BenchmarkMatcher at 10,000 users seven
// in ten of the lists a change settles, and more than half of them pass
// here, which publish would have held, sorted and checked for nothing.
func (m *Matcher) quiet(n *openNeed, slot int32, at int64) bool {
	if m.loud || n.pubLeft || n.checkSeq == 0 || at < n.checkAt || at >= n.checkUntil {
		return false
	}
	n.checkUntil = min(n.checkUntil, m.idx.candidateUntil(slot, at))
	return true
}

// insert puts s in its place in n's list and returns the place.
func (m *Matcher) insert(n *openNeed, s ranked) int {
	n.list = append(n.list, s)
	pos := len(n.list) - 1
	for ; pos > 0 && m.better(&n.list[pos], &n.list[pos-1], n.at); pos-- {
		n.list[pos], n.list[pos-1] = n.list[pos-1], n.list[pos]
	}
	return pos
}

// decay is the score every candidate loses to recency from event time
// from to at.
func (m *Matcher) decay(from, at int64) float64 {
	return m.p.Weights.Recency * float64(at-from) / float64(m.p.RecencyWindow.Milliseconds())
}

func (m *Matcher) mark(ni int32) {
	if hd := &m.heads[ni]; hd.stamp != m.stamp {
		hd.stamp = m.stamp
		m.aff = append(m.aff, ni)
	}
}

// rematchAffected ranks every marked need afresh.
func (m *Matcher) rematchAffected(at int64) {
	m.holding = true
	for _, ni := range m.aff {
		m.rematch(ni, at)
	}
	m.release(at)
}

// release publishes the lists held while a change was settled, in slot
// order, so that the order lists are published in does not depend on map
// iteration. Which slot a need gets depends only on the input (the next
// free one as it arrives), so neither does the order. Settling needs in
// any order and sorting only those that publish spares sorting the
// hundred or more needs a ping can reach.
func (m *Matcher) release(at int64) {
	m.holding = false
	slices.Sort(m.held)
	for _, ni := range m.held {
		m.publish(ni, at)
	}
	m.held = m.held[:0]
}
