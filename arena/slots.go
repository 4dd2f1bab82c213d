package arena

import "unsafe"

// Slots makes values of T a block at a time, like Values, but names each
// by a number rather than a pointer. A record that refers to its value by
// number holds no pointer, so the collector need not scan a block of
// such records: a million small records of which a few refer to a large
// value cost it nothing to mark. The zero value is ready to use; it
// belongs to one goroutine.
type Slots[T any] struct {
	blocks [][]T
	next   int32 // the last slot handed out
	free   []int32
}

// slotsBytes is the size of a block of Slots. A block is a large
// allocation, which the runtime rounds up to whole 8 KiB pages: blocks of
// a fixed count of values of 464 bytes each wasted a tenth of the space,
// where 64 KiB of them waste at most one value's size.
const slotsBytes = 64 << 10

// New returns the number of a zero value. It is never 0, so a zero field
// can say "none".
func (s *Slots[T]) New() int32 {
	if n := len(s.free); n > 0 {
		i := s.free[n-1]
		s.free = s.free[:n-1]
		var zero T
		*s.At(i) = zero
		return i
	}
	s.next++
	if per := s.per(); s.next > int32(len(s.blocks))*per {
		s.blocks = append(s.blocks, make([]T, per))
	}
	return s.next
}

// At returns the value numbered i, which New handed out and Free has not
// taken back. The pointer stays valid: blocks never move.
func (s *Slots[T]) At(i int32) *T {
	i--
	per := s.per()
	return &s.blocks[i/per][i%per]
}

// per is how many values a block holds.
func (s *Slots[T]) per() int32 {
	var zero T
	return int32(max(1, slotsBytes/max(unsafe.Sizeof(zero), 1)))
}

// Free takes i back: nothing may use its value after.
func (s *Slots[T]) Free(i int32) { s.free = append(s.free, i) }

// Len is how many values are in use.
func (s *Slots[T]) Len() int { return int(s.next) - len(s.free) }
