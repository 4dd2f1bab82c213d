package match

import (
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
// helpers or their order change, with a version one higher (from a
// higher start for a need that moved here from another matcher: NeedMoved).
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
	touch  int64      // what preload's loads read, kept so they are not dropped
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
	// loud publishes every list a change settles, quiet or not: the
	// tests' reference for what quiet passes over.
	loud bool

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
	reqHash uint32      // events.IDHash(ev.UserID), for the requester rule
	version uint32      // lists published here
	base    uint32      // what versions start from: see NeedMoved
	list    []ranked    // the best helpers, best first: the top k and a reserve
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
	// pubLeft: a helper of pub left the list while still a candidate,
	// so the list's own upkeep no longer hears of its changes (see quiet).
	pubLeft bool
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
	// reqHash is events.IDHash of the requester, whom the need's list
	// never holds.
	reqHash uint32
	cat     events.Category
}

// Reserve is how many helpers beyond k a need's list keeps: when a listed
// helper falls or leaves, the next one is already known, and the need is
// ranked afresh only once the reserve runs out.
const Reserve = 5

// NewMatcher returns a matcher publishing the k best helpers of each need.
func NewMatcher(p *Params, k int) *Matcher { return NewMatcherSharing(p, k, nil) }

// NewMatcherSharing is NewMatcher guessing helpers' cells from g, a table
// (NewGuesses) that the matchers of every partition share; nil gives the
// matcher a table of its own.
func NewMatcherSharing(p *Params, k int, g *geo.Guesses) *Matcher {
	idx := newIndex(p, g)
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
			n.at = t.at
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
