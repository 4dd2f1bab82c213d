// Package arena makes many small things in few allocations: copies of
// strings in large blocks (Strings), and values of one type a block at a
// time (Values). Slots and Names do the same for values and strings kept
// by number rather than by pointer, so that the records naming them hold
// no pointer and the collector does not scan them; IDs numbers ids that
// way, and Pages keeps values by such numbers.
//
// It suits strings let go together (the ids of records a merge holds
// back, the keys of an aggregate until its seal) and strings kept for
// good (the keys of a map that never drops an entry). It does not suit
// maps whose entries leave one by one: a block stays whole while any
// string in it is referred to.
package arena

import "unsafe"

// Strings copies strings into blocks that are only appended to, never
// written over, so a string made from one stays valid for as long as
// anything refers to it; a block nothing refers to any more is garbage
// like any other. The zero value is ready to use; it belongs to one
// goroutine.
type Strings struct{ block []byte }

// blockSize is the size of a block: some thousands of ids.
const blockSize = 64 << 10

// Copy returns a copy of s that lives in the arena.
func (a *Strings) Copy(s string) string {
	if len(s) == 0 {
		return ""
	}
	if cap(a.block)-len(a.block) < len(s) {
		a.block = make([]byte, 0, max(blockSize, len(s)))
	}
	start := len(a.block)
	a.block = append(a.block, s...)
	return unsafe.String(&a.block[start], len(s))
}
