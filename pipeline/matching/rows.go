package matching

import (
	"cmp"
	"slices"
	"strings"
	"sync"
	"time"

	"everywhere/models/match"
	"everywhere/pipeline/sink"
)

// SuggestionsTable is where every published list is written, one row per
// suggested helper; (need_id, version, rank) is its key.
var SuggestionsTable = sink.Table{Name: "suggestions", Columns: []string{"need_id", "version", "rank", "requester_id", "helper_id",
	"score", "distance_m", "reason_distance", "reason_reliability", "reason_skill", "reason_credit", "reason_recency",
	"model", "event_ts", "event_time"}, Order: inKeyOrder}

// inKeyOrder puts a batch of suggestion rows in the table's key order,
// (need_id, version, rank), moving whole lists: ClickHouse then finds the
// insert sorted and skips sorting it. A list's rows lie together in a
// block, ranks 1, 2, ... (a list cut by a block's end goes on at the
// start of the next), so sorting the lists sorts the rows: a tenth as
// many things to order, each compared by its first row. Inserting
// 100,000 rows of 10,000 lists in the order they were published took
// the server 61 to 94 ms of CPU, and 39 to 59 ms in key order (two
// series of six inserts each).
func inKeyOrder(batch []*sink.Rows, spans []sink.Span) []sink.Span {
	for c, r := range batch {
		ranks := r.Cols[2].([]uint8)
		from := 0
		for i := 1; i <= len(ranks); i++ {
			if i == len(ranks) || ranks[i] != ranks[i-1]+1 {
				spans = append(spans, sink.Span{Chunk: int32(c), From: int32(from), To: int32(i)})
				from = i
			}
		}
	}
	slices.SortFunc(spans, func(a, b sink.Span) int {
		ca, cb := batch[a.Chunk].Cols, batch[b.Chunk].Cols
		if c := strings.Compare(ca[0].(*sink.Strings).View(int(a.From)), cb[0].(*sink.Strings).View(int(b.From))); c != 0 {
			return c
		}
		if c := cmp.Compare(ca[1].([]uint32)[a.From], cb[1].([]uint32)[b.From]); c != 0 {
			return c
		}
		return cmp.Compare(ca[2].([]uint8)[a.From], cb[2].([]uint8)[b.From])
	})
	return spans
}

// blockRows is how many suggestion rows a block holds, about 250 KB: a
// thousand lists of ten make five blocks.
const blockRows = 2048

// rowBlock gathers up to blockRows suggestion rows, column by column, each
// column made with room for all of them: a row once written never moves.
//
// A run's rows were gathered in columns as long as the run, given room
// for as many rows as the run before. A catch-up's runs at the city's
// partition hold 50,000 to 120,000 rows, changing by up to half from one
// run to the next: a run longer than the one before grew every column a
// quarter at a time, each step a copy of the whole column into fresh
// memory, and growing them was four fifths of the time spent adding rows.
// Blocks of a fixed size go to the table as they fill and come back
// emptied once written (rowBlocks), so rows are copied once, however long
// the run.
//
// The string columns are sink.Strings: rows wait up to a flush interval
// for their insert, and a []string per column held a pointer per row for
// the collector to follow meanwhile.
type rowBlock struct {
	need, requester, helper, model sink.Strings
	version                        []uint32
	rank                           []uint8
	score, dist                    []float32
	rDist, rRel, rSkill, rCred     []float32
	rRec                           []float32
	eventTS                        []uint64
	eventTime                      []int64 // Unix seconds
}

// rowBlocks holds blocks written and emptied, for any partition to fill.
var rowBlocks = sync.Pool{New: func() any { return newBlock() }}

// idWidth is room per row for an id in a new block; a block whose ids are
// longer grows its string columns once and keeps the room.
const idWidth = 16

func newBlock() *rowBlock {
	b := &rowBlock{version: make([]uint32, 0, blockRows), rank: make([]uint8, 0, blockRows),
		score: make([]float32, 0, blockRows), dist: make([]float32, 0, blockRows),
		rDist: make([]float32, 0, blockRows), rRel: make([]float32, 0, blockRows), rSkill: make([]float32, 0, blockRows),
		rCred: make([]float32, 0, blockRows), rRec: make([]float32, 0, blockRows),
		eventTS: make([]uint64, 0, blockRows), eventTime: make([]int64, 0, blockRows)}
	for _, s := range b.strings() {
		s.Grow(blockRows, idWidth)
	}
	return b
}

func (b *rowBlock) strings() [4]*sink.Strings {
	return [...]*sink.Strings{&b.need, &b.requester, &b.helper, &b.model}
}

// len is the number of rows in b; room what it can still take.
func (b *rowBlock) len() int  { return len(b.version) }
func (b *rowBlock) room() int { return blockRows - len(b.version) }

// add appends the rows of suggestions from of list l; et is l.EventTS in
// Unix seconds. The caller leaves them room.
func (b *rowBlock) add(l *match.List, from, to int, model string, et int64) {
	for i := from; i < to; i++ {
		s := &l.Suggestions[i]
		b.need.Add(l.NeedID)
		b.version = append(b.version, l.Version)
		b.rank = append(b.rank, uint8(i+1))
		b.requester.Add(l.RequesterID)
		b.helper.Add(s.HelperID)
		b.score = append(b.score, float32(s.Score))
		b.dist = append(b.dist, float32(s.DistanceM))
		b.rDist = append(b.rDist, float32(s.Reasons.Distance))
		b.rRel = append(b.rRel, float32(s.Reasons.Reliability))
		b.rSkill = append(b.rSkill, float32(s.Reasons.Skill))
		b.rCred = append(b.rCred, float32(s.Reasons.Credit))
		b.rRec = append(b.rRec, float32(s.Reasons.Recency))
		b.model.Add(model)
		b.eventTS = append(b.eventTS, uint64(l.EventTS))
		b.eventTime = append(b.eventTime, et)
	}
}

// rows hands b to a table: it goes back to rowBlocks once written.
func (b *rowBlock) rows() *sink.Rows {
	return &sink.Rows{N: b.len(), Cols: []any{&b.need, b.version, b.rank, &b.requester, &b.helper, b.score, b.dist,
		b.rDist, b.rRel, b.rSkill, b.rCred, b.rRec, &b.model, b.eventTS, b.eventTime}, Sent: b.sent}
}

// sent empties b, keeping its room, and gives it to rowBlocks.
func (b *rowBlock) sent() {
	for _, s := range b.strings() {
		s.Reset()
	}
	b.version, b.rank, b.score, b.dist = b.version[:0], b.rank[:0], b.score[:0], b.dist[:0]
	b.rDist, b.rRel, b.rSkill, b.rCred, b.rRec = b.rDist[:0], b.rRel[:0], b.rSkill[:0], b.rCred[:0], b.rRec[:0]
	b.eventTS, b.eventTime = b.eventTS[:0], b.eventTime[:0]
	rowBlocks.Put(b)
}

// rows gathers a partition's suggestion rows in blocks: the one being
// filled, and those filled and not yet handed to the table.
type rows struct {
	cur  *rowBlock
	full []*rowBlock
}

// add appends a list's rows.
func (r *rows) add(l *match.List, model string) {
	et := time.UnixMilli(l.EventTS).Unix()
	for from := 0; from < len(l.Suggestions); {
		if r.cur == nil {
			r.cur = rowBlocks.Get().(*rowBlock)
		}
		to := min(len(l.Suggestions), from+r.cur.room())
		r.cur.add(l, from, to, model, et)
		from = to
		if r.cur.room() == 0 {
			r.full = append(r.full, r.cur)
			r.cur = nil
		}
	}
}

// hand gives the full blocks to write, and the one being filled too
// (if it holds rows) when all is set, in the order filled. The rows
// keep none of them: after an error the rest are dropped, as the run
// they belong to is read again.
func (r *rows) hand(write func(*rowBlock) error, all bool) error {
	if all && r.cur != nil {
		if r.cur.len() > 0 {
			r.full = append(r.full, r.cur)
		} else {
			rowBlocks.Put(r.cur)
		}
		r.cur = nil
	}
	var err error
	for _, b := range r.full {
		if err == nil {
			err = write(b)
		}
	}
	clear(r.full)
	r.full = r.full[:0]
	return err
}
