//go:build !race

package engine

// heapReserveMax bounds the heap reserved for huge pages (see
// adviseHugePages): about what the engine holds at 1,000,000 users.
const heapReserveMax = 1 << 30
