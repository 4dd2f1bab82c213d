package arena

import "unsafe"

// Names keeps strings for good and names each by a Name: numbers, not a
// pointer. A record that holds a Name holds no pointer, so a slice of a
// million such records is not scanned by the collector, where a string
// field made the whole slice its work at every collection. The blocks
// hold bytes only. The zero value is ready to use; it belongs to one
// goroutine.
type Names struct {
	blocks [][]byte
}

// Name is a string kept by Names: its block, where in it it starts, and
// its length.
type Name struct{ block, off, n uint32 }

// Add copies s in and returns its name.
func (a *Names) Add(s string) Name {
	last := len(a.blocks) - 1
	if last < 0 || cap(a.blocks[last])-len(a.blocks[last]) < len(s) {
		a.blocks = append(a.blocks, make([]byte, 0, max(blockSize, len(s))))
		last++
	}
	b := a.blocks[last]
	off := len(b)
	a.blocks[last] = append(b, s...)
	return Name{block: uint32(last), off: uint32(off), n: uint32(len(s))}
}

// At returns the string named n, which Add returned: a view into its
// block, which stays valid for as long as the view is kept.
func (a *Names) At(n Name) string {
	if n.n == 0 {
		return ""
	}
	return unsafe.String(&a.blocks[n.block][n.off], n.n)
}
