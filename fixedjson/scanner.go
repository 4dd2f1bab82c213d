// Package fixedjson reads JSON objects laid out in one fixed way: keys in
// a known order, no spaces, strings without escapes or control bytes,
// integers and numbers as strconv writes them. Read field by field in
// that order, such an object costs a fraction of a full parse. A decoder
// tries its layout first and parses in full whatever does not fit it,
// so the layout is a fast path and never a rule: what it accepts, the
// full parse reads the same.
package fixedjson

import (
	"math"
	"unsafe"

	"github.com/valyala/fastjson/fastfloat"
)

// Scanner reads a byte slice from the start; it fails at the first byte
// out of layout, and every read after that is a no-op returning a zero
// value, so that a caller reads a whole layout and checks once (OK).
type Scanner struct {
	b  []byte
	i  int
	ok bool
}

// New returns a scanner of b.
func New(b []byte) Scanner { return Scanner{b: b, ok: true} }

// OK reports whether everything read so far fitted the layout.
func (s *Scanner) OK() bool { return s.ok }

// Byte takes the next byte.
func (s *Scanner) Byte() byte {
	if !s.ok || s.i >= len(s.b) {
		s.ok = false
		return 0
	}
	s.i++
	return s.b[s.i-1]
}

// Lit takes the bytes of l, which must come next.
func (s *Scanner) Lit(l string) {
	if !s.Try(l) {
		s.ok = false
	}
}

// Try takes the bytes of l if they come next, and reports whether they
// did; otherwise it leaves the scanner as it was: an optional field.
func (s *Scanner) Try(l string) bool {
	if s.ok && len(s.b)-s.i >= len(l) && string(s.b[s.i:s.i+len(l)]) == l {
		s.i += len(l)
		return true
	}
	return false
}

// Peek reports whether the next byte is c, without taking it.
func (s *Scanner) Peek(c byte) bool { return s.ok && s.i < len(s.b) && s.b[s.i] == c }

// Rest returns what is left to read, a view of b, and nil once a read
// failed: for a value nested in the layout that another reader takes.
func (s *Scanner) Rest() []byte {
	if !s.ok {
		return nil
	}
	return s.b[s.i:]
}

// End takes the closing brace, which must be the last byte.
func (s *Scanner) End() bool {
	s.Lit(`}`)
	return s.ok && s.i == len(s.b)
}

// Int reads an integer as strconv.AppendInt writes it: an optional minus
// and 1 to 19 digits, no leading zero, within int64.
func (s *Scanner) Int() int64 {
	if !s.ok {
		return 0
	}
	neg := s.Peek('-')
	if neg {
		s.i++
	}
	start, n := s.i, uint64(0)
	for s.i < len(s.b) && s.b[s.i] >= '0' && s.b[s.i] <= '9' && s.i-start < 20 {
		n = n*10 + uint64(s.b[s.i]-'0')
		s.i++
	}
	digits := s.i - start
	limit := uint64(math.MaxInt64)
	if neg {
		limit++
	}
	if digits == 0 || digits > 19 || digits > 1 && s.b[start] == '0' || n > limit {
		s.ok = false
		return 0
	}
	if neg {
		return int64(-n)
	}
	return int64(n)
}

// Float reads a number as strconv.AppendFloat(dst, f, 'f', -1, 64)
// writes it, with fastjson's own conversion, so that it reads the same as
// the full parse. The digits are summed as they are checked: with 15 or
// fewer, the sum is exact and fastjson's conversion is one division by a
// power of ten, done here without reading the digits again (a place's
// coordinates, six decimals, always fit). Longer numbers go to fastjson.
func (s *Scanner) Float() float64 {
	if !s.ok {
		return 0
	}
	start := s.i
	neg := s.Peek('-')
	if neg {
		s.i++
	}
	digits, d := s.i, uint64(0)
	for s.i < len(s.b) && s.b[s.i] >= '0' && s.b[s.i] <= '9' {
		d = d*10 + uint64(s.b[s.i]-'0')
		s.i++
	}
	whole := s.i - digits
	if whole == 0 || whole > 1 && s.b[digits] == '0' {
		s.ok = false
		return 0
	}
	frac := 0
	if s.Peek('.') {
		s.i++
		from := s.i
		for s.i < len(s.b) && s.b[s.i] >= '0' && s.b[s.i] <= '9' {
			d = d*10 + uint64(s.b[s.i]-'0')
			s.i++
		}
		frac = s.i - from
		if frac == 0 {
			s.ok = false
			return 0
		}
	}
	if whole+frac > exactDigits {
		// The sum may not be exact (past 19 digits it wraps): fastjson
		// reads the digits again.
		return fastfloat.ParseBestEffort(unsafe.String(&s.b[start], s.i-start))
	}
	f := float64(d) / pow10[frac]
	if neg {
		f = -f
	}
	return f
}

// exactDigits is the most digits whose sum float64 holds exactly
// (10^15 < 2^53), so that the one rounding left is the division's, as in
// fastjson's conversion.
const exactDigits = 15

// pow10 holds the powers of ten a number of exactDigits digits divides by;
// every one of them is exact in float64.
var pow10 = [exactDigits + 1]float64{1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15}

// Bool reads true or false.
func (s *Scanner) Bool() bool {
	switch {
	case s.Peek('t'):
		s.Lit("true")
		return s.ok
	default:
		s.Lit("false")
		return false
	}
}

// Str reads a string without escapes or control bytes and returns its
// bytes, a view of b.
func (s *Scanner) Str() []byte {
	s.Lit(`"`)
	if !s.ok {
		return nil
	}
	start := s.i
	for s.i < len(s.b) {
		switch c := s.b[s.i]; {
		case c == '"':
			s.i++
			return s.b[start : s.i-1]
		case c < 0x20 || c == '\\':
			s.ok = false
			return nil
		}
		s.i++
	}
	s.ok = false
	return nil
}
