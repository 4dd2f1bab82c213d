package sink

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"
)

// A failed Send does not say whether the rows were written. ClickHouse
// answers an insert after it has written its parts, so a server that
// stops between the two, or a connection lost then, fails a write whose
// rows are in the table; writing them again counts them twice. That is
// harmless for the tables that replace rows by key, not for the count
// tables, whose rows are summed.
//
// A count table's rows carry their chunk's source partition and offset,
// and ClickHouse writes an insert's rows of one PARTITION BY value as one
// part, all or nothing. So after a failed Send, the next write to a
// table with a PartTime first reads which (src_partition, src_offset,
// part time) triples of its rows the table holds, and writes only the
// rows whose triple it lacks. A chunk whose rows span two months, one
// of whose parts landed, is written in part; a chunk that landed whole
// is not written again.

// sourceCols finds the columns recheck reads in t: the source partition
// and offset and the part time. A table with a PartTime that lacks one,
// or that also has an Order, is a mistake in the program.
func sourceCols(t Table) [3]int {
	if t.Order != nil {
		panic(fmt.Sprintf("sink: table %s has both an Order and a PartTime", t.Name))
	}
	var idx [3]int
	for k, name := range []string{"src_partition", "src_offset", t.PartTime} {
		idx[k] = slices.Index(t.Columns, name)
		if idx[k] < 0 {
			panic(fmt.Sprintf("sink: table %s with PartTime %s has no column %s", t.Name, t.PartTime, name))
		}
	}
	return idx
}

// source is what identifies a row's part: its chunk's source partition
// and offset and its part time in Unix seconds.
type source struct {
	partition uint16
	offset    uint64
	time      int64
}

// recheck returns the spans of the batch's rows that the table does not
// hold, in the chunks' order: nil when it holds none of them, and all
// when it holds every one.
func (w *inserter) recheck(ctx context.Context, batch []*Rows) (keep []Span, all bool, err error) {
	w.sources = w.sources[:0]
	for c, rows := range batch {
		if w.sources, err = w.appendSources(w.sources, rows); err != nil {
			return nil, false, fmt.Errorf("chunk %d: %w", c, err)
		}
	}
	if len(w.sources) == 0 {
		return nil, false, nil
	}
	var ask asked
	for _, s := range w.sources {
		ask.add(s)
	}
	landed, err := w.landed(ctx, &ask)
	if err != nil || len(landed) == 0 {
		return nil, false, err
	}
	w.spans = w.spans[:0]
	held, at := 0, 0 // at: the first row of chunk c in w.sources
	for c, rows := range batch {
		from := -1 // the start of the run of rows being kept
		for i, s := range w.sources[at : at+rows.N] {
			_, in := landed[s]
			switch {
			case in && from >= 0:
				w.spans = append(w.spans, Span{Chunk: int32(c), From: int32(from), To: int32(i)})
				from = -1
			case !in && from < 0:
				from = i
			}
			if in {
				held++
			}
		}
		if from >= 0 {
			w.spans = append(w.spans, Span{Chunk: int32(c), From: int32(from), To: int32(rows.N)})
		}
		at += rows.N
	}
	total := at
	if held > 0 {
		slog.Warn("insert tried again after a failed one: the rows it wrote after all are left out",
			"table", w.table.Name, "rows", total, "held", held)
		if w.held != nil {
			w.held(held)
		}
	}
	return w.spans, held == total, nil
}

// asked is what landed asks the table about: the partitions, offsets
// and months of a batch's sources.
type asked struct {
	parts  map[uint16]struct{}
	offs   map[uint64]struct{}
	months map[int]struct{} // as toYYYYMM gives them
}

// add adds s. A month is taken a day either side of s's time, in UTC:
// the server reckons months in its own time zone.
func (a *asked) add(s source) {
	if a.offs == nil {
		a.parts, a.offs, a.months = map[uint16]struct{}{}, map[uint64]struct{}{}, map[int]struct{}{}
	}
	a.parts[s.partition], a.offs[s.offset] = struct{}{}, struct{}{}
	for _, t := range [...]int64{s.time - 86_400, s.time, s.time + 86_400} {
		y, m, _ := time.Unix(t, 0).UTC().Date()
		a.months[y*100+int(m)] = struct{}{}
	}
}

// landed reads the sources the table holds among those asked. The pairs
// are not matched in the query (a tuple IN list of one element reads as
// a tuple, not a set, in 18.16): rows of another partition at one of
// the offsets come back too, and match none of the batch's. The months
// narrow the read to the table's parts that may hold them.
func (w *inserter) landed(ctx context.Context, a *asked) (map[source]struct{}, error) {
	var q strings.Builder
	fmt.Fprintf(&q, "SELECT DISTINCT src_partition, src_offset, %[1]s FROM %[2]s WHERE toYYYYMM(%[1]s) IN (", w.table.PartTime, w.table.Name)
	inList(&q, a.months)
	q.WriteString(") AND src_partition IN (")
	inList(&q, a.parts)
	q.WriteString(") AND src_offset IN (")
	inList(&q, a.offs)
	q.WriteString(")")
	rows, err := w.conn.Query(ctx, q.String())
	if err != nil {
		return nil, fmt.Errorf("reading which rows landed: %w", err)
	}
	defer rows.Close()
	landed := map[source]struct{}{}
	for rows.Next() {
		var s source
		var t time.Time
		if err := rows.Scan(&s.partition, &s.offset, &t); err != nil {
			return nil, fmt.Errorf("reading which rows landed: %w", err)
		}
		s.time = t.Unix()
		landed[s] = struct{}{}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading which rows landed: %w", err)
	}
	return landed, nil
}

// inList writes the set's numbers, comma-separated. They are numbers,
// so nothing can be injected.
func inList[K uint16 | uint64 | int](q *strings.Builder, set map[K]struct{}) {
	sep := ""
	for k := range set {
		q.WriteString(sep)
		q.WriteString(strconv.FormatInt(int64(k), 10))
		sep = ", "
	}
}

// appendSources appends the sources of the chunk's rows to dst: the
// partitions a []uint16, the offsets a []uint64, the part times a
// []int64 of Unix seconds (a DateTime) or a []time.Time.
func (w *inserter) appendSources(dst []source, rows *Rows) ([]source, error) {
	parts, ok1 := rows.Cols[w.src[0]].([]uint16)
	offs, ok2 := rows.Cols[w.src[1]].([]uint64)
	if !ok1 || !ok2 {
		return dst, fmt.Errorf("src_partition is %T and src_offset %T, not []uint16 and []uint64", rows.Cols[w.src[0]], rows.Cols[w.src[1]])
	}
	n := rows.N
	if len(parts) < n || len(offs) < n {
		return dst, fmt.Errorf("%d rows in a chunk whose src_partition holds %d and src_offset %d", n, len(parts), len(offs))
	}
	switch ts := rows.Cols[w.src[2]].(type) {
	case []int64:
		if len(ts) >= n {
			for i := range n {
				dst = append(dst, source{partition: parts[i], offset: offs[i], time: ts[i]})
			}
			return dst, nil
		}
	case []time.Time:
		if len(ts) >= n {
			for i := range n {
				dst = append(dst, source{partition: parts[i], offset: offs[i], time: ts[i].Unix()})
			}
			return dst, nil
		}
	default:
		return dst, fmt.Errorf("%s is %T, not []int64 or []time.Time", w.table.PartTime, ts)
	}
	return dst, fmt.Errorf("%d rows in a chunk whose %s holds fewer", n, w.table.PartTime)
}
