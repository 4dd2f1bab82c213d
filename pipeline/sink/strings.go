package sink

import "unsafe"

// Strings is a String column whose rows lie end to end in one byte slice,
// each known by where it ends. A []string holds a pointer per row, which
// the collector follows at every collection for as long as the rows wait
// for their insert: the suggestion rows, ten per list, were the largest
// such wait under live load. A Strings column holds none.
//
// An inserter appends it to the table's column as the driver's []string,
// views into Bytes made for that append alone (see inserter.views).
type Strings struct {
	Bytes []byte
	Ends  []uint32 // Ends[i] is where row i ends in Bytes
}

// Add appends a row.
func (s *Strings) Add(v string) {
	s.Bytes = append(s.Bytes, v...)
	s.Ends = append(s.Ends, uint32(len(s.Bytes)))
}

// Len is the number of rows.
func (s *Strings) Len() int { return len(s.Ends) }

// Reset empties the column and keeps its room.
func (s *Strings) Reset() {
	s.Bytes, s.Ends = s.Bytes[:0], s.Ends[:0]
}

// Grow makes room for n more rows of about width bytes each.
func (s *Strings) Grow(n, width int) {
	if free := cap(s.Ends) - len(s.Ends); free < n {
		s.Ends = append(make([]uint32, 0, len(s.Ends)+n), s.Ends...)
	}
	if free := cap(s.Bytes) - len(s.Bytes); free < n*width {
		s.Bytes = append(make([]byte, 0, len(s.Bytes)+n*width), s.Bytes...)
	}
}

// appendViews appends the rows to dst as strings that share Bytes: they
// are valid while s is neither changed nor reused.
func (s *Strings) appendViews(dst []string) []string { return s.appendViewsOf(dst, 0, len(s.Ends)) }

// appendViewsOf appends rows from to to-1 as appendViews does.
func (s *Strings) appendViewsOf(dst []string, from, to int) []string {
	start := uint32(0)
	if from > 0 {
		start = s.Ends[from-1]
	}
	for _, end := range s.Ends[from:to] {
		if end == start {
			dst = append(dst, "")
			continue
		}
		dst = append(dst, unsafe.String(&s.Bytes[start], end-start))
		start = end
	}
	return dst
}

// View is row i as a string that shares Bytes, valid as appendViews'.
func (s *Strings) View(i int) string {
	start := uint32(0)
	if i > 0 {
		start = s.Ends[i-1]
	}
	if s.Ends[i] == start {
		return ""
	}
	return unsafe.String(&s.Bytes[start], s.Ends[i]-start)
}
