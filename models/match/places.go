package match

import (
	"cmp"
	"slices"

	"everywhere/geo"
)

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
// from the same few hundred cells; and a need remembers where it is in
// each list.
//
// A cell keeps one disk, the widest any need has asked for, its cells
// nearest first: a need of a smaller radius takes the disk's front. Kept
// per radius instead, the disks of a city's few hundred cells and its
// needs' handful of radii outgrew maxDiskCells, were all let go, and
// were made again in C, 1.4% of a catch-up's CPU.
type needPlaces struct {
	nums  map[uint64]int32 // cell → its number
	needs [][]nearNeed     // by cell number, the needs reaching it
	// centres: by cell number, its centre, computed once (each is a call
	// into C) when the cell is numbered, and kept when disks are let go.
	centres [][2]float64
	disks   map[uint64]disk // by the cell at their centre
	kept    int             // cells in disks, which are let go past maxDiskCells
	disk    []uint64        // a disk being made, reused
	// loc finds a need's own cell. A call into C for each need was 1.3%
	// of BenchmarkMatcher's CPU at 10,000 users; a city's needs come from
	// a few hundred cells, whose squares a small table of guesses covers:
	// on the benchmarks' load, 1,014 calls for 30,296 needs.
	loc *geo.Locator
}

// needGuessesLog2 sizes needPlaces' table of guesses: 4,096 squares an
// edge of a NeedResolution cell wide (1.2 km), 32 KiB, several times the
// squares of a large city.
const needGuessesLog2 = 12

// disk is the cells within k rings of a cell, nearest first.
type disk struct {
	k     int
	cells []diskCell
}

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

type diskCell struct {
	lat, lng float64
	fromM    float64 // from the disk's centre cell's centre (flatDistM)
	num      int32
}

// maxDiskCells bounds the cells kept in disks: 2^16, 2 MiB per region.
// A 3 km need's disk is 127 cells (a 5 km one's 217, a 20 km one's
// 1,519), so that is the disks of some 300 cells of 5 km2, a city's
// worth.
const maxDiskCells = 1 << 16

func newNeedPlaces() needPlaces {
	return needPlaces{nums: map[uint64]int32{}, disks: map[uint64]disk{},
		loc: geo.NewGuesses(NeedResolution, needGuessesLog2).Locator()}
}

// needsIn returns the open needs reaching NeedResolution cell c; the
// caller must not keep the slice.
func (p *needPlaces) needsIn(c uint64) []nearNeed {
	if num, ok := p.nums[c]; ok {
		return p.needs[num]
	}
	return nil
}

// number returns cell c's number, given the first time c is seen. A
// cell's list stays when it empties: the cells a city's needs reach are
// a few hundred, and what is kept is the room of their lists.
func (p *needPlaces) number(c uint64) int32 {
	num, ok := p.nums[c]
	if !ok {
		num = int32(len(p.needs))
		p.nums[c] = num
		p.needs = append(p.needs, nil)
		lat, lng := geo.Centre(c)
		p.centres = append(p.centres, [2]float64{lat, lng})
	}
	return num
}

// diskAround returns at least the cells within k rings of origin, with
// their centres and numbers, nearest first.
func (p *needPlaces) diskAround(origin uint64, k int) []diskCell {
	if d, ok := p.disks[origin]; ok && d.k >= k {
		return d.cells
	}
	if p.kept >= maxDiskCells {
		clear(p.disks)
		p.kept = 0
	}
	p.disk = geo.AppendDisk(p.disk[:0], origin, k)
	d := disk{k: k, cells: make([]diskCell, len(p.disk))}
	olat, olng := geo.Centre(origin)
	cos := CosLat(olat)
	for i, c := range p.disk {
		num := p.number(c)
		lat, lng := p.centres[num][0], p.centres[num][1]
		d.cells[i] = diskCell{lat, lng, flatDistM(olat, olng, cos, lat, lng), num}
	}
	slices.SortFunc(d.cells, func(a, b diskCell) int { return cmp.Compare(a.fromM, b.fromM) })
	p.kept += len(d.cells) - len(p.disks[origin].cells)
	p.disks[origin] = d
	return d.cells
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
	for _, c := range p.diskAround(p.loc.Locate(n.ev.Lat, n.ev.Lng), int(reach/needSpacingM)+2) {
		if c.fromM > past {
			break
		}
		// The flat distance is within 0.2% of the great circle here (15 m
		// at 7 km, even at 60 degrees north); needCellM has 200 m to spare.
		if flatDistM(n.ev.Lat, n.ev.Lng, n.cosLat, c.lat, c.lng) <= reach {
			n.cells = append(n.cells, placed{c.num, int32(len(p.needs[c.num]))})
			p.needs[c.num] = append(p.needs[c.num], nearNeedOf(ni, n))
		}
	}
}

// unplace takes need ni out of its cells' lists: the last need of each
// list takes its place, and is told where it now is.
func (m *Matcher) unplace(ni int32) {
	n, p := &m.needs[ni], &m.places
	for _, at := range n.cells {
		list := p.needs[at.num]
		last := list[len(list)-1]
		list[at.pos] = last
		p.needs[at.num] = list[:len(list)-1]
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
