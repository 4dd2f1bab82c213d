// Package matching runs the matcher of one partition of the regions topic:
// it merges the records of every source in event-time order, feeds them to
// a match.Matcher, and publishes the lists it makes.
package matching

import (
	"math"

	"everywhere/arena"
	"everywhere/events"
	"everywhere/models/match"
	"everywhere/pipeline/route"
)

// Merge orders the records of a regions partition by event time across
// their sources. Each source (a partition of the user or need topics)
// writes its records in its own event-time order and says, with each
// record and in watermark records, how far it has got. A record is
// released only once every other source has either got past it, has a
// record of its own waiting, or is idle. So the matcher sees the same
// sequence however the sources' writes interleave in the partition: the
// same input gives the same suggestions.
//
// A record is ordered by its source's watermark when it was written, not
// by its own time: the same for an event in order, and for a late event
// (older than others its source had handled) the time the source had
// reached, which is as much a function of the input as the event's own.
// Ties go by source number.
type Merge struct {
	src []source
	out route.Record  // the record Pop returns
	ids arena.Strings // the strings of queued records
	// Needs and outcomes queued, made a block at a time and reused once
	// released: an outcome reaches every region, so each regions
	// partition queues one for about every thirty events, and while one
	// source catches up the others' records wait by the thousand.
	needs     arena.Values[needAt]
	outcomes  arena.Values[outcomeAt]
	transfers arena.Values[transferAt]
	free      []*block // blocks of queued records, reused
}

type source struct {
	q queue
	// first is the order key of the queue's front record, if any: kept
	// here, so that finding the earliest source reads the sources alone,
	// not the front of each queue, which waits long and cold in a
	// catch-up.
	first int64
	wm    int64 // the source sends nothing older than this from now on
	idle  bool
	known bool // heard from at least once
}

// blockLen is how many records a block of a queue holds: 256 of 112
// bytes, 28 KiB, under the 32 KiB past which Go allocates each large
// object apart and zeroes it whole.
const blockLen = 256

type block [blockLen]queued

// queue holds a source's records waiting, in blocks that the merge's
// sources share and reuse. While one source catches up, the others'
// records wait by the hundred thousand: a slice would be copied into a
// larger one again and again as it grew, and moved down as it drained,
// where a queue of blocks only takes one more, or gives one back.
type queue struct {
	blocks     []*block
	head, tail int // next to pop in blocks[0]; next free in the last
}

func (q *queue) len() int {
	if len(q.blocks) == 0 {
		return 0
	}
	return (len(q.blocks)-1)*blockLen + q.tail - q.head
}

// front is the next record to pop; the queue must not be empty.
func (q *queue) front() *queued { return &q.blocks[0][q.head] }

// push makes room for one more record and returns it, zero.
func (q *queue) push(m *Merge) *queued {
	if len(q.blocks) == 0 || q.tail == blockLen {
		var b *block
		if n := len(m.free); n > 0 {
			b, m.free = m.free[n-1], m.free[:n-1]
		} else {
			b = new(block)
		}
		q.blocks = append(q.blocks, b)
		q.tail = 0
	}
	q.tail++
	return &q.blocks[len(q.blocks)-1][q.tail-1]
}

// pop drops the front record, zeroing it so that it holds nothing alive,
// and gives back a block it emptied.
func (q *queue) pop(m *Merge) {
	*q.front() = queued{}
	q.head++
	if q.head < blockLen && (len(q.blocks) > 1 || q.head < q.tail) {
		return
	}
	m.free = append(m.free, q.blocks[0])
	n := copy(q.blocks, q.blocks[1:])
	q.blocks[n] = nil
	q.blocks = q.blocks[:n]
	q.head = 0
	if n == 0 {
		q.tail = 0
	}
}

// queued is a record waiting, kept small: helpers are most of them, and
// a catch-up can hold many while the slowest source catches up.
type queued struct {
	key      int64
	offset   int64
	kind     route.Kind
	helper   match.HelperState
	need     *needAt
	outcome  *outcomeAt
	transfer *transferAt
}

// needAt is a need and the moves it made between regions' partitions
// before it (route.Record.Moves).
type needAt struct {
	n     events.Need
	moves int
}

// outcomeAt is an outcome and its offset where its source read it.
type outcomeAt struct {
	o      events.Outcome
	offset int64
}

// transferAt is a transfer and its event time.
type transferAt struct {
	tr route.Transfer
	ts int64
}

// NewMerge returns a merge of n sources.
func NewMerge(n int) *Merge { return &Merge{src: make([]source, n)} }

// Push takes record r, read at offset, copying what it keeps. A record
// from an unknown source number widens the merge: sources are partitions,
// and topics may gain some.
func (m *Merge) Push(r *route.Record, offset int64) {
	for r.Source >= len(m.src) {
		m.src = append(m.src, source{})
	}
	s := &m.src[r.Source]
	s.known = true
	s.idle = r.Idle
	s.wm = max(s.wm, r.WM)
	if r.Kind == route.KindWatermark {
		return
	}
	if s.q.len() == 0 {
		s.first = r.WM
	}
	q := s.q.push(m)
	q.key, q.offset, q.kind = r.WM, offset, r.Kind
	// Decoded strings are views: what is kept is copied.
	switch r.Kind {
	case route.KindHelper:
		q.helper = r.Helper
		q.helper.ID = m.ids.Copy(r.Helper.ID)
	case route.KindNeed:
		n := m.needs.New()
		*n = needAt{n: r.Need, moves: r.Moves}
		n.n.NeedID, n.n.UserID, n.n.Currency = m.ids.Copy(n.n.NeedID), m.ids.Copy(n.n.UserID), ""
		q.need = n
	case route.KindOutcome:
		o := m.outcomes.New()
		*o = outcomeAt{o: r.Outcome, offset: r.Offset}
		o.o.NeedID, o.o.HelperID = m.ids.Copy(o.o.NeedID), m.ids.Copy(o.o.HelperID)
		q.outcome = o
	case route.KindTransfer:
		x := m.transfers.New()
		x.tr, x.ts = r.Transfer, r.TS
		x.tr.From, x.tr.To, x.tr.TxnID = m.ids.Copy(x.tr.From), m.ids.Copy(x.tr.To), m.ids.Copy(x.tr.TxnID)
		q.transfer = x
	}
}

// Pop returns the next record in event-time order and its order key, or
// nil when the next one is not known yet. The record stays valid until the
// next Pop.
func (m *Merge) Pop() (*route.Record, int64) {
	// One pass finds the earliest queued record and the earliest an
	// empty source that is not idle may still send (lowWM, from source
	// low; an unknown source may send anything). Two passes, the second
	// asking each empty source against the first's answer, read the
	// sources twice for every record released.
	best, low := -1, -1
	lowWM := int64(math.MaxInt64)
	for i := range m.src {
		s := &m.src[i]
		switch {
		case len(s.q.blocks) > 0: // a queue holds a block only while it holds a record
			if best < 0 || s.first < m.src[best].first {
				best = i
			}
		case !s.idle:
			wm := s.wm
			if !s.known {
				wm = math.MinInt64
			}
			if wm < lowWM {
				low, lowWM = i, wm
			}
		}
	}
	if best < 0 {
		return nil, 0
	}
	b := &m.src[best]
	key := b.first
	if low >= 0 && (lowWM < key || lowWM == key && low < best) {
		return nil, 0 // source low may still send something that comes first
	}
	q := b.q.front()
	m.out.Kind, m.out.Source = q.kind, best
	switch q.kind {
	case route.KindHelper:
		m.out.Helper = q.helper
	case route.KindNeed:
		m.out.Need, m.out.Moves = q.need.n, q.need.moves
		m.needs.Free(q.need)
	case route.KindOutcome:
		m.out.Outcome, m.out.Offset = q.outcome.o, q.outcome.offset
		m.outcomes.Free(q.outcome)
	case route.KindTransfer:
		m.out.Transfer, m.out.TS = q.transfer.tr, q.transfer.ts
		m.transfers.Free(q.transfer)
	}
	b.q.pop(m)
	if b.q.len() > 0 {
		b.first = b.q.front().key
	}
	return &m.out, key
}

// Low is the event time the merge has passed: every record released from
// now on has an order key of at least Low. Idle sources do not hold it
// back; when all are idle it is the furthest any got.
func (m *Merge) Low() int64 {
	low, furthest, active := int64(math.MaxInt64), int64(0), false
	for i := range m.src {
		s := &m.src[i]
		furthest = max(furthest, s.wm)
		switch {
		case s.q.len() > 0:
			low, active = min(low, s.first), true
		case !s.known:
			return 0
		case !s.idle:
			low, active = min(low, s.wm), true
		}
	}
	if !active {
		return furthest
	}
	return low
}

// Held is the offset of the first record read and not yet released, or -1.
func (m *Merge) Held() int64 {
	held := int64(-1)
	for i := range m.src {
		s := &m.src[i]
		if s.q.len() > 0 && (held < 0 || s.q.front().offset < held) {
			held = s.q.front().offset
		}
	}
	return held
}

// Queued is the number of records waiting.
func (m *Merge) Queued() int {
	n := 0
	for i := range m.src {
		n += m.src[i].q.len()
	}
	return n
}
