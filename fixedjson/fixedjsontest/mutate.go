// Package fixedjsontest helps test a decoder's fixed-layout fast path
// against its full parse.
package fixedjsontest

import (
	"math/rand/v2"
	"strings"
	"testing"
)

// Mutate returns a copy of b with one to three bytes changed: replaced
// by a byte of alphabet, dropped, or inserted from alphabet, or b cut
// short there. Objects one edit away from a layout are where a fast path
// that accepts too much shows.
func Mutate(r *rand.Rand, b []byte, alphabet string) []byte {
	b = append([]byte(nil), b...)
	for range 1 + r.IntN(3) {
		if len(b) == 0 {
			break
		}
		i := r.IntN(len(b))
		switch r.IntN(4) {
		case 0:
			b[i] = alphabet[r.IntN(len(alphabet))]
		case 1:
			b = append(b[:i], b[i+1:]...)
		case 2:
			b = append(b[:i], append([]byte{alphabet[r.IntN(len(alphabet))]}, b[i:]...)...)
		default:
			b = b[:i]
		}
	}
	return b
}

// Paths is a decoder's fast path and full parse, for Compare.
type Paths struct {
	// Gen writes an input in the layout, now and then with values the
	// full parse must refuse or strings that need escapes.
	Gen func(r *rand.Rand) []byte
	// Agree checks one input, failing t if the fast path accepts what the
	// full parse refuses or reads differently; it reports whether the
	// fast path accepted.
	Agree func(t *testing.T, b []byte) bool
	// Valid reports whether the full parse accepts b.
	Valid func(b []byte) bool
	// Alphabet is what Mutate inserts.
	Alphabet string
}

// Counts are what Compare saw: inputs the full parse accepted, those of
// them the fast path took, and mutants the fast path took.
type Counts struct{ Valid, Taken, Mutants int }

// Compare checks n inputs from p.Gen and five mutants of each (see
// Agree), and fails t when the fast path leaves a valid input without
// escapes to the full parse.
func Compare(t *testing.T, r *rand.Rand, n int, p Paths) (c Counts) {
	t.Helper()
	for range n {
		b := p.Gen(r)
		fast := p.Agree(t, b)
		if p.Valid(b) {
			c.Valid++
			if fast {
				c.Taken++
			} else if !strings.Contains(string(b), `\`) {
				t.Fatalf("%s: valid and without escapes, but the fast path left it", b)
			}
		}
		for range 5 {
			if p.Agree(t, Mutate(r, b, p.Alphabet)) {
				c.Mutants++
			}
		}
	}
	return c
}
