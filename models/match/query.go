package match

import (
	"math"
	"math/bits"
	"slices"

	"everywhere/events"
	"everywhere/geo"
)

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

// cellRadiusM bounds the distance from a cell's centre to any point in it
// at Resolution: measured at most 221 m, with a margin.
const cellRadiusM = 250

// kept is the helper in slot, whose cell entry passed filter, a query's
// first pass, at distance d, with b the bound of its score.
type kept struct {
	slot int32
	d, b float64
}

// Query returns up to k helpers eligible for need n at event time at, best
// first, into dst. Where the cells within the radius that hold helpers
// are few, it looks at those alone (gather), nearest first if a budget
// may bind; otherwise it walks the rings outwards from the need (walk),
// which examines the nearest first. Either gives the exact top k where
// no budget binds.
func (x *Index) Query(n *events.Need, at int64, k int, dst []Suggestion) []Suggestion {
	x.stamp++
	x.at = at
	x.examined = 0
	x.heap.reset(k, x)
	x.reach, x.reachOf = math.Inf(1), math.NaN()
	x.cosLat = CosLat(n.Lat)
	x.reqHash = events.IDHash(n.UserID)
	if !x.ringsOnly && x.gather(n) != walkRings {
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
			x.centre(cl)
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

// preload reads a word of each cell of a ring, and of the first and the
// last helpers of each flat cell, before the ring is walked: the cells
// lie at random in memory, and loads that depend on nothing overlap their
// cache misses, where the walk, reading each cell in turn, paid them one
// after another. filter reads a list from its end (the latest pings
// first), so the last helper's line is the one it waits for first: read
// beside the first, a new need's query with cold caches took 50.2 to
// 52.8 µs at 10,000 helpers where it took 47.8 to 64.4
// (BenchmarkQueryCold, seven alternating pairs; medians 51.2 and 55.3).
func (x *Index) preload(ring []*cell) {
	var touch int64
	for _, cl := range ring {
		touch += int64(cl.full) + int64(cl.nbrs[5])
	}
	for _, cl := range ring {
		if n := len(cl.members); n > 0 {
			touch += int64(cl.members[0].slot) + int64(cl.members[n-1].slot)
		}
	}
	x.touch += touch
}

// centre works out cl's centre the first time it is asked for.
func (x *Index) centre(cl *cell) {
	if !cl.centred {
		cl.lat, cl.lng = geo.Centre(cl.id)
		cl.centred = true
	}
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
		far := math.Min(n.RadiusM, x.reach)
		if len(ms) >= bandReachFrom {
			far = x.bandReach(b, far)
		}
		x.filter(ms, n, far)
		x.rankKept(n)
	}
}

// bandReachFrom is the fewest entries a list holds for scan to work out
// its bandReach: the logarithm costs as much as the tests it spares on a
// few entries, and a query at 10,000 helpers scans some 80 short lists.
const bandReachFrom = 32

// bandReach is how far from the need a helper of bucket b may be and
// still rank: within radius and x.reach, and once the heap is full, no
// farther than where the distance term stops making up what the
// bucket's best static bound and the skill term leave short of the k-th
// best. At 1,000,000 helpers a query's filter passed over 311 of the 448
// entries it examined on their bounds, each after a square root and the
// bound's test; this distance, a logarithm per bucket, turns about one
// in six of those away on the squared distance alone. BenchmarkQuery at
// 1,000,000 helpers, alternating pairs: a median p50 of 16.6 µs against
// 17.5 in ten (lower in eight), 19.5 against 19.9 in eight more as the
// machine slowed (lower in five); the same answers. far is the radius or
// x.reach, the nearer.
func (x *Index) bandReach(b int, far float64) float64 {
	if !x.heap.full() {
		return far
	}
	w := &x.p.Weights
	// The margin covers rounding, as scan's does.
	short := x.heap.min() - 1e-9 - x.bands.tops[b] - w.Skill
	switch {
	case short <= 0:
		return far
	case short >= w.Distance:
		return 0
	}
	return math.Min(far, -x.p.DistanceScaleM*math.Log(short/w.Distance))
}

// filter is the first pass over the entries ms within far metres of the
// need, most recent first: it reads nothing but the entries, and keeps
// in x.kept who may rank.
func (x *Index) filter(ms []member, n *events.Need, far float64) {
	x.kept = x.kept[:0]
	// What it compares against is fixed for the entries, in locals the
	// loop keeps in registers.
	const mPerDeg = geo.EarthRadiusM * math.Pi / 180
	ky, kx := mPerDeg, mPerDeg*x.cosLat
	far2 := far * far
	floor := math.Inf(-1)
	if x.heap.full() {
		floor = x.heap.min()
	}
	// mayReach, without bound's two divisions, passes over most of those
	// below the floor first; its margin covers its rounding, so that the
	// bound then decides as before. In 30 alternating rounds of 20,000
	// queries at 1,000,000 helpers, 25 were faster with it, a median of
	// 15.7 µs a query against 16.2.
	perM, cheapFloor := 1/x.p.DistanceScaleM, floor-1e-9
	for i := len(ms) - 1; i >= 0; i-- {
		m := &ms[i]
		dy := (float64(m.lat) - n.Lat) * ky
		dx := (float64(m.lng) - n.Lng) * kx
		d2 := dx*dx + dy*dy
		if d2 > far2 {
			continue
		}
		d := math.Sqrt(d2)
		if !x.mayReach(m, n.Category, d*perM, cheapFloor) {
			continue
		}
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
			// A helper who ties with the k-th best and wins on id leaves
			// the floor where it was, and its reach with it: the
			// logarithm is worked out again only when the floor moves.
			if m := x.heap.min(); m != x.reachOf {
				x.reach, x.reachOf = x.p.Reach(m), m
			}
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
