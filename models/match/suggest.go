package match

import (
	"math"

	"everywhere/events"
)

// MaxPingAge is how old a helper's latest ping may be (contract rule 1).
const MaxPingAge = 10 * 60_000

// AlertWindow is how long a high alert keeps its user from being
// suggested (contract rule 4), in event time.
const AlertWindow = 24 * 3600_000

// Suggestion is one ranked helper.
type Suggestion struct {
	HelperID  string
	Score     float64
	DistanceM float64
	Reasons   Reasons
	slot      int32
	ping      int64 // event time of the helper's ping it was scored with
}

// Suggest scores the helper in slot for need n at event time at, as Query
// would; ok is false when the helper is not a candidate.
func (x *Index) Suggest(slot int32, n *events.Need, at int64) (s Suggestion, ok bool) {
	h := &x.helpers[slot]
	if h.slot < 0 {
		return s, false // unavailable
	}
	x.cosLat = CosLat(n.Lat)
	d := x.dist(n, float64(h.lat), float64(h.lng))
	if d > n.RadiusM {
		return s, false
	}
	x.reqHash = events.IDHash(n.UserID)
	score, reasons, ok := x.score(slot, n, d, at)
	return Suggestion{HelperID: x.id(slot), Score: score, DistanceM: d, Reasons: reasons, slot: slot, ping: h.pingMS}, ok
}

// entryAbove is Suggest for the upkeep of a list, which keeps only what
// ranking needs (ranked): the helper in slot as an entry of need n's
// list, whose head hd holds its place, category and requester, as of
// event time at; ok is false when the helper is not a candidate, or when
// the cheap bound Query uses shows they cannot score above floor (a ping
// reaches a hundred or more open needs, and for most the helper is far
// below their lists). It reads the need's head, which a helper's change
// reads anyway, rather than the need, and makes no suggestion: no id, no
// reasons, no recency. At 10,000 users a helper's change settles some 20
// lists, each with a call: made through Suggest, BenchmarkMatcher took a
// median of 7,842 ns per input against 7,157 (four alternating pairs).
func (x *Index) entryAbove(slot int32, n *events.Need, hd *needHead, at int64, floor float64) (e ranked, ok bool) {
	h := &x.helpers[slot]
	if h.slot < 0 {
		return e, false // unavailable
	}
	d := flatDistM(hd.lat, hd.lng, hd.cosLat, float64(h.lat), float64(h.lng))
	if d > hd.radiusM || !math.IsInf(floor, -1) && x.bound(x.member(h), hd.cat, d) < floor {
		return e, false
	}
	if x.excluded(slot, n, hd.reqHash, at) {
		return e, false
	}
	return ranked{still: x.p.still(h.rel, h.cred, d, h.skills.Has(hd.cat)), ping: h.pingMS, slot: slot}, true
}

// suggestion is the helper in slot as a suggestion for need n at event
// time at, scored as Query, Suggest and entryAbove score it, without asking
// whether the helper may be suggested: it shows a list's helper, whom
// the list's upkeep has already asked about.
func (x *Index) suggestion(slot int32, n *events.Need, cosLat float64, at int64) Suggestion {
	h := &x.helpers[slot]
	x.cosLat = cosLat
	d := x.dist(n, float64(h.lat), float64(h.lng))
	score, r := x.rate(slot, n, d, at)
	return Suggestion{HelperID: x.id(slot), Score: score, DistanceM: d, Reasons: r, slot: slot, ping: h.pingMS}
}

// Candidate reports whether the helper in slot may be suggested for need
// n at event time at, as Suggest would, without scoring them; cosLat is
// CosLat(n.Lat) and reqHash events.IDHash(n.UserID), which a caller
// asking about many helpers works out once.
func (x *Index) Candidate(slot int32, n *events.Need, cosLat float64, reqHash uint32, at int64) bool {
	h := &x.helpers[slot]
	if h.slot < 0 {
		return false
	}
	x.cosLat = cosLat
	if x.dist(n, float64(h.lat), float64(h.lng)) > n.RadiusM {
		return false
	}
	return !x.excluded(slot, n, reqHash, at)
}

// candidateUntil is the earliest event time after at when the helper in
// slot may stop being a candidate by time alone, with no change of its
// own: its ping grows stale, or an alert it was sent before its time
// begins.
func (x *Index) candidateUntil(slot int32, at int64) int64 {
	h := &x.helpers[slot]
	until := h.pingMS + MaxPingAge + 1
	if h.alertMS > at {
		until = min(until, h.alertMS)
	}
	return until
}

// excluded applies to the helper in slot the contract's exclusion rules
// that do not depend on distance: a stale ping, the requester (reqHash is
// events.IDHash of n.UserID), a high alert in its window.
func (x *Index) excluded(slot int32, n *events.Need, reqHash uint32, at int64) bool {
	h := &x.helpers[slot]
	age := at - h.pingMS
	return age > MaxPingAge || age < -MaxPingAge || h.idHash == reqHash && x.id(slot) == n.UserID || h.alerted(at)
}

// alerted reports whether a high alert keeps h out at event time at.
func (h *helper) alerted(at int64) bool {
	return h.alerting && h.alertMS <= at && at < h.alertMS+AlertWindow
}

// score scores the helper in slot, at distance d, for need n at event
// time at; ok is false when the rules of the contract exclude it (stale,
// the requester, alerted). Query and Suggest both rank through it.
func (x *Index) score(slot int32, n *events.Need, d float64, at int64) (score float64, r Reasons, ok bool) {
	if x.excluded(slot, n, x.reqHash, at) {
		return 0, r, false
	}
	score, r = x.rate(slot, n, d, at)
	return score, r, true
}

// rate is the model's score of the helper in slot at distance d for need
// n at event time at, whether or not the helper may be suggested.
func (x *Index) rate(slot int32, n *events.Need, d float64, at int64) (float64, Reasons) {
	h := &x.helpers[slot]
	return x.p.score(h.rel, h.cred, d, h.skills.Has(n.Category), max(at-h.pingMS, 0))
}
