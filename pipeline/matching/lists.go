package matching

import (
	"context"
	"slices"
	"sync"

	"everywhere/arena"
	"everywhere/models/match"
	"everywhere/pipeline/sink"
)

// Lists is a chunk of published lists, kept as data rather than written
// out: the suggestions sink's goroutine writes them as the topic carries
// them (ProduceLists). A city's region is matched by one goroutine, which
// in a catch-up at 10,000 users works on alone after the rest of the
// engine has caught up; writing a list out (AppendList, 1.8 µs) took
// more of its time than copying it here (a tenth of that), and another
// goroutine can do the writing on a core the matcher leaves idle.
type Lists struct {
	ids   arena.Strings // the copied ids: never written over, so safe to read once handed on
	lists []keptList
	sugg  []match.Suggestion
}

// keptList is one list: its suggestions are sugg[from:to].
type keptList struct {
	l        match.List // Suggestions nil
	ts       int64      // when it was published (the topic's ts)
	from, to int
}

var listsPool = sync.Pool{New: func() any { return new(Lists) }}

// NewLists returns an empty chunk.
func NewLists() *Lists { return listsPool.Get().(*Lists) }

// Release empties ls and returns it to the pool.
func (ls *Lists) Release() {
	clear(ls.lists) // no id outlives the chunk by a reference
	clear(ls.sugg)
	ls.lists, ls.sugg = ls.lists[:0], ls.sugg[:0]
	listsPool.Put(ls)
}

// Add copies l, published at processing time ts (Unix ms): l's strings
// and suggestions are only valid during the publish call.
func (ls *Lists) Add(l *match.List, ts int64) {
	from := len(ls.sugg)
	ls.sugg = append(ls.sugg, l.Suggestions...)
	for i := range ls.sugg[from:] {
		s := &ls.sugg[from+i]
		s.HelperID = ls.ids.Copy(s.HelperID)
	}
	k := keptList{l: *l, ts: ts, from: from, to: len(ls.sugg)}
	k.l.Suggestions = nil
	k.l.NeedID, k.l.RequesterID = ls.ids.Copy(l.NeedID), ls.ids.Copy(l.RequesterID)
	ls.lists = append(ls.lists, k)
}

// listBytes and suggestionBytes are about what AppendList writes for a
// list and for each suggestion, besides their ids and the model's name:
// with the longest numbers, some 140 and 180 bytes.
const (
	listBytes       = 160
	suggestionBytes = 200
)

// writtenSize is about what appendTo writes for the lists as model's,
// keys included: worked out on the sink's goroutine, not the matcher's.
func (ls *Lists) writtenSize(model string) int {
	n := 0
	for i := range ls.lists {
		l := &ls.lists[i].l
		n += listBytes + 2*len(l.NeedID) + len(l.RequesterID) + len(model) // the need's id is the key too
	}
	for i := range ls.sugg {
		n += suggestionBytes + len(ls.sugg[i].HelperID)
	}
	return n
}

// Len is the number of lists.
func (ls *Lists) Len() int { return len(ls.lists) }

// appendTo writes every list to p as a message keyed by its need.
func (ls *Lists) appendTo(p *sink.Pack, model string) {
	for i := range ls.lists {
		k := &ls.lists[i]
		l := k.l
		l.Suggestions = ls.sugg[k.from:k.to]
		p.Begin(0, l.NeedID) // keyed: the producer's partitioner places it
		p.Buf = AppendList(p.Buf, &l, model, k.ts)
		p.End()
	}
}

// ProduceLists returns the suggestions sink's write function: it writes
// the lists of a batch of chunks as model's, publishes them in one
// synchronous call and releases the chunks once written. A failed write
// keeps them: the batcher tries the same batch again.
func ProduceLists(w *sink.Producer, model string) func(ctx context.Context, batch []*Lists) error {
	return func(ctx context.Context, batch []*Lists) error {
		p := sink.NewPack()
		defer p.Release()
		// The pack's buffer is made large enough at once: a catch-up's
		// batch writes megabytes, and growing into them by doubling
		// copied each byte twice on average (growslice was a quarter of
		// this sink's CPU).
		size := 0
		for _, ls := range batch {
			size += ls.writtenSize(model)
		}
		p.Buf = slices.Grow(p.Buf, size)
		for _, ls := range batch {
			ls.appendTo(p, model)
		}
		if p.Len() > 0 {
			if err := w.WriteMessages(ctx, p.Messages()...); err != nil {
				return err
			}
		}
		for _, ls := range batch {
			ls.Release()
		}
		return nil
	}
}
