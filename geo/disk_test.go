package geo

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/uber/h3-go/v4"
)

// randomCells gives cells of every resolution over the whole globe, and
// so pentagons and cells cut by icosahedron faces among them.
func randomCells(n int) []uint64 {
	r := rand.New(rand.NewPCG(3, 4))
	cells := make([]uint64, n)
	for i := range cells {
		cells[i] = Cell(r.Float64()*180-90, r.Float64()*360-180, r.IntN(16))
	}
	for _, p := range h3.Res0Cells() {
		if p.IsPentagon() {
			cells = append(cells, uint64(p))
		}
	}
	return cells
}

func TestCentreAndBoundaryMatchH3Go(t *testing.T) {
	for _, c := range randomCells(5000) {
		ll := h3.CellToLatLng(h3.Cell(c))
		lat, lng := Centre(c)
		if math.Abs(lat-ll.Lat) > 1e-12 || math.Abs(lng-ll.Lng) > 1e-12 {
			t.Fatalf("Centre(%x) = %v, %v; h3-go says %v, %v", c, lat, lng, ll.Lat, ll.Lng)
		}
		want := h3.CellToBoundary(h3.Cell(c))
		got := AppendBoundary(nil, c)
		if len(got) != len(want) {
			t.Fatalf("Boundary(%x) has %d corners; h3-go says %d", c, len(got), len(want))
		}
		for i := range got {
			if math.Abs(got[i][0]-want[i].Lat) > 1e-12 || math.Abs(got[i][1]-want[i].Lng) > 1e-12 {
				t.Fatalf("corner %d of %x = %v; h3-go says %v", i, c, got[i], want[i])
			}
		}
	}
}

func TestDiskMatchesH3Go(t *testing.T) {
	for i, c := range randomCells(500) {
		k := i % 6
		want := h3.GridDisk(h3.Cell(c), k)
		got := AppendDisk(nil, c, k)
		if len(got) != len(want) {
			t.Fatalf("Disk(%x, %d) has %d cells; h3-go says %d", c, k, len(got), len(want))
		}
		for j := range got {
			if got[j] != uint64(want[j]) {
				t.Fatalf("Disk(%x, %d)[%d] = %x; h3-go says %x", c, k, j, got[j], uint64(want[j]))
			}
		}
		// Appending keeps what was there.
		pre := []uint64{1, 2}
		if out := AppendDisk(pre, c, k); !slices.Equal(out[:2], []uint64{1, 2}) || !slices.Equal(out[2:], got) {
			t.Fatalf("AppendDisk(%x, %d) changed the prefix or the cells", c, k)
		}
	}
}

func BenchmarkOutline(b *testing.B) {
	b.ReportAllocs()
	c := Cell(30.27, 120.15, 8)
	for b.Loop() {
		_ = outlineOf(c)
	}
}

func BenchmarkAppendDisk(b *testing.B) {
	b.ReportAllocs()
	c := Cell(30.27, 120.15, 7)
	buf := make([]uint64, 0, DiskSize(5))
	for b.Loop() {
		buf = AppendDisk(buf[:0], c, 5)
	}
}
