package fixedjson

import "testing"

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
