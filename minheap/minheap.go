// Package minheap is a binary min-heap of values ordered by a function.
// The simulator's schedule and the matcher's timers both use it, and both
// need ties broken by their own order so that the same input pops in the
// same sequence; container/heap would box every value in an interface.
package minheap

// Heap holds values of T, the least (by Less) on top. The zero value is
// not usable: make one with New.
type Heap[T any] struct {
	items []T
	less  func(a, b *T) bool
}

// New returns an empty heap ordered by less.
func New[T any](less func(a, b *T) bool) Heap[T] { return Heap[T]{less: less} }

// Len is the number of values held.
func (h *Heap[T]) Len() int { return len(h.items) }

// Peek returns the least value, which must exist.
func (h *Heap[T]) Peek() *T { return &h.items[0] }

// Reset empties the heap, keeping its storage.
func (h *Heap[T]) Reset() {
	clear(h.items)
	h.items = h.items[:0]
}

// Push adds x.
func (h *Heap[T]) Push(x T) {
	h.items = append(h.items, x)
	for i := len(h.items) - 1; i > 0; {
		p := (i - 1) / 2
		if !h.less(&h.items[i], &h.items[p]) {
			break
		}
		h.items[i], h.items[p] = h.items[p], h.items[i]
		i = p
	}
}

// Pop removes and returns the least value, which must exist.
func (h *Heap[T]) Pop() T {
	top := h.items[0]
	last := len(h.items) - 1
	h.items[0] = h.items[last]
	var zero T
	h.items[last] = zero
	h.items = h.items[:last]
	for i := 0; ; {
		l, r, m := 2*i+1, 2*i+2, i
		if l < last && h.less(&h.items[l], &h.items[m]) {
			m = l
		}
		if r < last && h.less(&h.items[r], &h.items[m]) {
			m = r
		}
		if m == i {
			return top
		}
		h.items[i], h.items[m] = h.items[m], h.items[i]
		i = m
	}
}
