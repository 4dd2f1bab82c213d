package match

import (
	"math"

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

// guessesLog2 sizes the table of cells by square (geo.Guesses, see
// NewGuesses), which the helpers' pings fill and a need's cell is guessed
// from: 2^18 squares, 2 MiB (and as much for the cells' outlines). In the
// benchmarks' city at 1,000,000 users the available helpers live in
// 27,364 squares, and the slots they hash to were shared so often at
// 2^16 that a helper's first ping, which has no cell of its own to start
// from, more often called into C: locating took 0.47 s of a catch-up's
// 9.8 s of CPU in one profile, and 0.30 s at 2^18. Pages of the table no
// ping touches are never made resident; BenchmarkBytesPerHelper counts
// it whole, 15 bytes a helper more than at 2^16.
const guessesLog2 = 18

// helper is a user's record. What a query's scoring reads of it (the
// ping's time, the shares, the requester check, skills, whether an alert
// is known) comes first, in 32 bytes: helpers are 96 bytes, so a record
// starts at a cache line or half-way into one, and those 32 bytes always
// lie in one line, the one rank loads ahead. Spread over the record as
// they were, they took two lines, the second one missed in turn at each
// score.
type helper struct {
	pingMS int64
	// rel and cred are the model's reliability and credit shares for the
	// record and credit (Params.fixed), kept as those change.
	rel, cred float64
	idHash    uint32 // of id: the requester check compares it before the id
	skills    events.SkillSet
	alerting  bool  // alertMS > 0: only then is alertMS read
	bucket    uint8 // the cell's list it is in (see cell.list)

	lat, lng float32
	cell     uint64
	slot     int32 // position in its cell's list, -1 when unavailable
	credit   uint16
	record   Record
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
	reachOf  float64  // the k-th best score reach was worked out for
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

// same reports whether h already holds state s.
func (h *helper) same(s *HelperState) bool {
	return h.lat == float32(s.Lat) && h.lng == float32(s.Lng) && (h.slot >= 0) == s.Available &&
		h.skills == s.Skills && h.credit == uint16(s.Credit) && s.AlertMS <= h.alertMS
}

// NewGuesses returns a table of helpers' cells by square for the indexes
// of one process to share (NewMatcherSharing). Its slots are pointers,
// most of them empty, that the collector scans at every cycle, and each
// index had a table of its own: with the eight partitions of the regions
// topic, 32 MiB of scanned heap, where the engine's whole scanned heap at
// 100,000 events/s was 66 to 107 MiB. With one table for all, in two
// alternating pairs of runs at that rate, a collection's marking took 26
// and 42 ms of CPU against 49 and 59; in five alternating pairs of
// catch-ups at 1,000,000 users four were 3 to 7% faster and one 2%
// slower (at 10,000 and 100,000 users, no change beyond the spread), the
// indexes reading one table's worth of cache rather than eight. The
// regions of a process lie apart, so their squares hardly collide.
func NewGuesses() *geo.Guesses { return geo.NewGuesses(Resolution, guessesLog2) }

// NewIndex returns an empty index scoring with p, with a table of guesses
// of its own.
func NewIndex(p *Params) *Index { return newIndex(p, nil) }

// newIndex returns an empty index scoring with p that guesses helpers'
// cells from g, or from a table of its own when g is nil.
func newIndex(p *Params, g *geo.Guesses) *Index {
	if g == nil {
		g = NewGuesses()
	}
	return &Index{p: p, cells: map[uint64]*cell{}, bands: newBands(p), loc: g.Locator(),
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
	h.alertMS, h.alerting = ts, true
	return slot, true
}

// Outcome teaches the helper's record and returns the helper's slot; ok
// says whether the helper's scores changed.
//
// The same outcome (need and kind) as the latest one learnt is ignored
// and ok is false: a producer that retries sends it again at once. An
// outcome that is merely late, older than others learnt, is learnt: it is
// news. Outcomes a source sends again after a restart are dropped before
// they get here (see Matcher.Outcome).
//
// An outcome that changes no score is learnt and ok is false: there is
// nothing for the lists to settle, where settling would rescore the
// helper in every list it is in. Those that teach nothing at all (an
// acceptance or a decline without a rating: see Teaches) do not reach
// the regions; others may still leave the scores as they were.
func (x *Index) Outcome(o *events.Outcome) (slot int32, ok bool) {
	s := x.slotOf(o.HelperID)
	h := &x.helpers[s]
	key := events.IDHash(o.NeedID)*31 + uint32(o.Outcome)
	if key == h.outcomeKey && h.outcomeKey != 0 {
		return s, false
	}
	h.outcomeKey = key
	h.record.Learn(o.Outcome, o.Rating)
	rel, cred := x.p.fixed(&h.record, int(h.credit))
	if rel == h.rel && cred == h.cred {
		return s, false
	}
	h.rel, h.cred = rel, cred
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
	h.alerting = h.alertMS > 0
	if s.Available {
		h.cell = x.loc.LocateFrom(h.cell, s.Lat, s.Lng)
		x.insert(slot, x.static(h))
	}
	return slot, true
}

// entry returns the cell entry of the available helper in slot (a copy),
// and false for an unavailable one: with it a caller filters needs as
// entryAbove would, without the call.
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
