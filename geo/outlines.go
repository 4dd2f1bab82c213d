package geo

import "sync/atomic"

// outlines keeps the outlines of the cells a Locator has met, by cell, in
// a fixed table of pairs of slots: a cell's outline is in one of the two
// slots its number hashes to, or is made (two calls into C) and takes the
// place of one of them. Being fixed, the table bounds what is kept
// whatever the points (the pair a cell shares with others is all it can
// lose), and being read and written atomically it is shared by the
// locators of every goroutine, so that each outline is made once, not
// once per partition. With a Go map of pointers per locator, and the
// guesses holding cell numbers, a ping in a city of 7,000 cells took
// 334-364 ns to locate (BenchmarkLocateCity: eight locators, one table
// of guesses); with this table, and outlines in the guesses, 96-99.
type outlines struct {
	shift uint // 64 - log2(len(slots))
	slots []atomic.Pointer[outline]
}

// newOutlines returns a table of 2^log2 slots (8 bytes each).
func newOutlines(log2 int) *outlines {
	return &outlines{shift: uint(64 - log2), slots: make([]atomic.Pointer[outline], 1<<log2)}
}

// get returns cell c's outline, made if the table does not hold it.
func (t *outlines) get(c uint64) *outline {
	h := mix(c) >> t.shift &^ 1 // the pair's first slot
	a, b := &t.slots[h], &t.slots[h+1]
	if o := a.Load(); o != nil && o.cell == c {
		return o
	}
	if o := b.Load(); o != nil && o.cell == c {
		return o
	}
	o := outlineOf(c)
	// An empty slot first; else the one the cell's own low bit picks, so
	// that two cells of a pair that are both in use keep their places.
	switch {
	case a.Load() == nil:
		a.Store(o)
	case b.Load() == nil:
		b.Store(o)
	case c>>1&1 == 0:
		a.Store(o)
	default:
		b.Store(o)
	}
	return o
}

// mix is MurmurHash3's finaliser: cells near each other differ only in a
// few digits in the middle of their numbers, which a multiplication
// alone left clustered (9,275 cells of a city in 5,954 pairs of 65,536).
func mix(x uint64) uint64 {
	x ^= x >> 33
	x *= 0xff51afd7ed558ccd
	x ^= x >> 33
	x *= 0xc4ceb9fe1a85ec53
	return x ^ x>>33
}
