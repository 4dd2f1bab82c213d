package geo

import (
	"math/rand/v2"
	"testing"

	"github.com/uber/h3-go/v4"
)

func TestCellMatchesH3Go(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 20000; i++ {
		lat := r.Float64()*180 - 90
		lng := r.Float64()*360 - 180
		res := r.IntN(16)
		want := uint64(h3.LatLngToCell(h3.NewLatLng(lat, lng), res))
		if got := Cell(lat, lng, res); got != want {
			t.Fatalf("Cell(%v, %v, %d) = %x, h3-go says %x", lat, lng, res, got, want)
		}
	}
}

func TestDistance(t *testing.T) {
	// Hangzhou to Shanghai railway stations: about 164 km.
	d := DistanceM(30.2906, 120.2129, 31.2495, 121.4558)
	if d < 150_000 || d > 170_000 {
		t.Fatalf("Hangzhou-Shanghai = %.0f m", d)
	}
	if DistanceM(1, 2, 1, 2) != 0 {
		t.Fatal("distance to self is not 0")
	}
}

func BenchmarkCell(b *testing.B) {
	b.ReportAllocs()
	lat, lng := 30.2741, 120.1551
	for b.Loop() {
		lat += 1e-7
		_ = Cell(lat, lng, 8)
	}
}

func BenchmarkCellH3Go(b *testing.B) {
	b.ReportAllocs()
	lat, lng := 30.2741, 120.1551
	for b.Loop() {
		lat += 1e-7
		_ = h3.LatLngToCell(h3.NewLatLng(lat, lng), 8)
	}
}

func TestParentMatchesH3Go(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for range 20000 {
		lat, lng := r.Float64()*180-90, r.Float64()*360-180
		res := r.IntN(16)
		c := Cell(lat, lng, res)
		for p := 0; p <= res; p++ {
			want := h3.Cell(c).Parent(p)
			if got := Parent(c, p); got != uint64(want) {
				t.Fatalf("Parent(%x, %d) = %x, h3-go says %x", c, p, got, uint64(want))
			}
		}
	}
}

func BenchmarkCellFinest(b *testing.B) {
	b.ReportAllocs()
	lat, lng := 30.2741, 120.1551
	for b.Loop() {
		lat += 1e-7
		_ = Cell(lat, lng, Finest)
	}
}
