// Package geo maps coordinates to H3 cells and measures distances.
//
// h3-go's LatLngToCell costs three heap allocations per call, because its
// cgo arguments are Go pointers. Cell calls the same C function of the H3
// library that h3-go compiles in, through a C helper that keeps its
// arguments on the C stack: no allocation, same answer (the tests compare
// the two).
package geo

/*
#include <stdint.h>
typedef struct { double lat; double lng; } ewLatLng;
extern uint32_t latLngToCell(const ewLatLng *g, int res, uint64_t *out);
static uint64_t ew_cell(double lat, double lng, int res) {
	ewLatLng g = { lat, lng };
	uint64_t out = 0;
	if (latLngToCell(&g, res, &out) != 0) {
		return 0;
	}
	return out;
}
*/
import "C"

import (
	"math"

	"github.com/uber/h3-go/v4"
)

const degToRad = math.Pi / 180

// Cell returns the H3 cell of resolution res that holds (lat, lng) in
// degrees, or 0 for coordinates H3 cannot index.
func Cell(lat, lng float64, res int) uint64 {
	return uint64(C.ew_cell(C.double(lat*degToRad), C.double(lng*degToRad), C.int(res)))
}

// h3Linked keeps h3-go, and with it the H3 C library, in every binary that
// uses this package.
var h3Linked = h3.LatLngToCell
