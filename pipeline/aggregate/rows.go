package aggregate

import (
	"everywhere/pipeline/sink"
)

func rowsOf(n int, cols ...any) *sink.Rows { return &sink.Rows{Cols: cols, N: n} }

// sourced holds the columns every watermarked table starts with or ends
// its key with: the cell and minute of the row, and the source partition
// and chunk offset that make a replayed chunk skippable.
type sourced struct {
	cells   []uint64
	minutes []int64 // Unix seconds
	parts   []uint16
	offs    []uint64
}

func newSourced(n int) sourced {
	return sourced{make([]uint64, 0, n), make([]int64, 0, n), make([]uint16, 0, n), make([]uint64, 0, n)}
}

func (s *sourced) add(k cellMinute, partition int, last int64) {
	s.cells = append(s.cells, k.cell)
	s.minutes = append(s.minutes, minuteTime(k.minute))
	s.parts = append(s.parts, uint16(partition))
	s.offs = append(s.offs, uint64(last))
}
