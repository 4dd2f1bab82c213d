package sink

import (
	"fmt"
	"time"
)

// Span is rows From to To-1 of a batch's chunk Chunk: the unit a table's
// Order moves.
type Span struct {
	Chunk    int32
	From, To int32
}

// gather appends column i of the batch's rows to the batch's column in
// the order of spans. Each column is gathered into a scratch slice the
// inserter keeps for it (w.scratch[i]), and appended once: the driver
// copies it.
func (w *inserter) gather(i int, batch []*Rows, spans []Span) error {
	var err error
	switch batch[0].Cols[i].(type) {
	case *Strings, []string:
		return w.gatherStrings(i, batch, spans)
	case []uint8:
		err = gatherInto[uint8](w, i, batch, spans)
	case []uint16:
		err = gatherInto[uint16](w, i, batch, spans)
	case []uint32:
		err = gatherInto[uint32](w, i, batch, spans)
	case []uint64:
		err = gatherInto[uint64](w, i, batch, spans)
	case []int64:
		err = gatherInto[int64](w, i, batch, spans)
	case []float32:
		err = gatherInto[float32](w, i, batch, spans)
	case []float64:
		err = gatherInto[float64](w, i, batch, spans)
	case []time.Time:
		err = gatherInto[time.Time](w, i, batch, spans)
	default:
		err = fmt.Errorf("a column of %T cannot be put in order", batch[0].Cols[i])
	}
	return err
}

// gatherInto gathers column i, a []T in every chunk, into the inserter's
// scratch for it and appends that. A chunk whose column i is of another
// type is an error, not a panic.
func gatherInto[T any](w *inserter, i int, batch []*Rows, spans []Span) error {
	dst, _ := w.scratch[i].([]T)
	dst = dst[:0]
	for _, s := range spans {
		col, ok := batch[s.Chunk].Cols[i].([]T)
		if !ok {
			return fmt.Errorf("chunk %d has a column of %T where the first has %T", s.Chunk, batch[s.Chunk].Cols[i], dst)
		}
		dst = append(dst, col[s.From:s.To]...)
	}
	_, err := w.cols[i].Append(dst)
	w.scratch[i] = dst
	return err
}

// gatherStrings gathers column i, a Strings or a []string in each chunk,
// as the []string of views the driver takes.
func (w *inserter) gatherStrings(i int, batch []*Rows, spans []Span) error {
	w.views = w.views[:0]
	defer func() { clear(w.views) }()
	for _, s := range spans {
		switch col := batch[s.Chunk].Cols[i].(type) {
		case *Strings:
			w.views = col.appendViewsOf(w.views, int(s.From), int(s.To))
		case []string:
			w.views = append(w.views, col[s.From:s.To]...)
		default:
			return fmt.Errorf("chunk %d has a column of %T where the first has strings", s.Chunk, col)
		}
	}
	_, err := w.cols[i].Append(w.views)
	return err
}
