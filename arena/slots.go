package arena

// Slots makes values of T a block at a time, like Values, but names each
// by a number rather than a pointer. A record that refers to its value by
// number holds no pointer, so the collector need not scan a block of
// such records: a million small records of which a few refer to a large
// value cost it nothing to mark. The zero value is ready to use; it
// belongs to one goroutine.
type Slots[T any] struct {
	pages Pages[T] // slot i is page value i-1
	next  int32    // the last slot handed out
	free  []int32
}

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
	return s.next
}

// At returns the value numbered i, which New handed out and Free has not
// taken back. The pointer stays valid: blocks never move.
func (s *Slots[T]) At(i int32) *T { return s.pages.At(i - 1) }

// Free takes i back: nothing may use its value after.
func (s *Slots[T]) Free(i int32) { s.free = append(s.free, i) }

// Len is how many values are in use.
func (s *Slots[T]) Len() int { return int(s.next) - len(s.free) }
