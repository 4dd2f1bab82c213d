package arena

// Values makes values of T a block at a time, and hands out again those
// given back: a state of a million users, made one allocation each, was
// most of the engine's allocations. The zero value is ready to use; it
// belongs to one goroutine.
//
// A block stays whole while any value in it is used, so Values suits
// values that are given back (evicted users, released records) or kept
// for good.
type Values[T any] struct {
	block []T
	free  []*T
}

// valuesBlock is how many values a block holds.
const valuesBlock = 64

// New returns a zero value.
func (v *Values[T]) New() *T {
	if n := len(v.free); n > 0 {
		x := v.free[n-1]
		v.free = v.free[:n-1]
		var zero T
		*x = zero
		return x
	}
	if len(v.block) == 0 {
		v.block = make([]T, valuesBlock)
	}
	x := &v.block[0]
	v.block = v.block[1:]
	return x
}

// Free gives x back: nothing may use it after.
func (v *Values[T]) Free(x *T) { v.free = append(v.free, x) }
