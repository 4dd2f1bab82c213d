package match

import (
	"math"
	"slices"
	"strings"

	"everywhere/events"
	"everywhere/geo"
)

// List is one published suggestion list: version Version of the ranking
// of need NeedID, computed at event time EventTS.
type List struct {
	NeedID      string
	RequesterID string
	Version     uint32
	EventTS     int64
	Suggestions []Suggestion // valid only during the Publish call
}

// Matcher keeps the open needs of a region, ranks helpers for each, and
// re-ranks a need when a helper becomes or stops being a candidate for it.
// A list is published (Publish) when a need opens and then only when its
// helpers or their order change, with a version one higher.
//
// It is driven in event time: the caller hands it helper states and needs
// in event-time order and advances its clock, and everything it decides
// (staleness, expiry, the end of an alert's window) follows that clock and
// never the wall clock, so the same input gives the same lists.
//
// Work per helper change is bounded by the needs near the helper: open
// needs are indexed by every NeedResolution cell their radius reaches, and
// a change looks only at the needs of the helper's cell and those listing
// the helper. Most changes are settled from the list alone: a helper who
// enters a list or rises in it changes nothing else, since the others'
// scores do not move relative to each other as time passes (recency falls
// alike for all). Only a listed helper who falls or leaves makes the need
// ranked afresh, since someone unlisted may now take their place.
type Matcher struct {
	p      *Params
	idx    *Index
	k      int // helpers published per need
	kk     int // helpers kept per need: k and a reserve
	now    int64
	needs  []openNeed
	heads  []needHead // by need slot, as needs
	free   []int32
	byID   map[string]int32
	places needPlaces // the open needs by the NeedResolution cells they reach
	// closed: needs closed lately (see remember).
	closed     map[string]closedNeed
	closedKept int
	// listed holds, by slot, the lists each helper is in (none for most):
	// a slice, where a map took a hash and a pointer's cache miss at each
	// change of a helper and each list it entered or left, and an emptied
	// listing keeps its room for the next lists.
	listed []listing
	alerts map[int32]int64 // helpers with a pending end-of-alert timer
	// learnt: per source of outcomes, the offset of the last one learnt.
	learnt []int64
	timers timers
	stamp  uint32
	aff    []int32
	// changes counts helper changes; changedAt holds, by helper slot, the
	// count at the helper's latest change (see dropsCandidate).
	changes   uint64
	changedAt []uint64
	// holding: lists to publish go to held until the change is settled.
	holding bool
	held    []int32
	found   []Suggestion
	ranks   []ranked
	out     []Suggestion // a published list's suggestions
	// shown is the list handed to Publish, kept here: a List made for
	// each call escaped to the heap, an allocation per list published.
	shown List

	// Publish receives each new list; it must not keep the list.
	Publish func(*List)
	// Republish is the least event time, in milliseconds, between two
	// versions of a need's list when the newer one only reorders or adds
	// helpers: such changes within it are gathered into one version at its
	// end. A list that drops a helper who is no longer a candidate (gone,
	// stale, alerted, out of reach) is published at once. 0 publishes
	// every change.
	Republish int64
	// Stats: lists published; re-rankings of an open need that changed its
	// list, and those that changed nothing.
	Published, Changed, Unchanged uint64
}

type openNeed struct {
	ev      events.Need // strings owned
	cosLat  float64     // CosLat(ev.Lat), for distances to it
	version uint32
	list    []ranked // the best helpers, best first: the top k and a reserve
	// complete: the list holds every candidate (the last query found
	// fewer than it asked for), so any new candidate belongs in it.
	// Otherwise every unlisted candidate ranks below the list's last.
	complete bool
	at       int64   // event time the list's scores are for
	pub      []int32 // the helpers of the last published list, in order
	pubAt    int64   // when it was published
	// Every helper of pub was a candidate at event time checkAt and change
	// count checkSeq (0: not known), and none can stop being one by time
	// alone before checkUntil (see dropsCandidate).
	checkSeq   uint64
	checkAt    int64
	checkUntil int64
	flushAt    int64    // when a gathered change is due, 0 for none
	cells      []placed // the cell lists it is in, and where
	open       bool
}

// needHead is what a helper's change reads of each need near it, kept
// apart from openNeed: a ping in a busy district reaches hundreds of
// needs and must beat the last of each list to matter, which it seldom
// does. One short record per need, in an array that stays in cache, lets
// it pass over most of them at the cost of a distance and a bound, where
// reading the needs themselves cost a cache miss or more each.
type needHead struct {
	lat, lng, cosLat, radiusM float64
	// last is the score of the last in the list at event time at, when a
	// helper must beat it to enter; -Inf when any candidate enters (the
	// list is empty or holds every candidate).
	last  float64
	at    int64
	stamp uint32
	lists uint32 // == Matcher.stamp: the need lists the helper being settled
	cat   events.Category
}

type listing struct {
	needs   []int32
	staleAt int64 // the staleness timer set for the helper's current ping
}

// NeedResolution is the H3 resolution at which open needs are indexed by
// the area they reach. At 7 (edge about 1.2 km) a 3 km need covers a few
// dozen cells, and a ping looks at one cell's needs: coarser would hand a
// ping many needs out of reach, finer would multiply a need's cells.
const NeedResolution = 7

// Measured at NeedResolution with h3 over latitudes -60 to 60, as
// cellRadiusM is at Resolution: at least 1,212 m between rings, at most 1,548 m from a
// cell's centre to its edge.
const (
	needSpacingM = 1050
	needCellM    = 1750
)

// Reserve is how many helpers beyond k a need's list keeps: when a listed
// helper falls or leaves, the next one is already known, and the need is
// ranked afresh only once the reserve runs out.
const Reserve = 5

// NewMatcher returns a matcher publishing the k best helpers of each need.
func NewMatcher(p *Params, k int) *Matcher {
	idx := NewIndex(p)
	return &Matcher{p: p, idx: idx, k: k, kk: k + Reserve, byID: map[string]int32{}, places: newNeedPlaces(idx.aloc),
		closed: map[string]closedNeed{},
		alerts: map[int32]int64{}, timers: newTimers()}
}

// Helpers is the number of users the matcher knows; OpenNeeds the number
// of open needs.
func (m *Matcher) Helpers() int   { return m.idx.Len() }
func (m *Matcher) OpenNeeds() int { return len(m.byID) }

// Advance moves the clock to now, firing what falls due on the way: helpers
// going stale, alerts ending, needs expiring, each at its own time.
//
// The clock never goes back, and every change is ranked at its time. A
// record can come behind it: one from a source the region stopped
// waiting for when it said it was idle, or a late event. Ranked at its
// own time, earlier than a listed helper's ping, that helper would get a
// recency it never had, out of step with the others; and lists are
// brought to later times assuming every helper loses recency at the same
// pace, so the list would keep the wrong order.
func (m *Matcher) Advance(now int64) {
	for m.timers.Len() > 0 && m.timers.Peek().at <= now {
		t := m.timers.Pop()
		m.now = max(m.now, t.at)
		m.fire(&t)
	}
	m.now = max(m.now, now)
}

// Helper applies a user's new state, ordered at event time ts, and re-ranks
// the needs it affects at the clock (ts, or later if ts is behind it).
func (m *Matcher) Helper(s *HelperState, ts int64) {
	m.Advance(ts)
	slot, ok := m.idx.Set(s, ts)
	if !ok {
		return
	}
	m.changed(slot, m.now)
	if s.AlertMS > 0 {
		// The index keeps the latest alert, the state's or one the region
		// was told of itself (Alert, which set its own timer).
		_, _, _, _, alert := m.idx.position(slot)
		m.armAlert(slot, alert)
	}
}

// armAlert sets the timer that brings the helper in slot back when its
// latest alert, at ms, ends.
func (m *Matcher) armAlert(slot int32, ms int64) {
	if m.alerts[slot] != ms && m.now < ms+AlertWindow {
		m.alerts[slot] = ms
		m.timers.Push(timer{at: ms + AlertWindow, kind: alertEnds, slot: slot, ref: ms})
	}
}

// Alert keeps user id out of every list from event time ms for
// AlertWindow: a high alert the region learnt of itself, not through the
// user's state (a money ring's, see fraud.Rings). The needs listing the
// user, or near them, are re-ranked at the clock.
func (m *Matcher) Alert(id string, ms int64) {
	slot, ok := m.idx.Alert(id, ms)
	if !ok {
		return
	}
	m.changed(slot, m.now)
	m.armAlert(slot, ms)
}

// Outcome teaches a helper's record at event time ts and re-ranks the
// needs it affects: a better record may lift the helper into a list, a
// worse one drop it.
//
// src and offset say where the outcome was read: a partition of the
// outcomes topic, and its offset there (negative when unknown). A source
// sends its outcomes in offset order, and after a restart sends again
// those it read after its last commit: an offset not above the last one
// learnt from the source is one of those, and is ignored. Outcomes that
// are merely late are learnt, whatever their time.
func (m *Matcher) Outcome(o *events.Outcome, src int, offset, ts int64) {
	m.Advance(ts)
	if offset >= 0 {
		for src >= len(m.learnt) {
			m.learnt = append(m.learnt, -1)
		}
		if offset <= m.learnt[src] {
			return
		}
		m.learnt[src] = offset
	}
	if slot, ok := m.idx.Outcome(o); ok {
		m.changed(slot, m.now)
	}
}

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
	for _, ni := range m.aff {
		m.update(ni, slot, ts)
		m.sync(ni)
	}
	m.release(ts)
}

// enterable adds to m.aff, which holds the needs listing the available
// helper with cell entry e, those of near (the needs reaching the
// helper's cell) that it may enter at event time at: within reach, and
// with a bound not below the list's last. It is update's own first test
// (through SuggestAbove), on the cell's list and the needs' heads alone.
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

// sync copies to need ni's head what its list now says.
func (m *Matcher) sync(ni int32) {
	n, hd := &m.needs[ni], &m.heads[ni]
	hd.lat, hd.lng, hd.cosLat, hd.radiusM, hd.cat = n.ev.Lat, n.ev.Lng, n.cosLat, n.ev.RadiusM, n.ev.Category
	hd.last, hd.at = math.Inf(-1), n.at
	if !n.complete && len(n.list) > 0 {
		hd.last = n.list[len(n.list)-1].score
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
		// To enter, the helper must beat the last, as of at: the list is
		// shifted to at only if they may (a margin covers rounding).
		floor = n.list[len(n.list)-1].score - m.decay(n.at, at) - 1e-9
	}
	sg, ok := m.idx.SuggestAbove(slot, &n.ev, n.cosLat, at, floor)
	if pos < 0 && !ok {
		return
	}
	s := rankedOf(&sg)
	m.shift(n, at)
	if pos >= 0 {
		// Take the helper out and put it back where it now ranks, unless
		// it is gone, or it fell below every other listed helper while
		// unlisted ones may rank above it: then it stays out, and the
		// reserve keeps the top k exact until it runs out.
		n.list = append(n.list[:pos], n.list[pos+1:]...)
		back := ok && (n.complete || len(n.list) > 0 && m.better(&s, &n.list[len(n.list)-1]))
		if back {
			m.insert(n, s)
		} else {
			m.unlist(slot, ni)
			if ok {
				n.complete = false
			}
		}
		if len(n.list) < m.k && !n.complete {
			m.rematch(ni, at)
			return
		}
		m.publish(ni, at)
		return
	}
	if !ok || !n.complete && (len(n.list) == 0 || !m.better(&s, &n.list[len(n.list)-1])) {
		return // cannot enter: every unlisted candidate ranks below the list
	}
	if len(n.list) >= m.kk {
		out := n.list[len(n.list)-1].slot
		n.list = n.list[:len(n.list)-1]
		m.unlist(out, ni)
		n.complete = false
	}
	m.insert(n, s)
	m.list(slot, ni)
	m.publish(ni, at)
}

// insert puts s in its place in n's list.
func (m *Matcher) insert(n *openNeed, s ranked) {
	n.list = append(n.list, s)
	for pos := len(n.list) - 1; pos > 0 && m.better(&n.list[pos], &n.list[pos-1]); pos-- {
		n.list[pos], n.list[pos-1] = n.list[pos-1], n.list[pos]
	}
}

// shift brings the scores of need ni's list to event time at: every
// listed helper has lost the same recency since, so the order holds. Each
// score is worked out again, as Reasons.sum does, rather than lowered by
// the loss: lowered a step at a time, rounding made a list's scores
// depend on the times it was shifted at, and two helpers tied in score
// swapped places in one run and not in another.
func (m *Matcher) shift(n *openNeed, at int64) {
	if at == n.at {
		return
	}
	for i := range n.list {
		e := &n.list[i]
		e.score = e.still + m.p.recency(at-e.ping)
	}
	n.at = at
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

// Need opens, updates or closes a need at its event time; an open need is
// ranked at the clock (its event time, or later if that is behind it).
//
// A need's messages may reach a region more than once (a source re-sends
// what it sent after its last commit, a region re-reads what it read
// after its own): an update no newer than the one applied, or an opening
// of a need already closed, changes nothing.
func (m *Matcher) Need(ev *events.Need) {
	m.Advance(ev.TS)
	ni, known := m.byID[ev.NeedID]
	if known && ev.TS <= m.needs[ni].ev.TS && ev.Status == events.Open {
		return
	}
	if !known {
		if c, closed := m.closed[ev.NeedID]; closed && ev.TS <= c.at {
			return
		}
	}
	if ev.Status != events.Open {
		if known {
			m.remember(ev.NeedID, ev.TS, m.needs[ni].ev.ExpiresAt)
			m.close(ni)
		}
		return
	}
	if ev.ExpiresAt <= m.now {
		if known {
			m.close(ni)
		}
		return // expired before the region's clock reached it: never open here
	}
	if !known {
		ni = m.alloc()
		n := &m.needs[ni]
		n.ev.NeedID = strings.Clone(ev.NeedID)
		m.byID[n.ev.NeedID] = ni
	}
	n := &m.needs[ni]
	moved := !known || n.ev.Lat != ev.Lat || n.ev.Lng != ev.Lng || n.ev.RadiusM != ev.RadiusM
	expiry := !known || n.ev.ExpiresAt != ev.ExpiresAt
	id := n.ev.NeedID
	n.ev, n.checkSeq = *ev, 0
	n.ev.NeedID, n.ev.UserID, n.ev.Currency = id, strings.Clone(ev.UserID), ""
	n.cosLat = CosLat(n.ev.Lat)
	n.open = true
	if moved {
		m.unplace(ni)
		m.place(ni)
	}
	if expiry {
		m.timers.Push(timer{at: ev.ExpiresAt, kind: needExpires, slot: ni, ref: ev.ExpiresAt})
	}
	m.rematch(ni, m.now)
}

func (m *Matcher) alloc() int32 {
	if k := len(m.free); k > 0 {
		ni := m.free[k-1]
		m.free = m.free[:k-1]
		return ni
	}
	m.needs = append(m.needs, openNeed{})
	m.heads = append(m.heads, needHead{})
	return int32(len(m.needs) - 1)
}

// remember records that need id was closed at event time ts, so that an
// opening read again later is recognised, until the need would have
// expired: an opening read after that is dropped as expired anyway.
func (m *Matcher) remember(id string, ts, expiresAt int64) {
	if len(m.closed) >= 4096 && len(m.closed) >= 2*m.closedKept {
		for k, c := range m.closed {
			if c.expiresAt <= m.now {
				delete(m.closed, k)
			}
		}
		m.closedKept = len(m.closed)
	}
	m.closed[strings.Clone(id)] = closedNeed{at: ts, expiresAt: expiresAt}
}

// closedNeed is when a need was closed and when it would have expired.
type closedNeed struct{ at, expiresAt int64 }

// close takes a need out: cancelled, fulfilled or expired. Its last list
// stands; nothing more is published for it.
func (m *Matcher) close(ni int32) {
	n := &m.needs[ni]
	m.unplace(ni)
	m.relist(ni, n.list, nil)
	delete(m.byID, n.ev.NeedID)
	*n = openNeed{cells: n.cells, list: n.list[:0], pub: n.pub[:0]}
	m.heads[ni] = needHead{}
	m.free = append(m.free, ni)
}

// rematch ranks need ni at event time at and publishes the list if it
// changed.
func (m *Matcher) rematch(ni int32, at int64) {
	n := &m.needs[ni]
	m.found = m.idx.Query(&n.ev, at, m.kk, m.found[:0])
	n.complete = len(m.found) < m.kk
	m.ranks = m.ranks[:0]
	for i := range m.found {
		m.ranks = append(m.ranks, rankedOf(&m.found[i]))
	}
	if n.version > 0 && sameHelpers(n.list, m.found) {
		// Same helpers in the same order: nothing to publish, but keep the
		// new scores, which decide what may enter the list later.
		copy(n.list, m.ranks)
		n.at = at
		m.sync(ni)
		m.Unchanged++
		return
	}
	m.relist(ni, n.list, m.ranks)
	n.list = append(n.list[:0], m.ranks...)
	n.at = at
	m.sync(ni)
	m.publish(ni, at)
}

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
		if !m.idx.Candidate(slot, &n.ev, n.cosLat, at) {
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
	n.flushAt = 0
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
		m.shown = List{NeedID: n.ev.NeedID, RequesterID: n.ev.UserID, Version: n.version, EventTS: at, Suggestions: m.out}
		m.Publish(&m.shown)
	}
}

// relist moves need ni's listings from the helpers of old to those of new.
func (m *Matcher) relist(ni int32, old, new []ranked) {
	for _, s := range old {
		if !listedIn(new, s.slot) {
			m.unlist(s.slot, ni)
		}
	}
	for _, s := range new {
		if !listedIn(old, s.slot) {
			m.list(s.slot, ni)
		}
	}
}

// list records that need ni lists the helper in slot, and arms the
// helper's staleness timer: a listed helper whose ping grows too old must
// leave the list even if it never pings again.
func (m *Matcher) list(slot, ni int32) {
	for int(slot) >= len(m.listed) {
		m.listed = append(m.listed, listing{})
	}
	l := &m.listed[slot]
	l.needs = append(l.needs, ni)
	m.arm(slot, l)
}

// listing returns the lists the helper in slot is in, nil for none.
func (m *Matcher) listing(slot int32) *listing {
	if int(slot) >= len(m.listed) || len(m.listed[slot].needs) == 0 {
		return nil
	}
	return &m.listed[slot]
}

func (m *Matcher) unlist(slot, ni int32) {
	l := &m.listed[slot]
	for i, x := range l.needs {
		if x == ni {
			l.needs = append(l.needs[:i], l.needs[i+1:]...)
			break
		}
	}
	if len(l.needs) == 0 {
		l.staleAt = 0 // its timer no longer stands
	}
}

// arm sets the staleness timer of a listed helper for its latest ping.
func (m *Matcher) arm(slot int32, l *listing) {
	_, _, _, ping, _ := m.idx.position(slot)
	if staleAt := ping + MaxPingAge + 1; l.staleAt != staleAt {
		l.staleAt = staleAt
		m.timers.Push(timer{at: staleAt, kind: helperStale, slot: slot, ref: staleAt})
	}
}

// fire acts on a timer that fell due, if what it was set for still holds.
func (m *Matcher) fire(t *timer) {
	m.stamp++
	m.aff = m.aff[:0]
	switch t.kind {
	case needExpires:
		if n := &m.needs[t.slot]; n.open && n.ev.ExpiresAt == t.ref {
			m.remember(n.ev.NeedID, n.ev.ExpiresAt, n.ev.ExpiresAt)
			m.close(t.slot)
		}
		return
	case needFlush:
		if n := &m.needs[t.slot]; n.open && n.flushAt == t.ref {
			m.shift(n, t.at)
			m.sync(t.slot)
			m.emit(t.slot, t.at)
		}
		return
	case helperStale:
		l := m.listing(t.slot)
		if l == nil || l.staleAt != t.ref {
			return // no longer listed, or pinged since
		}
		for _, ni := range l.needs {
			m.mark(ni)
		}
	case alertEnds:
		if m.alerts[t.slot] != t.ref {
			return
		}
		delete(m.alerts, t.slot)
		if _, _, _, _, alert := m.idx.position(t.slot); alert != t.ref {
			return
		}
		m.changed(t.slot, t.at)
		return
	}
	m.rematchAffected(t.at)
}
