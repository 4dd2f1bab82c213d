package arena

import "unsafe"

// Pages holds values of T by a number handed out elsewhere (by IDs, or
// Slots), a block at a time: a value never moves, so a pointer to it stays
// valid while others are added, as it would not in a slice that grows.
// The zero value is ready to use; it belongs to one goroutine.
type Pages[T any] struct {
	blocks [][]T
}

// pageBytes is the size of a block. A block is a large allocation, which
// the runtime rounds up to whole 8 KiB pages: blocks of a fixed count of
// values of 464 bytes each wasted a tenth of the space, where 64 KiB of
// them waste at most one value's size.
const pageBytes = 64 << 10

// At returns the value numbered n (n >= 0), zero until set, making the
// blocks up to it.
func (p *Pages[T]) At(n int32) *T {
	per := p.per()
	for n/per >= int32(len(p.blocks)) {
		p.blocks = append(p.blocks, make([]T, per))
	}
	return &p.blocks[n/per][n%per]
}

// per is how many values a block holds.
func (p *Pages[T]) per() int32 {
	var zero T
	return int32(max(1, pageBytes/max(unsafe.Sizeof(zero), 1)))
}
