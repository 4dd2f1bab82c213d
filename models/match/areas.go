package match

import (
	"cmp"
	"slices"

	"everywhere/events"
	"everywhere/geo"
)

// Where helpers are few, a query's walk through the rings of cells was
// most of its cost: at 10,000 users a need of 3 km walked some 680 cells,
// nearly all of them empty, to look at about 100 helpers, and walking
// was three quarters of Query's time. So the index also keeps, for each
// NeedResolution cell (an area, 49 of its own cells), the cells of the
// area that hold helpers and how many helpers they hold.
//
// A query first reads the areas its radius may reach, and the cells
// they list. When the cells within the radius hold no more than
// MaxExamined helpers, none more than MaxPerCell, no budget can bind:
// the answer is the exact top k whatever order the cells are looked at
// in, the one the walk gives. The query then scans those cells, area by
// area outwards from the need. Where a budget may bind but the cells are
// few, as around a stadium outside a dense district, it scans them
// nearest first, as the walk takes them ring by ring, without walking
// the empty cells between. It walks the rings only where cells holding
// helpers are many.

// area is what the index knows of one NeedResolution cell.
type area struct {
	cells   []areaCell // its cells that hold helpers
	helpers int32      // the helpers in them
}

// areaCell is a cell of an area's list, with what gather reads of it.
// Kept here, beside the other cells of the area, they spare gather a
// read of each cell, which lie at random in memory. On the catch-up's
// load at 100,000 users, with caches emptied every 64 inputs as a live
// region's worker finds them, 40 alternating rounds of the matcher's
// inputs took a median 18.0 µs an input against 18.5 (23 faster).
type areaCell struct {
	lat, lng float64 // the cell's centre
	num      int32   // the cell's number
	count    int32   // its helpers, as the cell's count
}

// areaOf returns the number of the area of cell c.
func (x *Index) areaOf(c uint64) int32 { return x.areas.number(geo.Parent(c, NeedResolution)) }

// entered counts a helper who entered cl, listing cl in its area when it
// was empty.
func (x *Index) entered(cl *cell) {
	a := &x.areas.at[cl.area]
	a.helpers++
	if cl.count == 1 {
		x.centre(cl)
		cl.inArea = int32(len(a.cells))
		a.cells = append(a.cells, areaCell{lat: cl.lat, lng: cl.lng, num: cl.num})
	}
	a.cells[cl.inArea].count = cl.count
}

// left counts a helper who left cl, taking cl out of its area's list
// when it is empty: the area's last cell takes its place.
func (x *Index) left(cl *cell) {
	a := &x.areas.at[cl.area]
	a.helpers--
	if cl.count > 0 {
		a.cells[cl.inArea].count = cl.count
		return
	}
	last := a.cells[len(a.cells)-1]
	a.cells[cl.inArea] = last
	x.cellv[last.num].inArea = cl.inArea
	a.cells = a.cells[:len(a.cells)-1]
}

// nearCell is a cell holding helpers, whose nearest point lies near
// metres from the need being queried.
type nearCell struct {
	near float64
	num  int32
}

// maxNearest is the most cells holding helpers that a query whose
// budgets may bind scans nearest first rather than walking the rings: in
// a dense district every cell holds helpers, and the walk, cut short by
// the k-th best, reads fewer than gathering and sorting them all costs.
// With no such bound, BenchmarkQuery's p50 at 100,000 and 1,000,000
// helpers went from 18-19 and 14-16 µs to 52-56 and 54-59 (three
// alternating pairs), for a little more of the exact top 10 (0.947 and
// 0.808 against 0.939 and 0.756). A stadium of 50,000 helpers in one
// cell, with no others near, had the walk read 169 empty cells, out to
// 1,255 m, where the k-th best cut it short: BenchmarkStadium took 29.5
// to 40.9 µs without the walk against 35.3 to 45.7 with it (three
// alternating pairs).
const maxNearest = 64

// scanOrder is what gather found a query's cells allow.
type scanOrder uint8

const (
	walkRings    scanOrder = iota // too many cells hold helpers: walk the rings
	anyOrder                      // no budget can bind: the listed cells, area by area
	nearestFirst                  // a budget may bind: the listed cells, nearest first
)

// gather lists in x.near the cells holding helpers whose nearest point
// lies within need n's radius, their areas nearest first, and reports in
// what order they may be scanned: in any (area by area) when no budget
// can bind, since they hold at most MaxExamined helpers, none more than
// MaxPerCell; nearest first, sorted so, when one may bind but they number
// at most maxNearest; otherwise not at all, and the query walks the
// rings.
//
// A cell within the radius has its centre within radius+cellRadiusM of
// the need, and its area's centre within needCellM of its own
// (TestAreaHoldsItsCells), so its area's centre lies within reach; the
// need lies within needCellM of its own area's centre, so the disk's
// areas past that and reach lie out of it, as in place.
func (x *Index) gather(n *events.Need) scanOrder {
	reach := n.RadiusM + cellRadiusM + needCellM
	past := (reach+needCellM)*1.01 + 50
	disk := x.areas.diskAround(x.aloc.Locate(n.Lat, n.Lng), int(reach/needSpacingM)+2)
	// Every cell of an area within inner lies within the radius: where
	// those alone hold too many helpers in too many cells, the cells
	// need not be read.
	inner := n.RadiusM + cellRadiusM - needCellM
	innerPast := (inner+needCellM)*1.01 + 50
	total, cells := int32(0), 0
	for _, c := range disk {
		if c.fromM > innerPast {
			break
		}
		if x.dist(n, c.lat, c.lng) <= inner {
			a := &x.areas.at[c.num]
			total, cells = total+a.helpers, cells+len(a.cells)
			if total > MaxExamined && cells > maxNearest {
				return walkRings
			}
		}
	}
	x.near = x.near[:0]
	total = 0
	binds := false
	for _, c := range disk {
		if c.fromM > past {
			break
		}
		a := &x.areas.at[c.num]
		if a.helpers == 0 || x.dist(n, c.lat, c.lng) > reach {
			continue
		}
		for _, ac := range a.cells {
			if near := x.dist(n, ac.lat, ac.lng) - cellRadiusM; near <= n.RadiusM {
				total += ac.count
				binds = binds || total > MaxExamined || ac.count > MaxPerCell
				if binds && len(x.near) >= maxNearest {
					return walkRings
				}
				x.near = append(x.near, nearCell{near, ac.num})
			}
		}
	}
	if !binds {
		return anyOrder
	}
	// Cells the same distance away go in the order of their ids, which
	// does not depend on the order they came to hold helpers in.
	slices.SortFunc(x.near, func(a, b nearCell) int {
		if c := cmp.Compare(a.near, b.near); c != 0 {
			return c
		}
		return cmp.Compare(x.cellv[a.num].id, x.cellv[b.num].id)
	})
	return nearestFirst
}

// scanNear scans the cells gather listed, passing over those beyond the
// reach of the k-th best, until MaxExamined helpers were looked at. In
// any order their areas come nearest first, so the k best are mostly
// found early and cut the rest short; sorting the cells themselves cost
// more than it saved where no budget binds.
func (x *Index) scanNear(n *events.Need) {
	for _, c := range x.near {
		if x.examined >= MaxExamined {
			break
		}
		if c.near <= x.reach {
			x.scan(x.cellv[c.num], n, c.near)
		}
	}
}
