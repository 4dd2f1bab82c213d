package match

import (
	"math"
	"strings"

	"github.com/uber/h3-go/v4"

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

// cellSpacingM is the distance between neighbouring cell centres at
// Resolution, shrunk by 15% to stay a safe lower bound despite H3's
// distortion: ring k lies at least (k-1) spacings from the need.
const cellSpacingM = 0.85 * 1.732 * 174

// MaxPerCell bounds the helpers examined in one cell: in a stadium with
// 50,000 helpers in a cell a query still does bounded work. A cell keeps
// its helpers roughly in order of their latest ping, and a query examines
// the most recent first: the helpers most surely still there.
const MaxPerCell = 64

// MaxPingAge is how old a helper's latest ping may be (contract rule 1).
const MaxPingAge = 10 * 60_000

type helper struct {
	id       string
	lat, lng float32
	pingMS   int64
	cell     uint64
	slot     int32 // position in its cell's member list, -1 when unavailable
	skills   events.SkillSet
	credit   uint16
	record   Record
}

// member is a helper in a cell's list, with its position inline so that
// the distance filter reads one contiguous slice and touches a helper's
// record only when it is near enough to matter.
type member struct {
	slot     int32
	lat, lng float32
	static   float32 // upper bound of every factor but distance
}

type cell struct {
	id       uint64
	members  []member // oldest ping first
	nbrs     []*cell  // filled on the first walk through the cell
	stamp    uint32   // query that last visited it
	lat, lng float64
	centred  bool
}

// cellRadiusM bounds the distance from a cell's centre to any point in it
// at Resolution (the edge length, with margin for distortion).
const cellRadiusM = 1.3 * 174

// Index holds every known user's latest position and record, and indexes
// the available ones by H3 cell. It is owned by one goroutine.
type Index struct {
	p       *Params
	byID    map[string]int32
	helpers []helper
	cells   map[uint64]*cell
	stamp   uint32
	ring    []*cell // scratch, reused by every query
	next    []*cell
	heap    topK
	cosLat  float64 // of the need being queried
	reach   float64 // beyond this distance no helper can enter the top k
}

// NewIndex returns an empty index scoring with p.
func NewIndex(p *Params) *Index {
	return &Index{p: p, byID: map[string]int32{}, cells: map[uint64]*cell{}}
}

// Len is the number of users the index knows.
func (x *Index) Len() int { return len(x.helpers) }

func (x *Index) slotOf(id string) int32 {
	if s, ok := x.byID[id]; ok {
		return s
	}
	s := int32(len(x.helpers))
	x.helpers = append(x.helpers, helper{id: strings.Clone(id), slot: -1})
	x.byID[x.helpers[s].id] = s
	return s
}

func (x *Index) cellAt(c uint64) *cell {
	cl := x.cells[c]
	if cl == nil {
		cl = &cell{id: c}
		x.cells[c] = cl
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
	c := geo.Cell(p.Lat, p.Lng, Resolution)
	if h.slot >= 0 {
		left = h.cell
		x.remove(s)
	}
	h.cell = c
	if p.Available {
		cl := x.cellAt(c)
		h.slot = int32(len(cl.members))
		cl.members = append(cl.members, member{slot: s, lat: h.lat, lng: h.lng, static: x.static(h)})
		entered = c
	}
	return left, entered
}

func (x *Index) remove(s int32) {
	h := &x.helpers[s]
	cl := x.cells[h.cell]
	last := cl.members[len(cl.members)-1]
	cl.members[h.slot] = last
	x.helpers[last.slot].slot = h.slot
	cl.members = cl.members[:len(cl.members)-1]
	h.slot = -1
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
	}
	x.restatic(h)
}

// Outcome teaches the helper's record.
func (x *Index) Outcome(o *events.Outcome) {
	h := &x.helpers[x.slotOf(o.HelperID)]
	h.record.Learn(o.Outcome, o.Rating)
	x.restatic(h)
}

// static bounds a helper's score without its distance term: exact for
// reliability and credit, the most for skill and recency.
func (x *Index) static(h *helper) float32 {
	c := Candidate{DistanceM: math.Inf(1), Record: h.record, Credit: int(h.credit)}
	s, _ := x.p.Score(&c, events.CategoryNone)
	return float32(s + x.p.Weights.Skill + 1e-6) // recency is at its most at age 0
}

// restatic refreshes the bound kept in the helper's cell entry.
func (x *Index) restatic(h *helper) {
	if h.slot >= 0 {
		x.cells[h.cell].members[h.slot].static = x.static(h)
	}
}

// Suggestion is one ranked helper.
type Suggestion struct {
	HelperID  string
	Score     float64
	DistanceM float64
	Reasons   Reasons
}

// Query returns up to k eligible helpers for need n, best first, into dst.
// excluded reports users who must not be suggested (an open high alert).
// It walks H3 rings outwards from the need and stops at the radius, or as
// soon as no helper in the next ring could beat the k-th best.
func (x *Index) Query(n *events.Need, k int, excluded func(id string) bool, dst []Suggestion) []Suggestion {
	x.stamp++
	x.heap.reset(k)
	x.reach = math.Inf(1)
	x.cosLat = math.Cos(n.Lat * math.Pi / 180)
	origin := x.cellAt(geo.Cell(n.Lat, n.Lng, Resolution))
	origin.stamp = x.stamp
	x.ring = append(x.ring[:0], origin)
	for ring := 0; len(x.ring) > 0; ring++ {
		minDist := math.Max(0, float64(ring-1)*cellSpacingM)
		if minDist > n.RadiusM {
			break
		}
		if x.heap.full() && x.p.MaxScoreAt(minDist) < x.heap.min() {
			break
		}
		x.next = x.next[:0]
		for _, cl := range x.ring {
			if len(cl.members) > 0 {
				// A cell none of whose points could beat the k-th best is
				// passed over without looking at its helpers.
				if !cl.centred {
					ll := h3.CellToLatLng(h3.Cell(cl.id))
					cl.lat, cl.lng, cl.centred = ll.Lat, ll.Lng, true
				}
				near := math.Max(0, x.dist(n, cl.lat, cl.lng)-cellRadiusM)
				if near <= n.RadiusM && (!x.heap.full() || x.p.MaxScoreAt(near) >= x.heap.min()) {
					x.scan(cl, n, excluded)
				}
			}
			for _, nb := range x.neighbours(cl) {
				if nb.stamp != x.stamp {
					nb.stamp = x.stamp
					x.next = append(x.next, nb)
				}
			}
		}
		x.ring, x.next = x.next, x.ring
	}
	return x.heap.sorted(dst)
}

// dist is the equirectangular distance from the need, exact to a metre at
// the scale of a search radius and several times cheaper than haversine.
func (x *Index) dist(n *events.Need, lat, lng float64) float64 {
	const mPerDeg = geo.EarthRadiusM * math.Pi / 180
	dy := (lat - n.Lat) * mPerDeg
	dx := (lng - n.Lng) * mPerDeg * x.cosLat
	return math.Sqrt(dx*dx + dy*dy)
}

func (x *Index) neighbours(cl *cell) []*cell {
	if cl.nbrs == nil {
		for _, nb := range h3.GridDisk(h3.Cell(cl.id), 1) {
			if uint64(nb) != cl.id {
				cl.nbrs = append(cl.nbrs, x.cellAt(uint64(nb)))
			}
		}
	}
	return cl.nbrs
}

func (x *Index) scan(cl *cell, n *events.Need, excluded func(string) bool) {
	seen := 0
	for i := len(cl.members) - 1; i >= 0 && seen < MaxPerCell; i-- {
		m := &cl.members[i]
		seen++
		d := x.dist(n, float64(m.lat), float64(m.lng))
		if d > n.RadiusM || d > x.reach {
			continue
		}
		// exp(-z) <= 1/(1+z): a cheap bound on the distance term that, with
		// the static bound, drops most helpers that cannot enter the top k
		// without scoring them.
		if x.heap.full() && float64(m.static)+x.p.Weights.Distance/(1+d/x.p.DistanceScaleM) < x.heap.min() {
			continue
		}
		s := m.slot
		h := &x.helpers[s]
		age := n.TS - h.pingMS
		if age > MaxPingAge || age < -MaxPingAge || h.id == n.UserID {
			continue
		}
		if excluded != nil && excluded(h.id) {
			continue
		}
		c := Candidate{DistanceM: d, AgeMS: max(age, 0), Record: h.record, Skills: h.skills, Credit: int(h.credit)}
		score, reasons := x.p.Score(&c, n.Category)
		if x.heap.push(entry{slot: s, score: score, dist: d, reasons: reasons}, x.helpers) && x.heap.full() {
			x.reach = x.p.Reach(x.heap.min())
		}
	}
}
