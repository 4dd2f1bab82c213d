package geo

import (
	"math"
	"sync/atomic"

	"github.com/uber/h3-go/v4"
)

// Locator finds the cell of one resolution that holds a point, with the
// same answer as Cell, mostly without calling into C. A call into the H3
// library costs about a microsecond, the largest single cost of a ping;
// but pings come from a city, and a city is a few thousand cells.
//
// A Locator guesses the cell, from where the point's owner last was
// (LocateFrom) or from the squares of Guesses (Locate), and keeps each
// guessed cell's outline in a flat projection about its centre: it takes
// the guess only when the point lies inside the outline by more than a
// margin. A point that lies beyond one of the guess's edges, by more than
// the margin, is tried in the cell across that edge: a point that moved
// a little, or a square whose points straddle two cells, costs a second
// outline check and not a call. Otherwise, and for cells whose outline is
// not a plain hexagon (pentagons, cells cut by an icosahedron face), it
// calls Cell.
//
// Why the outline decides exactly: H3 assigns a point to the hexagon that
// holds it on a gnomonic projection, where edges are straight, so a cell
// is the spherical polygon of its corners joined by great circles. In the
// flat projection used here a great-circle edge of a cell of resolution 7
// or finer strays from the straight chord by millimetres, which the 0.5 m
// margin covers many times over (TestLocatorMatchesCell).
//
// The outlines are kept in a fixed table (see outlines), shared with the
// Guesses' other locators; an outline carries its cell, so one found in
// the wrong place is only a guess that fails. A Locator is owned by one
// goroutine; its Guesses may be shared.
type Locator struct {
	res    int
	g      *Guesses  // nil: Locate always calls Cell
	shapes *outlines // the cells' outlines: g's, or the locator's own
	calls  int       // calls into C, for the tests
}

// Guesses divides the map into squares a cell's edge wide and holds, in
// a fixed table indexed by a hash of the square, the cell of the last
// point located there that was not in the guessed cell: the guess for the
// next point in the square. A square that straddles two or three cells is
// mostly answered by the guess or the cell across its edge, and squares
// this wide are few enough that most of a city's fit in the table:
// against squares a quarter edge wide, a third of the calls into C for
// pings around homes, and a need's cell found without C nine times in
// ten where it was half the time. Slots are read and written atomically,
// so the locators of several goroutines share one table (each
// partition's handler has a locator, and a table warmed by one serves
// all), without a lock. A slot holding another square's cell is only a
// wrong guess, which the outline checks turn into a call into C.
//
// A slot holds the guessed cell's outline, not only its number, so that
// a guess that holds costs no lookup (see outlines for the rest). An
// outline is never changed once made but for the cells across its
// edges, each written atomically once.
type Guesses struct {
	res    int
	step   float64 // square side, degrees
	shift  uint    // 64 - log2(len(slots))
	slots  []atomic.Pointer[outline]
	shapes *outlines
}

// NewGuesses returns a table of 2^log2 guesses for cells of resolution
// res: at 17, 1 MiB, many times the squares of a large city at resolution
// 8, and five times those at resolution 9.
func NewGuesses(res, log2 int) *Guesses {
	return &Guesses{res: res, step: h3.HexagonEdgeLengthAvgM(res) / metresPerDegree,
		shift: uint(64 - log2), slots: make([]atomic.Pointer[outline], 1<<log2), shapes: newOutlines(log2)}
}

// Locator returns a locator, for one goroutine, that guesses from g.
func (g *Guesses) Locator() *Locator {
	return &Locator{res: g.res, g: g, shapes: g.shapes}
}

func (g *Guesses) slot(lat, lng float64) *atomic.Pointer[outline] {
	sq := uint64(uint32(int32(math.Floor(lat/g.step))))<<32 | uint64(uint32(int32(math.Floor(lng/g.step))))
	sq *= 0x9e3779b97f4a7c15 // Fibonacci hashing: the top bits mix both halves
	return &g.slots[sq>>g.shift]
}

// outline is a hexagonal cell as six half-planes in metres about its
// centre: a point (x, y) is inside when nx*x + ny*y >= off for each edge.
type outline struct {
	cell          uint64
	lat, lng, cos float64
	nx, ny, off   [6]float64
	across        [6]atomic.Uint64 // the cell across each edge, 0 until needed
	hexagon       bool             // false: not six plain corners, always ask Cell
}

const (
	locatorMarginM  = 0.5
	metresPerDegree = EarthRadiusM * math.Pi / 180
)

// NewLocator returns a Locator for cells of resolution res, without
// guesses by square (see Guesses.Locator); res below 7 makes edges long
// enough to bow away from their chords, so it always calls Cell.
func NewLocator(res int) *Locator {
	return &Locator{res: res, shapes: newOutlines(15)}
}

// Locate returns Cell(lat, lng, res).
func (l *Locator) Locate(lat, lng float64) uint64 {
	if l.res < 7 || l.g == nil {
		return Cell(lat, lng, l.res)
	}
	s := l.g.slot(lat, lng)
	if guess := s.Load(); guess != nil {
		if o := l.find(guess, lat, lng); o != nil {
			if o != guess {
				s.Store(o)
			}
			return o.cell
		}
	}
	c := Cell(lat, lng, l.res)
	l.calls++
	if c != 0 {
		s.Store(l.shapes.get(c))
	}
	return c
}

// LocateFrom is Cell(lat, lng, res) for a point that moved from cell
// prev (0 for none): most moves stay in their cell or step into the next,
// and prev is tried first. A locator with squares (Guesses.Locator) then
// tries the square's guess, and learns the square's cell.
func (l *Locator) LocateFrom(prev uint64, lat, lng float64) uint64 {
	if prev != 0 && l.res >= 7 && resolution(prev) == l.res {
		if o := l.find(l.shapes.get(prev), lat, lng); o != nil {
			return o.cell
		}
	}
	if l.g != nil {
		return l.Locate(lat, lng)
	}
	l.calls++
	return Cell(lat, lng, l.res)
}

// find returns the outline of the cell holding (lat, lng) if it is the
// guessed cell o or the cell across o's edge it lies beyond, each by more
// than the margin; nil when it cannot tell.
func (l *Locator) find(o *outline, lat, lng float64) *outline {
	if !o.hexagon {
		return nil
	}
	x, y := o.flat(lat, lng)
	edge, worst := -1, -locatorMarginM
	for i := range 6 {
		v := o.nx[i]*x + o.ny[i]*y - o.off[i]
		if v < locatorMarginM {
			if v >= -locatorMarginM {
				return nil // on an edge: only Cell can tell
			}
			if v < worst {
				edge, worst = i, v
			}
		}
	}
	if edge < 0 {
		return o
	}
	next := o.across[edge].Load()
	if next == 0 {
		next = o.acrossEdge(edge, l.res)
		o.across[edge].Store(next)
	}
	if next == 0 {
		return nil
	}
	if n := l.shapes.get(next); n.inside(lat, lng) {
		return n
	}
	return nil
}

// inside reports whether (lat, lng) is in the outline's cell by more
// than the margin.
func (o *outline) inside(lat, lng float64) bool {
	if !o.hexagon {
		return false
	}
	x, y := o.flat(lat, lng)
	for i := range 6 {
		if o.nx[i]*x+o.ny[i]*y < o.off[i]+locatorMarginM {
			return false
		}
	}
	return true
}

// acrossEdge returns the cell across edge i: the one holding the mirror
// image of the centre in that edge, which is near the neighbour's centre,
// far from any edge.
func (o *outline) acrossEdge(i, res int) uint64 {
	// The centre is the origin and the edge's points p have n.p = off, so
	// the mirror image is 2 off n.
	x, y := 2*o.off[i]*o.nx[i], 2*o.off[i]*o.ny[i]
	return Cell(o.lat+y/metresPerDegree, o.lng+x/(metresPerDegree*o.cos), res)
}

// flat projects (lat, lng) to metres east and north of the outline's
// centre.
func (o *outline) flat(lat, lng float64) (x, y float64) {
	dlng := lng - o.lng
	if dlng > 180 {
		dlng -= 360
	} else if dlng < -180 {
		dlng += 360
	}
	return dlng * metresPerDegree * o.cos, (lat - o.lat) * metresPerDegree
}

func outlineOf(c uint64) *outline {
	o := &outline{cell: c}
	o.lat, o.lng = Centre(c)
	o.cos = math.Cos(o.lat * math.Pi / 180)
	var corners [10][2]float64
	b := AppendBoundary(corners[:0], c)
	if len(b) != 6 || math.Abs(o.lat) > 80 {
		return o
	}
	var xs, ys [6]float64
	area := 0.0
	for i, p := range b {
		xs[i], ys[i] = o.flat(p[0], p[1])
	}
	for i := range 6 {
		j := (i + 1) % 6
		area += xs[i]*ys[j] - xs[j]*ys[i]
	}
	for i := range 6 {
		j := (i + 1) % 6
		// The inward normal of edge i → j: left of it when the corners run
		// counter-clockwise (positive area), right of it otherwise.
		nx, ny := -(ys[j] - ys[i]), xs[j]-xs[i]
		if area < 0 {
			nx, ny = -nx, -ny
		}
		norm := math.Hypot(nx, ny)
		if norm == 0 {
			return o
		}
		nx, ny = nx/norm, ny/norm
		o.nx[i], o.ny[i], o.off[i] = nx, ny, nx*xs[i]+ny*ys[i]
	}
	o.hexagon = true
	return o
}
