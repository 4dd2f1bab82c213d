package arena

import (
	"hash/maphash"
	"math/bits"
)

// IDs numbers strings kept for good (ids of users, of helpers) 0, 1, 2,
// ... in the order they are first seen, so that what is kept per id can
// be a slice indexed by number. Neither its table nor the strings hold a
// pointer per id: a map[string]int32 of a million ids was a million
// pointers for the collector to follow at every collection, and records
// keeping their id as a string made their slice one it had to scan too.
// The zero value is ready to use; it belongs to one goroutine.
type IDs struct {
	names Names
	at    []Name // by number
	seed  maphash.Seed
	// table finds a number by id (linear probing): per place, the top
	// half of the id's hash and the number plus one, 0 for none; between
	// a quarter and a half full.
	table []uint64
}

// Find returns the number of id, if it has one.
func (d *IDs) Find(id string) (n int32, ok bool) {
	n, _, ok = d.find(id)
	return n, ok
}

// Number returns the number of id, giving it the next one if it has none;
// added says whether it did.
func (d *IDs) Number(id string) (n int32, added bool) {
	n, h, ok := d.find(id)
	if ok {
		return n, false
	}
	n = int32(len(d.at))
	d.at = append(d.at, d.names.Add(id))
	if 2*len(d.at) > len(d.table) {
		d.rehash() // places the new id with the others
	} else {
		d.place(h, n)
	}
	return n, true
}

// String returns the id numbered n: a view into a block of d, valid for as
// long as d is.
func (d *IDs) String(n int32) string { return d.names.At(d.at[n]) }

// Len is how many ids are numbered.
func (d *IDs) Len() int { return len(d.at) }

// find looks id up; h is its hash, for placing it when it is not found.
func (d *IDs) find(id string) (n int32, h uint64, ok bool) {
	if len(d.table) == 0 {
		d.seed = maphash.MakeSeed()
		d.table = make([]uint64, 1024)
	}
	h = maphash.String(d.seed, id)
	mask := uint64(len(d.table) - 1)
	for i := h & mask; d.table[i] != 0; i = (i + 1) & mask {
		if e := d.table[i]; uint32(e>>32) == uint32(h>>32) {
			if n = int32(uint32(e)) - 1; d.String(n) == id {
				return n, h, true
			}
		}
	}
	return 0, h, false
}

// place puts number n, whose id hashes to h, in the first free place.
func (d *IDs) place(h uint64, n int32) {
	mask := uint64(len(d.table) - 1)
	i := h & mask
	for d.table[i] != 0 {
		i = (i + 1) & mask
	}
	d.table[i] = h>>32<<32 | uint64(uint32(n+1))
}

// rehash makes the table more than twice as large as there are ids and
// places every one.
func (d *IDs) rehash() {
	d.table = make([]uint64, max(1024, 1<<bits.Len(uint(2*len(d.at)))))
	for n := range d.at {
		d.place(maphash.String(d.seed, d.String(int32(n))), int32(n))
	}
}
