package match

import (
	"slices"
	"strings"

	"everywhere/events"
)

// Need opens, updates or closes a need at its event time; an open need is
// ranked at the clock (its event time, or later if that is behind it).
//
// A need's messages may reach a region more than once (a source re-sends
// what it sent after its last commit, a region re-reads what it read
// after its own): an update no newer than the one applied, or an opening
// of a need already closed, changes nothing.
func (m *Matcher) Need(ev *events.Need) { m.NeedMoved(ev, 0) }

// MaxMoves is the most moves NeedMoved tells apart, and movedShift where
// the count goes in a version: 2^24 versions to each region a need is
// in, far more than a need's life makes.
const (
	MaxMoves   = 255
	movedShift = 24
)

// NeedMoved is Need for a need that has moved moves times to another
// matcher (another partition of the regions topic: see route.Needs). A
// need opened here after moves numbers its versions from moves<<24, above
// every version the matchers it left published (they stopped at the
// move, which closed it there), so that a consumer keeping the highest
// version takes this matcher's lists. moves counts alike in every run, so
// the versions do too.
func (m *Matcher) NeedMoved(ev *events.Need, moves int) {
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
	if ev.Status != events.Open || ev.ExpiresAt <= m.now {
		// A cancellation or fulfilment closes the need, and so does an
		// update to an expiry already passed, each remembered as long as
		// the openings it followed could still open it. A need unknown
		// here stays so: one expired before the region's clock reached
		// it never opens.
		if known {
			m.remember(ev.NeedID, ev.TS, m.needs[ni].ev.ExpiresAt)
			m.close(ni)
		}
		return
	}
	if !known {
		ni = m.alloc()
		n := &m.needs[ni]
		n.ev.NeedID = strings.Clone(ev.NeedID)
		n.base = uint32(min(max(moves, 0), MaxMoves)) << movedShift
		m.byID[n.ev.NeedID] = ni
	}
	n := &m.needs[ni]
	moved := !known || n.ev.Lat != ev.Lat || n.ev.Lng != ev.Lng || n.ev.RadiusM != ev.RadiusM
	expiry := !known || n.ev.ExpiresAt != ev.ExpiresAt
	id := n.ev.NeedID
	n.ev, n.checkSeq = *ev, 0
	n.ev.NeedID, n.ev.UserID, n.ev.Currency = id, strings.Clone(ev.UserID), ""
	n.cosLat, n.reqHash = CosLat(n.ev.Lat), events.IDHash(n.ev.UserID)
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
	n.pubLeft = n.pubLeft || m.pubLeftList(n)
	n.at = at
	m.sync(ni)
	m.publish(ni, at)
}

// pubLeftList reports whether a helper of need n's last published list
// is not in its list.
func (m *Matcher) pubLeftList(n *openNeed) bool {
	for _, slot := range n.pub {
		if !slices.ContainsFunc(n.list, func(r ranked) bool { return r.slot == slot }) {
			return true
		}
	}
	return false
}
