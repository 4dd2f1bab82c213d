package match

// staticBuckets is how many bands of static bound a dense cell sorts its
// helpers into. The bands are equally wide, from the highest static bound
// the weights allow down to 0: with the default weights a band is 0.0125
// wide, and the helpers of BenchmarkQuery's city fill about fifteen.
const staticBuckets = 32

// sortAbove is how many helpers a cell holds before it sorts them into
// bands, and flatBelow how few before it keeps them in one list again
// (apart, so that a cell at the edge does not switch back and forth). Up
// to MaxPerCell a query examines everyone anyway, and one list is read
// in one sweep where thirty scattered ones would each cost a cache miss.
const (
	sortAbove = MaxPerCell
	flatBelow = MaxPerCell / 2
)

// bands places static bounds in a dense cell's buckets.
type bands struct {
	top   int // the highest static bound the weights allow
	width int // of a band, in units of staticBound
	// tops[b] is the highest static bound in bucket b, as a score; the
	// one list of a flat cell counts as bucket 0.
	tops [staticBuckets]float64
}

func newBands(p *Params) bands {
	w := &p.Weights
	top := int(toStaticBound(w.Reliability + w.Credit + w.Recency + 1e-6))
	bs := bands{top: top, width: (top + staticBuckets) / staticBuckets}
	for b := range bs.tops {
		bs.tops[b] = staticBound(max(top-b*bs.width, 0)).float()
	}
	return bs
}

// of returns the bucket of static bound s: 0 for the highest band.
func (bs *bands) of(s staticBound) uint8 {
	return uint8(min(max(bs.top-int(s), 0)/bs.width, staticBuckets-1))
}

// cell is one H3 cell of the index: its available helpers, and what a
// query's walk needs to know of it.
//
// A cell of up to sortAbove helpers keeps them in one list, oldest ping
// first. A denser one sorts them into buckets by static bound (see
// bands), each oldest ping first, and a query takes the best bucket
// first and stops at the first that cannot beat its k-th best: in a
// stadium the helpers examined are the likeliest to rank, and most of
// those that cannot are never read. Separate lists keep a ping's move a
// swap and an append.
type cell struct {
	id      uint64
	members []member                 // every helper of a flat cell
	sorted  *[staticBuckets][]member // the buckets of a dense cell, nil when flat
	full    uint32                   // bit b set when list b holds someone
	count   int32                    // helpers in all lists
	// nbrs are the numbers (see Index.cellv) of the neighbours, -1 past
	// the last (a pentagon has five), filled on the first walk through
	// the cell: a query's walk reads only numbers and the dense stamps,
	// and dereferences a cell only when it reaches it.
	nbrs     [6]int32
	num      int32 // this cell's number
	area     int32 // its area's number, and its place in the area's list
	inArea   int32
	walked   bool
	lat, lng float64
	centred  bool
}

// list returns the cell's list b: a dense cell's bucket b, a flat cell's
// only list for 0.
func (cl *cell) list(b uint8) *[]member {
	if cl.sorted != nil {
		return &cl.sorted[b]
	}
	return &cl.members
}

// insert lists the helper in slot in its cell, with static bound st, as
// the most recent of its list.
func (x *Index) insert(s int32, st staticBound) {
	h := &x.helpers[s]
	cl := x.cellAt(h.cell)
	if cl.sorted == nil && cl.count >= sortAbove {
		x.sort(cl)
	}
	h.bucket = 0
	if cl.sorted != nil {
		h.bucket = x.bands.of(st)
	}
	l := cl.list(h.bucket)
	h.slot = int32(len(*l))
	*l = append(*l, member{slot: s, lat: h.lat, lng: h.lng, static: st, skills: h.skills})
	cl.full |= 1 << h.bucket
	cl.count++
	x.entered(cl)
}

// remove takes the helper in slot out of its cell's list.
func (x *Index) remove(s int32) {
	h := &x.helpers[s]
	cl := x.cells[h.cell]
	l := cl.list(h.bucket)
	last := (*l)[len(*l)-1]
	(*l)[h.slot] = last
	x.helpers[last.slot].slot = h.slot
	*l = (*l)[:len(*l)-1]
	if len(*l) == 0 {
		cl.full &^= 1 << h.bucket
	}
	cl.count--
	x.left(cl)
	h.slot = -1
	if cl.sorted != nil && cl.count < flatBelow {
		x.flatten(cl)
	}
}

// sort moves a flat cell's helpers into buckets, oldest first, so that
// each bucket keeps their order.
func (x *Index) sort(cl *cell) {
	cl.sorted = new([staticBuckets][]member)
	cl.full = 0
	for _, m := range cl.members {
		b := x.bands.of(m.static)
		h := &x.helpers[m.slot]
		h.bucket, h.slot = b, int32(len(cl.sorted[b]))
		cl.sorted[b] = append(cl.sorted[b], m)
		cl.full |= 1 << b
	}
	cl.members = nil
}

// flatten moves a dense cell's helpers, now few, back into one list.
func (x *Index) flatten(cl *cell) {
	for b := range cl.sorted {
		for _, m := range cl.sorted[b] {
			h := &x.helpers[m.slot]
			h.bucket, h.slot = 0, int32(len(cl.members))
			cl.members = append(cl.members, m)
		}
	}
	cl.sorted = nil
	cl.full = 0
	if len(cl.members) > 0 {
		cl.full = 1
	}
}

// member returns the cell entry of h, which is available.
func (x *Index) member(h *helper) *member { return &(*x.cells[h.cell].list(h.bucket))[h.slot] }

// restatic refreshes the bound kept in the helper's cell entry, moving it
// to the bucket of its new bound in a dense cell.
func (x *Index) restatic(h *helper) {
	if h.slot < 0 {
		return
	}
	st := x.static(h)
	m := x.member(h)
	if x.cells[h.cell].sorted == nil || x.bands.of(st) == h.bucket {
		m.static, m.skills = st, h.skills
		return
	}
	s := m.slot
	x.remove(s)
	x.insert(s, st)
}
