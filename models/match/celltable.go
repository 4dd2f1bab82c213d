package match

import (
	"cmp"
	"slices"

	"everywhere/geo"
)

// cellTable numbers the cells of one resolution as they are first seen,
// and keeps for each its centre and a value of T, in slices by number,
// and the disks around the cells asked about. It serves the lookups that
// come back to the same few hundred cells of a city: the needs reaching
// each cell (needPlaces), the index's helpers by area (areas).
//
// A cell keeps one disk, the widest asked for, its cells nearest first:
// an ask of a smaller radius takes the disk's front. Kept per radius
// instead, the disks of a city's few hundred cells and its needs' handful
// of radii outgrew maxDiskCells, were all let go, and were made again in
// C, 1.4% of a catch-up's CPU.
type cellTable[T any] struct {
	nums map[uint64]int32 // cell → its number
	at   []T              // by cell number
	// centres: by cell number, its centre, computed once (each is a call
	// into C) when the cell is numbered, and kept when disks are let go.
	centres [][2]float64
	disks   map[uint64]disk // by the cell at their centre
	kept    int             // cells in disks, which are let go past maxDiskCells
	disk    []uint64        // a disk being made, reused
}

// disk is the cells within k rings of a cell, nearest first.
type disk struct {
	k     int
	cells []diskCell
}

type diskCell struct {
	lat, lng float64
	fromM    float64 // from the disk's centre cell's centre (flatDistM)
	num      int32
}

// maxDiskCells bounds the cells kept in a table's disks: 2^16, 2 MiB.
// A 3 km need's disk is 127 cells (a 5 km one's 217, a 20 km one's
// 1,519), so that is the disks of some 300 cells of 5 km2, a city's
// worth.
const maxDiskCells = 1 << 16

func newCellTable[T any]() cellTable[T] {
	return cellTable[T]{nums: map[uint64]int32{}, disks: map[uint64]disk{}}
}

// number returns cell c's number, given the first time c is seen, with
// a zero T. A cell's value stays when it empties: what is kept is the
// room of a few hundred cells' lists.
func (t *cellTable[T]) number(c uint64) int32 {
	num, ok := t.nums[c]
	if !ok {
		num = int32(len(t.at))
		t.nums[c] = num
		var zero T
		t.at = append(t.at, zero)
		lat, lng := geo.Centre(c)
		t.centres = append(t.centres, [2]float64{lat, lng})
	}
	return num
}

// diskAround returns at least the cells within k rings of origin, with
// their centres and numbers, nearest first.
func (t *cellTable[T]) diskAround(origin uint64, k int) []diskCell {
	if d, ok := t.disks[origin]; ok && d.k >= k {
		return d.cells
	}
	if t.kept >= maxDiskCells {
		clear(t.disks)
		t.kept = 0
	}
	t.disk = geo.AppendDisk(t.disk[:0], origin, k)
	d := disk{k: k, cells: make([]diskCell, len(t.disk))}
	olat, olng := geo.Centre(origin)
	cos := CosLat(olat)
	for i, c := range t.disk {
		num := t.number(c)
		lat, lng := t.centres[num][0], t.centres[num][1]
		d.cells[i] = diskCell{lat, lng, flatDistM(olat, olng, cos, lat, lng), num}
	}
	slices.SortFunc(d.cells, func(a, b diskCell) int { return cmp.Compare(a.fromM, b.fromM) })
	t.kept += len(d.cells) - len(t.disks[origin].cells)
	t.disks[origin] = d
	return d.cells
}
