package geo

/*
#include <stdint.h>
typedef struct { double lat; double lng; } ewLL;
typedef struct { int n; ewLL v[10]; } ewCorners;
extern uint32_t cellToLatLng(uint64_t c, ewLL *g);
extern uint32_t cellToBoundary(uint64_t c, ewCorners *b);
extern uint32_t gridDisk(uint64_t origin, int k, uint64_t *out);
static ewLL ew_centre(uint64_t c) {
	ewLL g = { 0, 0 };
	cellToLatLng(c, &g);
	return g;
}
static ewCorners ew_corners(uint64_t c) {
	ewCorners b;
	b.n = 0;
	if (cellToBoundary(c, &b) != 0) {
		b.n = 0;
	}
	return b;
}
static uint32_t ew_disk(uint64_t c, int k, uint64_t *out) {
	return gridDisk(c, k, out);
}
*/
import "C"

import (
	"unsafe"

	"github.com/uber/h3-go/v4"
)

// The functions below call the H3 library's C functions as Cell does,
// with their arguments and results on the C stack or in memory the
// caller owns: h3-go's wrappers allocate for each call (its cgo
// arguments are Go pointers), and a need's placing or a new cell's
// outline would pay that every time.

const radToDeg = 180 / 3.141592653589793

// Centre returns the centre of cell c.
func Centre(c uint64) (lat, lng float64) {
	g := C.ew_centre(C.uint64_t(c))
	return float64(g.lat) * radToDeg, float64(g.lng) * radToDeg
}

// AppendBoundary appends the corners of cell c (at most ten) to dst.
func AppendBoundary(dst [][2]float64, c uint64) [][2]float64 {
	b := C.ew_corners(C.uint64_t(c))
	for i := range int(b.n) {
		dst = append(dst, [2]float64{float64(b.v[i].lat) * radToDeg, float64(b.v[i].lng) * radToDeg})
	}
	return dst
}

// DiskSize is how many cells a disk of k rings holds at most.
func DiskSize(k int) int { return 3*k*(k+1) + 1 }

// AppendDisk appends the cells within k rings of c, c included, to dst.
// It uses the room past len(dst) when there is enough.
func AppendDisk(dst []uint64, c uint64, k int) []uint64 {
	n := len(dst)
	dst = append(dst, make([]uint64, DiskSize(k))...)
	out := dst[n:]
	clear(out) // H3 leaves zeros where a disk near a pentagon has fewer cells
	if C.ew_disk(C.uint64_t(c), C.int(k), (*C.uint64_t)(unsafe.Pointer(&out[0]))) != 0 {
		return dst[:n]
	}
	j := n
	for _, x := range out {
		if x != 0 {
			dst[j] = x
			j++
		}
	}
	return dst[:j]
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
