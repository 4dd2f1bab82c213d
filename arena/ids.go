package arena

import (
	"hash/maphash"
	"math/bits"
)

// IDs numbers ids (of users, of helpers) 0, 1, 2, ... in the order they
// are first seen, and hands out again the numbers of ids forgotten, so
// that what is kept per id can be a slice or Pages indexed by number.
// Neither its table nor the strings hold a pointer per id: a
// map[string]int32 of a million ids was a million pointers for the
// collector to follow at every collection, and records keeping their id
// as a string made their slice one it had to scan too. The zero value is
// ready to use; it belongs to one goroutine.
type IDs struct {
	names Names
	at    []Name  // by number; gone for a forgotten one
	free  []int32 // numbers forgotten, to hand out again
	bytes int     // of the names in names' blocks
	dead  int     // of those, bytes of names forgotten
	seed  maphash.Seed
	// table finds a number by id (linear probing): per place, the top
	// half of the id's hash and the number plus one, 0 for none; between
	// a quarter and a half full. An id's home place is the top bits of
	// its hash (h >> shift), which the entry keeps, so the table grows,
	// and Forget mends a run, from the entries alone: growing used to
	// hash every name again and write each entry to a random place of
	// the new table, and now sweeps the old one in order and writes the
	// new one nearly in order (BenchmarkIDsNumber, a million ids from an
	// empty table: 69-84 ns an id against 90-112). Entries near one
	// another share their top bits, so the stored half of the hash tells
	// fewer of them apart: in a table of a million places, about one
	// lookup in 8,000 compares a name it need not.
	//
	// A hit reads three places far apart: the entry, the id's Name by
	// number, the id's bytes. Entries pointing at a record that held the
	// number beside the bytes, two places, measured slower all the same:
	// a million ids looked up at random (BenchmarkIDsFind), 92-98 ns
	// against 83-94, and in a scratch benchmark where each lookup waited
	// for the last, 420-456 against 356-381.
	table []uint64
	shift uint8 // 64 - log2(len(table))
	touch byte  // what Preload's loads read, kept so they are not dropped
}

// Find returns the number of id, if it has one.
func (d *IDs) Find(id string) (n int32, ok bool) {
	n, _, ok = d.find(id)
	return n, ok
}

// Number returns the number of id, giving it one if it has none (a
// forgotten one first, or else the next); added says whether it did.
func (d *IDs) Number(id string) (n int32, added bool) {
	n, h, ok := d.find(id)
	if ok {
		return n, false
	}
	d.bytes += len(id)
	if k := len(d.free); k > 0 {
		n = d.free[k-1]
		d.free = d.free[:k-1]
		d.at[n] = d.names.Add(id)
	} else {
		n = int32(len(d.at))
		d.at = append(d.at, d.names.Add(id))
	}
	if 2*len(d.at) > len(d.table) {
		d.rehash()
	}
	d.place(h, n)
	return n, true
}

// String returns the id of live number n: a view into a block of d,
// which stays valid for as long as the view is kept.
func (d *IDs) String(n int32) string { return d.names.At(d.at[n]) }

// Size is the length in bytes of number n's id. It reads n's entry, as
// String does, and nothing else: a caller about to ask for the ids of
// numbers that lie at random reads their sizes first, in loads that
// depend on nothing before them, so that their cache misses overlap.
func (d *IDs) Size(n int32) int { return int(d.at[n].n) }

// Len is how many ids are numbered.
func (d *IDs) Len() int { return len(d.at) - len(d.free) }

// Top is one more than the highest number handed out: every number in use
// is below it.
func (d *IDs) Top() int32 { return int32(len(d.at)) }

// Live reports whether number n is in use: handed out, not forgotten.
func (d *IDs) Live(n int32) bool { return n >= 0 && int(n) < len(d.at) && d.at[n] != gone }

// gone is the name of a forgotten number.
var gone = Name{block: ^uint32(0)}

// Forget gives up the number n of a live id: Find no longer finds it, and
// Number may hand n out again. Once the names forgotten take more room
// than those kept, the kept ones are copied into new blocks and the old
// ones left to the collector.
func (d *IDs) Forget(n int32) {
	h := maphash.String(d.seed, d.String(n))
	mask := uint64(len(d.table) - 1)
	i := h >> d.shift
	for uint32(d.table[i]) != uint32(n+1) {
		i = (i + 1) & mask
	}
	// Take the entry out, moving back each of those after it in its run
	// that would no longer be found from its home place (Knuth's
	// algorithm R for linear probing).
	for j := i; ; {
		j = (j + 1) & mask
		e := d.table[j]
		if e == 0 {
			break
		}
		home := e >> d.shift
		if (j-home)&mask >= (j-i)&mask {
			d.table[i] = e
			i = j
		}
	}
	d.table[i] = 0
	d.dead += int(d.at[n].n)
	d.at[n] = gone
	d.free = append(d.free, n)
	if d.dead > blockSize && 2*d.dead > d.bytes {
		d.compact()
	}
}

// compact copies the names of live numbers into new blocks.
func (d *IDs) compact() {
	var fresh Names
	for n, name := range d.at {
		if name != gone {
			d.at[n] = fresh.Add(d.names.At(name))
		}
	}
	d.names, d.bytes, d.dead = fresh, d.bytes-d.dead, 0
}

// find looks id up; h is its hash, for placing it when it is not found.
func (d *IDs) find(id string) (n int32, h uint64, ok bool) {
	if len(d.table) == 0 {
		d.seed = maphash.MakeSeed()
		d.table, d.shift = newTable(minTable)
	}
	h = maphash.String(d.seed, id)
	mask := uint64(len(d.table) - 1)
	for i := h >> d.shift; d.table[i] != 0; i = (i + 1) & mask {
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
	d.put(h>>32<<32 | uint64(uint32(n+1)))
}

// put places entry e in the first free place from its home.
func (d *IDs) put(e uint64) {
	mask := uint64(len(d.table) - 1)
	i := e >> d.shift
	for d.table[i] != 0 {
		i = (i + 1) & mask
	}
	d.table[i] = e
}

// rehash makes the table more than twice as large as there are ids and
// places every one.
func (d *IDs) rehash() {
	old := d.table
	d.table, d.shift = newTable(max(minTable, 1<<bits.Len(uint(2*len(d.at)))))
	for _, e := range old {
		if e != 0 {
			d.put(e)
		}
	}
}

// minTable is the size of a new table.
const minTable = 1024

// newTable returns an empty table of size places (a power of two) and
// the shift that takes an id's home place from its hash.
func newTable(size int) ([]uint64, uint8) {
	return make([]uint64, size), uint8(64 - bits.TrailingZeros(uint(size)))
}

// Preload reads the places a lookup of each of ids would read (the
// entry at its home place, its Name, the first byte of its bytes) and
// appends to nums the number each has, or -1 where the first entry
// compared is not its; it returns nums. At a million ids those places
// are all cache misses, which a lookup pays one after another; read
// here in sweeps whose loads depend on nothing in the sweep, they
// overlap, and the lookups that follow find them in the cache. An id
// further down its run than its home place is left to its lookup.
func (d *IDs) Preload(ids []string, nums []int32) []int32 {
	if len(d.table) == 0 {
		return nums
	}
	start := len(nums)
	for _, id := range ids {
		// The hash's top half and the home place share the sweep: the
		// entry's load depends only on the hash.
		h := maphash.String(d.seed, id)
		e := d.table[h>>d.shift]
		n := int32(uint32(e)) - 1
		if uint32(e>>32) != uint32(h>>32) || n < 0 {
			n = -1
		}
		nums = append(nums, n)
	}
	var touch byte
	for _, n := range nums[start:] {
		if n >= 0 {
			if nm := d.at[n]; nm != gone && nm.n > 0 {
				touch += d.names.blocks[nm.block][nm.off]
			}
		}
	}
	d.touch += touch
	return nums
}
