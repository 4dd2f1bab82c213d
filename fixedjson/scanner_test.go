package fixedjson

import (
	"math"
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/valyala/fastjson/fastfloat"
)

// TestScannerReadsALayoutAndStopsAtTheFirstMismatch: values in layout
// read as written; after the first byte out of layout every read gives
// a zero value and OK stays false; Try leaves the scanner as it was.
func TestScannerReadsALayoutAndStopsAtTheFirstMismatch(t *testing.T) {
	s := New([]byte(`{"a":"x","b":-12,"c":0.25,"d":true}`))
	s.Lit(`{"a":`)
	a := s.Str()
	if s.Try(`,"z":`) {
		t.Fatal("Try took a key that is not there")
	}
	s.Lit(`,"b":`)
	b := s.Int()
	s.Lit(`,"c":`)
	c := s.Float()
	s.Lit(`,"d":`)
	d := s.Bool()
	if !s.End() || string(a) != "x" || b != -12 || c != 0.25 || !d {
		t.Fatalf("read %q %d %g %v, ok %v", a, b, c, d, s.OK())
	}

	for _, in := range []string{
		`{"b":012}`,                 // a leading zero
		`{"b":1e3}`,                 // an exponent
		`{"b":"x\"y"}`,              // an escape
		`{"b":9223372036854775808}`, // past int64
		`{"b":1} `,                  // a byte after the end
	} {
		s := New([]byte(in))
		s.Lit(`{"b":`)
		switch in[5] {
		case '"':
			s.Str()
		default:
			s.Int()
		}
		if s.End() {
			t.Errorf("%s: read as in layout", in)
		}
		if s.Int() != 0 || s.Str() != nil || s.OK() {
			t.Errorf("%s: reads after a mismatch give values", in)
		}
	}
}

// TestFloatReadsAsFastjson: Float gives fastjson's conversion bit for bit,
// on numbers short enough for its own sum and on longer ones, which it
// hands to fastjson: places rounded to six decimals as the simulator
// writes them, amounts, and floats written in full.
func TestFloatReadsAsFastjson(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	check := func(v float64, prec int) {
		t.Helper()
		in := strconv.AppendFloat(nil, v, 'f', prec, 64)
		s := New(in)
		got := s.Float()
		want := fastfloat.ParseBestEffort(string(in))
		if !s.OK() || s.Rest() == nil || len(s.Rest()) != 0 || math.Float64bits(got) != math.Float64bits(want) {
			t.Fatalf("%s: read %v (%#x, ok %v), fastjson %v (%#x)", in, got, math.Float64bits(got), s.OK(), want, math.Float64bits(want))
		}
	}
	for _, v := range []float64{0, math.Copysign(0, -1), 1, -1, 0.1, 0.3, 123456789012345, 1234567890123456, 999999999999999.9, 1e18, 1e19, 1e21} {
		check(v, -1)
	}
	for range 200_000 {
		lat := rng.Float64()*180 - 90
		check(math.Round(lat*1e6)/1e6, -1) // a place, as published
		check(lat, -1)                     // every digit
		check(lat, rng.IntN(12))           // a fixed number of decimals
		check(rng.Float64()*1e7, 2)        // an amount
		check(math.Ldexp(rng.Float64(), rng.IntN(80)-40), -1)
	}
}
