package geo

import "github.com/uber/h3-go/v4"

// Disk returns the cells within k rings of c, c included. It allocates:
// it is for occasional work (placing a need, caching a region), not for
// every event.
func Disk(c uint64, k int) []uint64 {
	cells := h3.GridDisk(h3.Cell(c), k)
	out := make([]uint64, len(cells))
	for i, x := range cells {
		out[i] = uint64(x)
	}
	return out
}

// Centre returns the centre of cell c.
func Centre(c uint64) (lat, lng float64) {
	ll := h3.CellToLatLng(h3.Cell(c))
	return ll.Lat, ll.Lng
}

// Boundary returns the corners of cell c.
func Boundary(c uint64) [][2]float64 {
	b := h3.CellToBoundary(h3.Cell(c))
	out := make([][2]float64, len(b))
	for i, ll := range b {
		out[i] = [2]float64{ll.Lat, ll.Lng}
	}
	return out
}

// Ring returns the cells exactly k steps from c.
func Ring(c uint64, k int) []uint64 {
	rings := h3.GridDiskDistances(h3.Cell(c), k)
	out := make([]uint64, 0, len(rings[k]))
	for _, x := range rings[k] {
		out = append(out, uint64(x))
	}
	return out
}
