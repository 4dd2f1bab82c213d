package match

import "everywhere/geo"

// needPlaces indexes the open needs by every NeedResolution cell their
// radius reaches, so that a helper's change finds the needs it may
// matter to in its own cell.
//
// A need opens and closes once or twice a minute per partition and reaches
// a few dozen cells. Looking them up afresh each time (the disk around
// the need's cell, a call into C; each cell's centre and list through a
// map; the need's place in each list found by a scan of its hundreds of
// needs) was 4% of a catch-up's CPU at 100,000 users. So cells are
// numbered, with their lists in a slice; the disk around each cell is
// kept with its cells' centres and numbers, since a city's needs come
// from the same few hundred cells (cellTable); and a need remembers where
// it is in each list.
type needPlaces struct {
	cells cellTable[[]nearNeed] // by cell, the needs reaching it
	// loc finds a need's own cell. A call into C for each need was 1.3%
	// of BenchmarkMatcher's CPU at 10,000 users; a city's needs come from
	// a few hundred cells, whose squares a small table of guesses covers:
	// on the benchmarks' load, 1,014 calls for 30,296 needs. It is the
	// helper index's own (Index.aloc), which finds the same cells.
	loc *geo.Locator
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

// needGuessesLog2 sizes the table of guesses of NeedResolution cells:
// 4,096 squares an edge of a NeedResolution cell wide (1.2 km), 32 KiB,
// several times the squares of a large city.
const needGuessesLog2 = 12

// placed is a cell list a need is in: the cell's number and the need's
// position in the list.
type placed struct{ num, pos int32 }

// nearNeed is a need in a cell's list: its slot, and where it is and how
// far it reaches, to a few metres (see reaches). A helper's change tests
// the needs of its cell on these alone, reading the list in order, and
// reads the heads of those within reach only: most needs of a cell lie
// out of reach, and reading each one's head was a cache miss.
type nearNeed struct {
	ni             int32
	lat, lng, cosL float32
	reach2         float32 // the square of the radius and reachSlackM
}

// reachSlackM covers the rounding of a nearNeed's float32 place and
// radius: a metre or two at the scale of the Earth.
const reachSlackM = 8

func nearNeedOf(ni int32, n *openNeed) nearNeed {
	r := n.ev.RadiusM + reachSlackM
	return nearNeed{ni: ni, lat: float32(n.ev.Lat), lng: float32(n.ev.Lng), cosL: float32(n.cosLat), reach2: float32(r * r)}
}

// reaches reports whether the need may reach (lat, lng): it does not if
// it says no.
func (nn *nearNeed) reaches(lat, lng float64) bool {
	return flatDist2M(float64(nn.lat), float64(nn.lng), float64(nn.cosL), lat, lng) <= float64(nn.reach2)
}

func newNeedPlaces(loc *geo.Locator) needPlaces {
	return needPlaces{cells: newCellTable[[]nearNeed](), loc: loc}
}

// needsIn returns the open needs reaching NeedResolution cell c; the
// caller must not keep the slice.
func (p *needPlaces) needsIn(c uint64) []nearNeed {
	if num, ok := p.cells.nums[c]; ok {
		return p.cells.at[num]
	}
	return nil
}

// place indexes need ni in every cell its radius reaches: a cell whose
// centre lies within the radius plus the cell's own size.
//
// The need lies within needCellM of its own cell's centre, so a cell
// farther than reach plus that from the disk's centre is out of reach,
// and so is every cell after it. The margin covers the two flat
// projections, one around the disk's centre and one around the need:
// they differ by well under a percent within a disk.
func (m *Matcher) place(ni int32) {
	n, p := &m.needs[ni], &m.places
	reach := n.ev.RadiusM + needCellM
	past := (reach+needCellM)*1.01 + 50
	for _, c := range p.cells.diskAround(p.loc.Locate(n.ev.Lat, n.ev.Lng), int(reach/needSpacingM)+2) {
		if c.fromM > past {
			break
		}
		// The flat distance is within 0.2% of the great circle here (15 m
		// at 7 km, even at 60 degrees north); needCellM has 200 m to spare.
		if flatDistM(n.ev.Lat, n.ev.Lng, n.cosLat, c.lat, c.lng) <= reach {
			n.cells = append(n.cells, placed{c.num, int32(len(p.cells.at[c.num]))})
			p.cells.at[c.num] = append(p.cells.at[c.num], nearNeedOf(ni, n))
		}
	}
}

// unplace takes need ni out of its cells' lists: the last need of each
// list takes its place, and is told where it now is.
func (m *Matcher) unplace(ni int32) {
	n, p := &m.needs[ni], &m.places
	for _, at := range n.cells {
		list := p.cells.at[at.num]
		last := list[len(list)-1]
		list[at.pos] = last
		p.cells.at[at.num] = list[:len(list)-1]
		if last.ni != ni {
			m.needs[last.ni].moved(at)
		}
	}
	n.cells = n.cells[:0]
}

// moved records that the need is now at at.pos in the list of cell at.num.
func (n *openNeed) moved(at placed) {
	for i := range n.cells {
		if n.cells[i].num == at.num {
			n.cells[i].pos = at.pos
			return
		}
	}
}
