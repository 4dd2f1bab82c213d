package match

import (
	"math"
	"math/bits"
	"slices"

	"everywhere/arena"
	"everywhere/events"
	"everywhere/geo"
)

// Resolution is the H3 resolution of the helper index. At 9 a cell is
// about 0.1 km2 (edge 0.17 km, centres 0.3 km apart): a 3 km radius is
// about ten rings, and in a city of a million helpers a cell holds a
// hundred or so, so a query touches few cells near the need and few
// helpers per cell. Coarser cells would make every query scan thousands
// of helpers in dense districts; finer ones would multiply the cells a
// 3 km walk visits.
const Resolution = 9

// guessesLog2 sizes the index's table of cells by square (geo.Guesses),
// which the helpers' pings fill and a need's cell is guessed from: 2^16
// squares, 512 KiB, two and a half times the squares of a 30 x 25 km
// city.
const guessesLog2 = 16

// MaxPerCell bounds the helpers examined in one cell: in a stadium with
// 50,000 helpers in a cell a query still does bounded work. A cell of
// more than MaxPerCell helpers sorts them into bands of static bound
// (see cell), and a query examines the best band first, each band's most
// recent pings first: the helpers likeliest to rank and most surely still
// there. An ordinary dense district's cell holds around a hundred
// available helpers, and 128 takes them all. In BenchmarkQuery's cities,
// with MaxExamined at 448, 128 found 99.5%, 93.9% and 75.6% of the exact
// top 10 at 10k, 100k and 1M helpers; 64 found 83.6% at 100k, and took
// half as long again at 1M; 256 found 96.3% and 77.7% at 100k and 1M,
// for 5-15% more time.
const MaxPerCell = 128

// MaxExamined bounds the helpers one query examines in all: in a dense
// city the score's other factors keep helpers half a kilometre away in the
// running, and without a bound a query would look at thousands. Cells are
// taken nearest first, so what is left out is the farthest, the least
// likely to rank. In BenchmarkQuery's cities (its recall metric, at 10k,
// 100k and 1M helpers), 768 find 100%, 94.7% and 80.5% of the exact top
// 10 at a p50 of 13, 15 and 20 microseconds; 448 find 99.5%, 93.9% and
// 75.6% at 12, 14.5 and 15.8; 256 96.4%, 92.2% and 58.1% at 11 each. 448
// keeps the cost nearly flat as the city grows and clear of that edge.
// Where helpers are sparse the bound is never reached and the answer is
// exact.
const MaxExamined = 448

// MaxPingAge is how old a helper's latest ping may be (contract rule 1).
const MaxPingAge = 10 * 60_000

// AlertWindow is how long a high alert keeps its user from being
// suggested (contract rule 4), in event time.
const AlertWindow = 24 * 3600_000

type helper struct {
	lat, lng float32
	pingMS   int64
	cell     uint64
	slot     int32 // position in its cell's list, -1 when unavailable
	bucket   uint8 // the cell's list it is in (see cell.list)
	skills   events.SkillSet
	credit   uint16
	idHash   uint32 // of id: the requester check compares it before the id
	record   Record
	// rel and cred are the model's reliability and credit shares for the
	// record and credit (Params.fixed), kept as those change.
	rel, cred float64
	// The latest outcome learnt, by need and kind: a producer's retry
	// right after it is not learnt twice.
	outcomeKey uint32
	alertMS    int64 // event time of the user's latest high alert, 0 for none
	setAt      int64 // order key of the state last set (see Set)
}

// member is a helper in a cell's list, with its position inline so that
// the distance filter reads one contiguous slice and touches a helper's
// record only when it is near enough to matter.
type member struct {
	slot     int32
	lat, lng float32
	static   staticBound
	skills   events.SkillSet
}

// staticBound is an upper bound of every factor but distance and skill,
// in units of 1/65535 rounded up: two bytes where a float32 took four
// keep a cell entry at 16 bytes, four to a cache line, and the first pass
// of a query is bound by how many lines it reads.
type staticBound uint16

func toStaticBound(s float64) staticBound {
	return staticBound(min(math.Ceil(s*65535), 65535))
}

func (b staticBound) float() float64 { return float64(b) * (1.0 / 65535) }

// cellRadiusM bounds the distance from a cell's centre to any point in it
// at Resolution: measured at most 221 m, with a margin.
const cellRadiusM = 250

// Index holds every known user's latest position and record, and indexes
// the available ones by H3 cell. It is owned by one goroutine.
type Index struct {
	p        *Params
	helpers  []helper  // by slot
	ids      arena.IDs // the helpers' ids, numbered by slot: a helper is never dropped
	cells    map[uint64]*cell
	bands    bands
	loc      *geo.Locator // finds a helper's or a need's cell, mostly without C
	cellv    []*cell      // every cell, by number
	stamps   []uint32     // by cell number: the query that last visited it
	stamp    uint32
	ring     []*cell // scratch, reused by every query
	next     []*cell
	heap     topK
	cosLat   float64  // of the need being queried
	reqHash  uint32   // events.IDHash of its requester
	reach    float64  // beyond this distance no helper can enter the top k
	at       int64    // event time of the query
	examined int      // helpers looked at by the query
	kept     []kept   // scratch of filter: who passed the first pass
	disk     []uint64 // scratch of neighbours
	touch    int64    // what rank's loads read, kept so they are not dropped
	// areas: the cells holding helpers, by the NeedResolution cell they
	// lie in; aloc finds a need's. See gather.
	areas cellTable[area]
	aloc  *geo.Locator
	near  []nearCell // scratch of gather
	// ringsOnly makes every query walk the rings (tests compare).
	ringsOnly bool
}

// kept is the helper in slot, whose cell entry passed filter, a query's
// first pass, at distance d, with b the bound of its score.
type kept struct {
	slot int32
	d, b float64
}

// alerted reports whether a high alert keeps h out at event time at.
func (h *helper) alerted(at int64) bool {
	return h.alertMS > 0 && h.alertMS <= at && at < h.alertMS+AlertWindow
}

// same reports whether h already holds state s.
func (h *helper) same(s *HelperState) bool {
	return h.lat == float32(s.Lat) && h.lng == float32(s.Lng) && (h.slot >= 0) == s.Available &&
		h.skills == s.Skills && h.credit == uint16(s.Credit) && s.AlertMS <= h.alertMS
}

// excluded applies to the helper in slot the contract's exclusion rules
// that do not depend on distance: a stale ping, the requester (reqHash is
// events.IDHash of n.UserID), a high alert in its window.
func (x *Index) excluded(slot int32, n *events.Need, reqHash uint32, at int64) bool {
	h := &x.helpers[slot]
	age := at - h.pingMS
	return age > MaxPingAge || age < -MaxPingAge || h.idHash == reqHash && x.id(slot) == n.UserID || h.alerted(at)
}

// NewIndex returns an empty index scoring with p.
func NewIndex(p *Params) *Index {
	return &Index{p: p, cells: map[uint64]*cell{}, bands: newBands(p), loc: geo.NewGuesses(Resolution, guessesLog2).Locator(),
		areas: newCellTable[area](), aloc: geo.NewGuesses(NeedResolution, needGuessesLog2).Locator()}
}

// Len is the number of users the index knows.
func (x *Index) Len() int { return len(x.helpers) }

// slotOf returns the slot of helper id, made for it if it has none. The
// slots are the ids' numbers in x.ids, so a helper holds no string and
// the collector does not scan the slice of them (BenchmarkCollectHelpers).
func (x *Index) slotOf(id string) int32 {
	s, added := x.ids.Number(id)
	if added {
		h := helper{idHash: events.IDHash(id), slot: -1}
		h.rel, h.cred = x.p.fixed(&h.record, 0)
		x.helpers = append(x.helpers, h)
	}
	return s
}

// id is the id of the helper in slot.
func (x *Index) id(slot int32) string { return x.ids.String(slot) }

func (x *Index) cellAt(c uint64) *cell {
	cl := x.cells[c]
	if cl == nil {
		cl = &cell{id: c, num: int32(len(x.cellv)), area: x.areaOf(c)}
		x.cells[c] = cl
		x.cellv = append(x.cellv, cl)
		x.stamps = append(x.stamps, 0)
	}
	return cl
}

// Ping records a position; an available helper is indexed at it. It
// reports the cell left and the cell entered (0 for none), which is what
// re-matching needs to know.
func (x *Index) Ping(p *events.Ping) (left, entered uint64) {
	s := x.slotOf(p.UserID)
	h := &x.helpers[s]
	if p.TS < h.pingMS {
		return 0, 0 // an older position than the one known
	}
	h.lat, h.lng, h.pingMS = float32(p.Lat), float32(p.Lng), p.TS
	c := x.loc.LocateFrom(h.cell, p.Lat, p.Lng)
	if h.slot >= 0 {
		left = h.cell
		x.remove(s)
	}
	h.cell = c
	if p.Available {
		x.insert(s, x.static(h))
		entered = c
	}
	return left, entered
}

// Profile records skills and credit.
func (x *Index) Profile(p *events.Profile) {
	s := x.slotOf(p.UserID)
	h := &x.helpers[s]
	if p.HasSkills {
		h.skills = p.Skills
	}
	if p.CreditScore > 0 {
		h.credit = uint16(p.CreditScore)
		h.rel, h.cred = x.p.fixed(&h.record, int(h.credit))
	}
	x.restatic(h)
}

// Alert records a high alert raised at ts against the user: they are not
// suggested from ts until AlertWindow later. It returns the user's slot,
// and ok false when an alert as late was known already.
func (x *Index) Alert(id string, ts int64) (slot int32, ok bool) {
	slot = x.slotOf(id)
	h := &x.helpers[slot]
	if ts <= h.alertMS {
		return slot, false
	}
	h.alertMS = ts
	return slot, true
}

// Outcome teaches the helper's record and returns the helper's slot.
//
// The same outcome (need and kind) as the latest one learnt is ignored
// and ok is false: a producer that retries sends it again at once. An
// outcome that is merely late, older than others learnt, is learnt: it is
// news. Outcomes a source sends again after a restart are dropped before
// they get here (see Matcher.Outcome).
func (x *Index) Outcome(o *events.Outcome) (slot int32, ok bool) {
	s := x.slotOf(o.HelperID)
	h := &x.helpers[s]
	key := events.IDHash(o.NeedID)*31 + uint32(o.Outcome)
	if key == h.outcomeKey && h.outcomeKey != 0 {
		return s, false
	}
	h.outcomeKey = key
	h.record.Learn(o.Outcome, o.Rating)
	h.rel, h.cred = x.p.fixed(&h.record, int(h.credit))
	x.restatic(h)
	return s, true
}

// static bounds a helper's score without its distance and skill terms:
// exact for reliability and credit, the most for recency. The skill term
// is added per need from the skills kept beside it.
func (x *Index) static(h *helper) staticBound {
	s, _ := x.p.score(h.rel, h.cred, math.Inf(1), false, 0)
	return toStaticBound(s + 1e-6) // recency is at its most at age 0
}

// bound is an upper bound of member m's score for a need of category cat
// at distance d, read from the cell entry alone: the static bound, the
// skill term (without a branch, which would guess wrong half the time),
// and the distance term bounded by expBound, cheaper than exp. It drops
// most helpers that cannot rank without reading their record.
func (x *Index) bound(m *member, cat events.Category, d float64) float64 {
	w := &x.p.Weights
	return m.static.float() + w.Distance*expBound(d/x.p.DistanceScaleM) + w.Skill*float64(m.skills>>cat&1)
}

// mayReach reports whether member m's bound for a need of category cat
// at distance d = z*DistanceScaleM reaches floor, as bound(m, cat, d) >=
// floor does, but for rounding, without a division: the distance term
// must make up what the rest leaves short of floor. A helper's change
// asks it of hundreds of needs at a time, where bound's divisions were
// the better part of the test's cost.
func (x *Index) mayReach(m *member, cat events.Category, z, floor float64) bool {
	w := &x.p.Weights
	short := floor - m.static.float() - w.Skill*float64(m.skills>>cat&1)
	return short*expGrowth(z) <= w.Distance
}

// expBound is an upper bound of exp(-z) for z >= 0, within 2% of it up to
// z = 1 (1,500 m at the default scale): exp(z) is at least its first four
// terms, 1 + z + z^2/2 + z^3/6. One division and no call.
func expBound(z float64) float64 { return 1 / expGrowth(z) }

// expGrowth is the first four terms of exp(z), at least 1 for z >= 0.
func expGrowth(z float64) float64 { return 1 + z*(1+z*(0.5+z*(1.0/6))) }

// Suggestion is one ranked helper.
type Suggestion struct {
	HelperID  string
	Score     float64
	DistanceM float64
	Reasons   Reasons
	slot      int32
	ping      int64 // event time of the helper's ping it was scored with
}

// HelperState is what the router knows of a user at once: the latest
// position and availability, what the profile says, and the latest high
// alert. The router sends it whole, so applying it is a plain overwrite,
// whatever the index held before, but for the alert: the index keeps the
// latest of the state's and those it was told of itself (Alert). The
// record learnt from outcomes is not part of it: outcomes reach every
// region themselves (see Outcome).
type HelperState struct {
	ID        string
	PingMS    int64 // event time of the position
	Lat, Lng  float64
	Available bool
	Skills    events.SkillSet
	Credit    int
	AlertMS   int64 // latest high alert, 0 for none
}

// Set replaces what the index knows of s.ID with the state its source
// sent at order key at (the source's watermark then), and returns its
// slot. A state sent earlier than the one held, or with an earlier ping,
// or the same again, is ignored and ok is false: states reach a region
// again when a source re-sends what it sent before its last commit, and
// the latest must stand. The ping alone does not order them: a profile
// or an alert changes the state and not the ping.
func (x *Index) Set(s *HelperState, at int64) (slot int32, ok bool) {
	slot = x.slotOf(s.ID)
	h := &x.helpers[slot]
	if at < h.setAt || s.PingMS < h.pingMS || s.PingMS == h.pingMS && h.same(s) {
		return slot, false
	}
	h.setAt = at
	if h.slot >= 0 {
		x.remove(slot)
	}
	h.lat, h.lng, h.pingMS = float32(s.Lat), float32(s.Lng), s.PingMS
	if c := uint16(s.Credit); c != h.credit {
		h.credit = c
		h.rel, h.cred = x.p.fixed(&h.record, int(c))
	}
	h.skills, h.alertMS = s.Skills, max(h.alertMS, s.AlertMS)
	if s.Available {
		h.cell = x.loc.LocateFrom(h.cell, s.Lat, s.Lng)
		x.insert(slot, x.static(h))
	}
	return slot, true
}

// Suggest scores the helper in slot for need n at event time at, as Query
// would; ok is false when the helper is not a candidate.
func (x *Index) Suggest(slot int32, n *events.Need, at int64) (s Suggestion, ok bool) {
	return x.SuggestAbove(slot, n, CosLat(n.Lat), at, math.Inf(-1))
}

// Candidate reports whether the helper in slot may be suggested for need
// n at event time at, as Suggest would, without scoring them; cosLat is
// CosLat(n.Lat).
func (x *Index) Candidate(slot int32, n *events.Need, cosLat float64, at int64) bool {
	h := &x.helpers[slot]
	if h.slot < 0 {
		return false
	}
	x.cosLat = cosLat
	if x.dist(n, float64(h.lat), float64(h.lng)) > n.RadiusM {
		return false
	}
	return !x.excluded(slot, n, events.IDHash(n.UserID), at)
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

// CosLat is the cosine of a latitude in degrees, which distances from a
// need scale longitudes by; a caller who asks about one need many times
// computes it once.
func CosLat(lat float64) float64 { return math.Cos(lat * math.Pi / 180) }

// SuggestAbove is Suggest for a helper who matters only if they score
// above floor: ok is also false when the cheap bound Query uses shows
// they cannot. A ping reaches a hundred or more open needs, and for most
// the helper is far below their lists.
// cosLat is CosLat(n.Lat).
func (x *Index) SuggestAbove(slot int32, n *events.Need, cosLat float64, at int64, floor float64) (s Suggestion, ok bool) {
	h := &x.helpers[slot]
	if h.slot < 0 {
		return s, false // unavailable
	}
	x.cosLat = cosLat
	d := x.dist(n, float64(h.lat), float64(h.lng))
	if d > n.RadiusM {
		return s, false
	}
	if !math.IsInf(floor, -1) {
		if x.bound(x.member(h), n.Category, d) < floor {
			return s, false
		}
	}
	x.reqHash = events.IDHash(n.UserID)
	score, reasons, ok := x.score(slot, n, d, at)
	return Suggestion{HelperID: x.id(slot), Score: score, DistanceM: d, Reasons: reasons, slot: slot, ping: h.pingMS}, ok
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

// suggestion is the helper in slot as a suggestion for need n at event
// time at, scored as Query and SuggestAbove score it, without asking
// whether the helper may be suggested: it shows a list's helper, whom
// the list's upkeep has already asked about.
func (x *Index) suggestion(slot int32, n *events.Need, cosLat float64, at int64) Suggestion {
	h := &x.helpers[slot]
	x.cosLat = cosLat
	d := x.dist(n, float64(h.lat), float64(h.lng))
	score, r := x.rate(slot, n, d, at)
	return Suggestion{HelperID: x.id(slot), Score: score, DistanceM: d, Reasons: r, slot: slot, ping: h.pingMS}
}

// entry returns the cell entry of the available helper in slot (a copy),
// and false for an unavailable one: with it a caller filters needs as
// SuggestAbove would, without the call.
func (x *Index) entry(slot int32) (member, bool) {
	h := &x.helpers[slot]
	if h.slot < 0 {
		return member{}, false
	}
	return *x.member(h), true
}

// cellOf returns the Resolution cell of the helper in slot.
func (x *Index) cellOf(slot int32) uint64 { return x.helpers[slot].cell }

// position returns where the helper in slot was last seen, whether it is
// available there, its latest ping time and latest high alert.
func (x *Index) position(slot int32) (lat, lng float64, available bool, pingMS, alertMS int64) {
	h := &x.helpers[slot]
	return float64(h.lat), float64(h.lng), h.slot >= 0, h.pingMS, h.alertMS
}

// Query returns up to k helpers eligible for need n at event time at, best
// first, into dst. Where the helpers within the radius are few enough
// that no budget binds, it looks at the cells holding them (gather);
// otherwise it walks the rings outwards from the need (walk), which
// examines the nearest first. Either gives the exact top k where no
// budget binds.
func (x *Index) Query(n *events.Need, at int64, k int, dst []Suggestion) []Suggestion {
	x.stamp++
	x.at = at
	x.examined = 0
	x.heap.reset(k, x)
	x.reach = math.Inf(1)
	x.cosLat = CosLat(n.Lat)
	x.reqHash = events.IDHash(n.UserID)
	if !x.ringsOnly && x.gather(n) {
		x.scanNear(n)
	} else {
		x.walk(n)
	}
	return x.heap.sorted(dst)
}

// walk looks for the query's helpers ring by ring outwards from the need,
// until no point past the ring it has just walked can hold a helper
// within the radius and able to beat the k-th best, or MaxExamined
// helpers were looked at.
//
// Why a ring bounds everything past it: the straight line from the need
// to a point past ring r crosses ring r (the rings of a grid enclose one
// another, and a line goes from cell to neighbouring cell), so some cell
// of ring r is no farther than that point, less the cell's radius.
func (x *Index) walk(n *events.Need) {
	origin := x.number(x.loc.Locate(n.Lat, n.Lng))
	x.stamps[origin] = x.stamp
	x.ring = append(x.ring[:0], x.cellv[origin])
	for len(x.ring) > 0 && x.examined < MaxExamined {
		x.preload(x.ring)
		nearest := math.Inf(1) // the least distance of a point of the ring
		for _, cl := range x.ring {
			if !cl.centred {
				cl.lat, cl.lng = geo.Centre(cl.id)
				cl.centred = true
			}
			near := x.dist(n, cl.lat, cl.lng) - cellRadiusM
			nearest = min(nearest, near)
			// A cell none of whose points could beat the k-th best is
			// passed over without looking at its helpers. x.reach is where
			// MaxScoreAt falls below the k-th best (scan skips helpers
			// beyond it too): no call to exp.
			if cl.full != 0 && near <= n.RadiusM && near <= x.reach {
				x.scan(cl, n, near)
			}
		}
		if nearest > math.Min(n.RadiusM, x.reach) {
			break
		}
		x.next = x.next[:0]
		for _, cl := range x.ring {
			for _, nb := range x.neighbours(cl) {
				if nb < 0 {
					break
				}
				if x.stamps[nb] != x.stamp {
					x.stamps[nb] = x.stamp
					x.next = append(x.next, x.cellv[nb])
				}
			}
		}
		x.ring, x.next = x.next, x.ring
	}
}

// preload reads a word of each cell of a ring, and of the first helpers
// of each flat cell, before the ring is walked: the cells lie at random
// in memory, and loads that depend on nothing overlap their cache misses,
// where the walk, reading each cell in turn, paid them one after another.
func (x *Index) preload(ring []*cell) {
	var touch int64
	for _, cl := range ring {
		touch += int64(cl.full) + int64(cl.nbrs[5])
	}
	for _, cl := range ring {
		if len(cl.members) > 0 {
			touch += int64(cl.members[0].slot)
		}
	}
	x.touch += touch
}

// dist is the equirectangular distance from the need, exact to a metre at
// the scale of a search radius and several times cheaper than haversine.
func (x *Index) dist(n *events.Need, lat, lng float64) float64 {
	return flatDistM(n.Lat, n.Lng, x.cosLat, lat, lng)
}

// flatDistM is the distance in metres from (nlat, nlng), whose latitude's
// cosine is cosLat, to (lat, lng), in a flat projection around the first
// point: exact to well under 1% within a need's radius.
func flatDistM(nlat, nlng, cosLat, lat, lng float64) float64 {
	return math.Sqrt(flatDist2M(nlat, nlng, cosLat, lat, lng))
}

// flatDist2M is the square of flatDistM, for a comparison that needs no
// root. It multiplies as filter does, one factor per axis: a helper
// found by a query and the same helper scored by Suggest must have the
// same distance to the last bit, or two helpers tied in score rank by
// how each was found rather than by id.
func flatDist2M(nlat, nlng, cosLat, lat, lng float64) float64 {
	const mPerDeg = geo.EarthRadiusM * math.Pi / 180
	dy := (lat - nlat) * mPerDeg
	dx := (lng - nlng) * (mPerDeg * cosLat)
	return dx*dx + dy*dy
}

// neighbours returns the numbers of the cells around cl, -1 past the last.
func (x *Index) neighbours(cl *cell) *[6]int32 {
	if !cl.walked {
		cl.walked = true
		i := 0
		x.disk = geo.AppendDisk(x.disk[:0], cl.id, 1)
		for _, nb := range x.disk {
			if nb != cl.id && i < len(cl.nbrs) {
				cl.nbrs[i] = x.number(nb)
				i++
			}
		}
		for ; i < len(cl.nbrs); i++ {
			cl.nbrs[i] = -1
		}
	}
	return &cl.nbrs
}

// number returns the number of cell c, making the cell if it is new.
func (x *Index) number(c uint64) int32 { return x.cellAt(c).num }

// scan examines up to MaxPerCell of the cell's helpers, whose nearest
// point lies near metres from the need: the best bucket first, each most
// recent first, until a bucket cannot beat the k-th best. Each bucket is
// ranked before the next is looked at, so that the k-th best it leaves
// cuts the buckets below.
func (x *Index) scan(cl *cell, n *events.Need, near float64) {
	// What any helper of the cell may add to its static bound: the
	// distance term at the cell's nearest point, and the skill term.
	w := &x.p.Weights
	rest := w.Distance*expBound(max(near, 0)/x.p.DistanceScaleM) + w.Skill
	budget := min(MaxPerCell, MaxExamined-x.examined)
	for full := cl.full; full != 0 && budget > 0; full &= full - 1 {
		b := bits.TrailingZeros32(full)
		ms := *cl.list(uint8(b))
		// The margin covers rounding: the sum is taken in another order
		// than the entries' own bounds.
		if x.heap.full() && x.bands.tops[b]+rest < x.heap.min()-1e-9 {
			break
		}
		ms = ms[len(ms)-min(budget, len(ms)):]
		budget -= len(ms)
		x.examined += len(ms)
		x.filter(ms, n)
		x.rankKept(n)
	}
}

// filter is the first pass over the entries ms, most recent first: it
// reads nothing but the entries, and keeps in x.kept who may rank.
func (x *Index) filter(ms []member, n *events.Need) {
	x.kept = x.kept[:0]
	// What it compares against is fixed for the entries, in locals the
	// loop keeps in registers.
	const mPerDeg = geo.EarthRadiusM * math.Pi / 180
	ky, kx := mPerDeg, mPerDeg*x.cosLat
	far := math.Min(n.RadiusM, x.reach)
	far2 := far * far
	floor := math.Inf(-1)
	if x.heap.full() {
		floor = x.heap.min()
	}
	for i := len(ms) - 1; i >= 0; i-- {
		m := &ms[i]
		dy := (float64(m.lat) - n.Lat) * ky
		dx := (float64(m.lng) - n.Lng) * kx
		d2 := dx*dx + dy*dy
		if d2 > far2 {
			continue
		}
		d := math.Sqrt(d2)
		b := x.bound(m, n.Category, d)
		if b < floor {
			continue
		}
		x.kept = append(x.kept, kept{slot: m.slot, d: d, b: b})
	}
}

// rankKept is the second pass: it reads the records of those filter kept
// and scores them.
func (x *Index) rankKept(n *events.Need) {
	if left := x.heap.k - len(x.heap.h); left > 0 && len(x.kept) > left {
		// The heap is not full, so nothing was passed over. Scored first,
		// the entries with the best bounds fill it with strong helpers,
		// and most of the rest then fall below its floor unscored and
		// unread.
		selectBest(x.kept, left)
		x.rank(x.kept[:left], n)
		rest := x.kept[left:]
		if x.heap.full() {
			rest = slices.DeleteFunc(rest, func(k kept) bool { return k.b < x.heap.min() })
		}
		x.rank(rest, n)
		return
	}
	x.rank(x.kept, n)
}

// rank scores the entries ks kept by filter and offers them to
// the heap, passing over those the k-th best has risen above since. One
// load per entry first brings their records in together: the records lie
// at random in memory, and loads that depend on nothing overlap their
// cache misses instead of paying for them one after another.
func (x *Index) rank(ks []kept, n *events.Need) {
	var touch int64
	for _, k := range ks {
		touch += x.helpers[k.slot].pingMS
	}
	x.touch = touch
	for _, k := range ks {
		if k.d > x.reach || x.heap.full() && k.b < x.heap.min() {
			continue
		}
		score, reasons, ok := x.score(k.slot, n, k.d, x.at)
		if !ok {
			continue
		}
		if x.heap.push(entry{slot: k.slot, score: score, dist: k.d, reasons: reasons}) && x.heap.full() {
			x.reach = x.p.Reach(x.heap.min())
		}
	}
}

// selectBest moves the j entries with the highest bounds to the front of
// ks, in no particular order: a quickselect, linear on average where a
// sort would be n log n.
func selectBest(ks []kept, j int) {
	lo, hi := 0, len(ks)-1
	for lo < hi {
		// The median of three as pivot, into ks[hi].
		mid := lo + (hi-lo)/2
		if ks[mid].b > ks[lo].b {
			ks[mid], ks[lo] = ks[lo], ks[mid]
		}
		if ks[hi].b > ks[lo].b {
			ks[hi], ks[lo] = ks[lo], ks[hi]
		}
		if ks[mid].b > ks[hi].b {
			ks[mid], ks[hi] = ks[hi], ks[mid]
		}
		pivot, p := ks[hi].b, lo
		for i := lo; i < hi; i++ {
			if ks[i].b > pivot {
				ks[i], ks[p] = ks[p], ks[i]
				p++
			}
		}
		ks[p], ks[hi] = ks[hi], ks[p]
		switch {
		case p == j || p == j-1:
			return
		case p < j:
			lo = p + 1
		default:
			hi = p - 1
		}
	}
}
