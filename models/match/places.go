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
// numbered, with their lists in a slice; the disk of each cell and ring
// count is kept with its cells' centres and numbers, since a city's needs
// come from the same few hundred cells; and a need remembers where it is
// in each list.
type needPlaces struct {
	nums  map[uint64]int32 // cell → its number
	needs [][]nearNeed     // by cell number, the needs reaching it
	// centres: by cell number, its centre, computed once (each is a call
	// into C) when the cell is numbered, and kept when disks are let go.
	centres [][2]float64
	disks   map[diskKey][]diskCell
	kept    int      // cells in disks, which are let go past maxDiskCells
	disk    []uint64 // a disk being made, reused
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

type diskKey struct {
	origin uint64
	k      int
}

type diskCell struct {
	lat, lng float64
	num      int32
}

// maxDiskCells bounds the cells kept in disks: 2^16, 1.5 MiB per
// region. A 3 km need's disk is 127 cells (a 20 km one's 1,519), so
// that is the disks of some 500 cells of 5 km2, a city's worth.
const maxDiskCells = 1 << 16

func newNeedPlaces() needPlaces {
	return needPlaces{nums: map[uint64]int32{}, disks: map[diskKey][]diskCell{}}
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

// diskAround returns the cells within k rings of origin, with their
// centres and numbers.
func (p *needPlaces) diskAround(origin uint64, k int) []diskCell {
	key := diskKey{origin, k}
	if d, ok := p.disks[key]; ok {
		return d
	}
	if p.kept >= maxDiskCells {
		clear(p.disks)
		p.kept = 0
	}
	p.disk = geo.AppendDisk(p.disk[:0], origin, k)
	d := make([]diskCell, len(p.disk))
	for i, c := range p.disk {
		num := p.number(c)
		d[i] = diskCell{p.centres[num][0], p.centres[num][1], num}
	}
	p.disks[key] = d
	p.kept += len(d)
	return d
}

// place indexes need ni in every cell its radius reaches: a cell whose
// centre lies within the radius plus the cell's own size.
func (m *Matcher) place(ni int32) {
	n, p := &m.needs[ni], &m.places
	reach := n.ev.RadiusM + needCellM
	for _, c := range p.diskAround(geo.Cell(n.ev.Lat, n.ev.Lng, NeedResolution), int(reach/needSpacingM)+2) {
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
