package match

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestDecay: decay is e^x to within 3 ulp over the distances a need can
// ask for and far beyond, exactly 1 at 0, 0 past underflow, and never
// rises as x falls: a farther helper must not score higher.
func TestDecay(t *testing.T) {
	r := rand.New(rand.NewPCG(31, 32))
	for range 1_000_000 {
		x := -r.Float64() * 60
		if got, want := decay(x), math.Exp(x); math.Abs(got-want) > 3*0x1p-52*want {
			t.Fatalf("decay(%g) = %g, e^x = %g", x, got, want)
		}
	}
	prev := decay(0)
	if prev != 1 {
		t.Fatalf("decay(0) = %g", prev)
	}
	for i := 1; i <= 2_000_000; i++ {
		x := -float64(i) * 1e-5
		if d := decay(x); d > prev {
			t.Fatalf("decay(%g) = %g, above decay(%g) = %g", x, d, x+1e-5, prev)
		} else {
			prev = d
		}
	}
	// Across the table's steps, where r changes sign, in steps of an ulp.
	for k := -64 * 40; k < 0; k++ {
		x := float64(k) * math.Ln2 / 64
		lo, hi := math.Nextafter(x, math.Inf(-1)), math.Nextafter(x, math.Inf(1))
		if a, b, c := decay(hi), decay(x), decay(lo); b > a || c > b {
			t.Fatalf("around %g: %g, %g, %g", x, a, b, c)
		}
	}
	if d := decay(-800); d != 0 {
		t.Fatalf("decay(-800) = %g", d)
	}
}

func BenchmarkDecay(b *testing.B) {
	x, sum := -0.001, 0.0
	for b.Loop() {
		sum += decay(x)
		x -= 1e-7
	}
	if sum == 0 {
		b.Fatal(sum)
	}
}
