package matching

import (
	"strconv"
	"testing"
	"unsafe"

	"everywhere/models/match"
	"everywhere/pipeline/sink"
)

// TestListsWriteWhatWasPublished: a chunk of lists writes each as
// AppendList would have when it was published, keyed by its need, though
// the ids it was handed were views the matcher wrote over right after
// (as the strings of a List are valid only during the publish call), and
// again after the chunk went back to the pool and was filled anew.
func TestListsWriteWhatWasPublished(t *testing.T) {
	const model = "match-v1"
	buf := make([]byte, 0, 4096)
	view := func(s string) string { // a string the caller writes over later
		buf = append(buf, s...)
		return unsafe.String(&buf[len(buf)-len(s)], len(s))
	}
	for round := range 3 {
		buf = buf[:0]
		ls := NewLists()
		var want []string
		var keys []string
		for i := range 5 {
			l := &match.List{NeedID: view("need-" + strconv.Itoa(round*10+i)), RequesterID: view("req-" + strconv.Itoa(i)),
				Version: uint32(i + 1), EventTS: 1_700_000_000_000 + int64(i)}
			for j := range i * 3 { // the first list is empty
				l.Suggestions = append(l.Suggestions, match.Suggestion{HelperID: view("helper-" + strconv.Itoa(j)),
					Score: 0.9 - float64(j)/100, DistanceM: 100 * float64(j+1),
					Reasons: match.Reasons{Distance: 0.1, Reliability: 0.2, Skill: 0.3, Credit: 0.1, Recency: 0.05}})
			}
			ts := 1_800_000_000_000 + int64(i)
			want = append(want, string(AppendList(nil, l, model, ts)))
			keys = append(keys, "need-"+strconv.Itoa(round*10+i))
			ls.Add(l, ts)
		}
		for i := range buf {
			buf[i] = 'x' // the matcher's buffers move on
		}
		if ls.Len() != 5 {
			t.Fatalf("%d lists, want 5", ls.Len())
		}
		p := sink.NewPack()
		ls.appendTo(p, model)
		msgs := p.Messages()
		if len(msgs) != len(want) {
			t.Fatalf("%d messages, want %d", len(msgs), len(want))
		}
		for i, m := range msgs {
			if string(m.Key) != keys[i] || string(m.Value) != want[i] {
				t.Fatalf("round %d, list %d: key %q value %s\nwant key %q value %s", round, i, m.Key, m.Value, keys[i], want[i])
			}
		}
		p.Release()
		ls.Release()
	}
}

// BenchmarkListsAdd: a published list of ten kept for the suggestions
// sink, a chunk handed on every 64 lists as Handle calls do.
func BenchmarkListsAdd(b *testing.B) {
	b.ReportAllocs()
	l := &match.List{NeedID: "need-000123", RequesterID: "user-004567", Version: 3, EventTS: 1_700_000_000_000}
	for i := range 10 {
		l.Suggestions = append(l.Suggestions, match.Suggestion{HelperID: "user-" + strconv.Itoa(100_000+i), Score: 0.5, DistanceM: 800})
	}
	ls := NewLists()
	for i := 0; b.Loop(); i++ {
		ls.Add(l, 1_800_000_000_000)
		if i%64 == 63 {
			ls.Release()
			ls = NewLists()
		}
	}
}

// TestListsSizeCoversWhatIsWritten: the room ProduceLists makes at once
// for a chunk holds its lists written out, keys and all, for lists with
// the longest numbers and scores of every rank, so that writing them
// does not grow the buffer again.
func TestListsSizeCoversWhatIsWritten(t *testing.T) {
	const model = "match-v1"
	ls := NewLists()
	defer ls.Release()
	for i := range 50 {
		l := &match.List{NeedID: "need-" + strconv.Itoa(i), RequesterID: "u" + strconv.Itoa(1_000_000+i),
			Version: 1<<32 - 1, EventTS: -1 << 63}
		for j := range i % 16 {
			l.Suggestions = append(l.Suggestions, match.Suggestion{HelperID: "u" + strconv.Itoa(j),
				Score: 0.1234, DistanceM: -1e18,
				Reasons: match.Reasons{Distance: 0.1234, Reliability: 0.1234, Skill: 0.1234, Credit: 0.1234, Recency: 0.1234}})
		}
		ls.Add(l, -1<<63)
	}
	p := sink.NewPack()
	defer p.Release()
	ls.appendTo(p, model)
	if room := ls.writtenSize(model); len(p.Buf) > room {
		t.Fatalf("%d lists wrote %d bytes, more than the %d made room for", ls.Len(), len(p.Buf), room)
	}
}
