package matching

import "unsafe"

// arena keeps copies of the strings of queued records in large blocks,
// one allocation for many strings instead of one each: while a catch-up
// runs, the merge queues most helper records it is given, and copying
// each id apart was a tenth of the engine's allocations.
//
// A block is only appended to, never written over, so a string made from
// it stays valid for as long as anything refers to it; a block no queued
// record refers to any more is garbage like any other.
type arena struct{ block []byte }

// arenaBlock is the size of a block: some thousands of ids.
const arenaBlock = 64 << 10

// copy returns a copy of s that lives in the arena.
func (a *arena) copy(s string) string {
	if len(s) == 0 {
		return ""
	}
	if cap(a.block)-len(a.block) < len(s) {
		a.block = make([]byte, 0, max(arenaBlock, len(s)))
	}
	start := len(a.block)
	a.block = append(a.block, s...)
	return unsafe.String(&a.block[start], len(s))
}
