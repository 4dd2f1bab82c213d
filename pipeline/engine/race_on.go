//go:build race

package engine

// heapReserveMax bounds the heap reserved for huge pages (see
// adviseHugePages). Under the race detector, the collection that frees a
// gigabyte's reserve takes half a second, the detector clearing its
// shadow of it, at every start of an engine the tests run: race builds
// reserve a little, enough to take the same path.
const heapReserveMax = 64 << 20
