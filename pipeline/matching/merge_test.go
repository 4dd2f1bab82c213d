package matching

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"unsafe"

	"everywhere/models/match"
	"everywhere/pipeline/route"
)

func helperRec(src int, wm int64, id string) *route.Record {
	return &route.Record{Kind: route.KindHelper, Source: src, WM: wm, TS: wm, Helper: match.HelperState{ID: id}}
}

func watermark(src int, wm int64, idle bool) *route.Record {
	return &route.Record{Kind: route.KindWatermark, Source: src, WM: wm, Idle: idle}
}

func drain(m *Merge) string {
	out := ""
	for {
		r, key := m.Pop()
		if r == nil {
			return out
		}
		out += fmt.Sprintf("%s@%d ", r.Helper.ID, key)
	}
}

func TestMergeReleasesInEventTimeOnceEverySourceHasPassed(t *testing.T) {
	m := NewMerge(3)
	var off int64
	push := func(r *route.Record) { off++; m.Push(r, off) }

	push(helperRec(0, 100, "a"))
	push(helperRec(1, 90, "b"))
	if got := drain(m); got != "" {
		t.Fatalf("released %q before source 2 was heard from", got)
	}
	if m.Held() != 1 {
		t.Fatalf("held from offset %d, want 1", m.Held())
	}
	push(watermark(2, 95, false))
	if got := drain(m); got != "b@90 " {
		t.Fatalf("released %q, want b@90 (a waits for source 1 and 2 to pass 100)", got)
	}
	push(helperRec(1, 100, "c")) // same time as a: source 0 comes first
	push(watermark(2, 100, false))
	if got := drain(m); got != "a@100 " {
		t.Fatalf("released %q, want a@100 (c waits: source 0 may still send one at 100)", got)
	}
	push(watermark(0, 101, false))
	if got := drain(m); got != "c@100 " {
		t.Fatalf("released %q", got)
	}
	if m.Held() != -1 || m.Queued() != 0 {
		t.Fatalf("held %d, queued %d after draining", m.Held(), m.Queued())
	}
	// An idle source holds nobody back, and the merge's time is the
	// furthest any source got once all are idle.
	push(watermark(2, 100, true))
	push(helperRec(0, 150, "d"))
	push(watermark(1, 120, true))
	if got := drain(m); got != "d@150 " {
		t.Fatalf("released %q", got)
	}
	push(watermark(0, 150, true))
	if m.Low() != 150 {
		t.Fatalf("low %d, want 150", m.Low())
	}
	// A late record from a source that was idle goes at that source's time.
	push(helperRec(2, 110, "late"))
	if got := drain(m); got != "late@110 " {
		t.Fatalf("released %q", got)
	}
}

// TestMergeQueuesAcrossBlocks: a source's records wait in blocks; many
// blocks' worth, drained part way and filled again, come out in order,
// and blocks given back are reused.
func TestMergeQueuesAcrossBlocks(t *testing.T) {
	m := NewMerge(2)
	var off int64
	want := 0 // the next record expected out
	next := 0 // the next record pushed
	push := func(n int) {
		for range n {
			off++
			m.Push(helperRec(0, int64(next), fmt.Sprint(next)), off)
			next++
		}
	}
	pop := func(upTo int) {
		m.Push(watermark(1, int64(upTo), false), 0)
		for r, key := m.Pop(); r != nil; r, key = m.Pop() {
			if r.Helper.ID != fmt.Sprint(want) || key != int64(want) {
				t.Fatalf("popped %s@%d, want %d", r.Helper.ID, key, want)
			}
			want++
		}
		if want != upTo+1 {
			t.Fatalf("popped up to %d, want %d", want-1, upTo)
		}
	}
	push(3*blockLen + 5)
	if m.Queued() != 3*blockLen+5 || m.Held() != 1 {
		t.Fatalf("queued %d held from %d, want %d from 1", m.Queued(), m.Held(), 3*blockLen+5)
	}
	pop(blockLen - 1) // exactly the first block
	pop(blockLen + 7) // into the second
	push(2 * blockLen)
	if m.Queued() != next-want || m.Held() != int64(want)+1 {
		t.Fatalf("queued %d held from %d, want %d from %d", m.Queued(), m.Held(), next-want, want+1)
	}
	pop(next - 1)
	if m.Queued() != 0 || m.Held() != -1 {
		t.Fatalf("queued %d, held %d after draining", m.Queued(), m.Held())
	}
	// Five blocks were in use at most (the second push filled the third
	// and took two more), and are all given back; queuing two blocks'
	// worth again takes two of them.
	if len(m.free) != 5 {
		t.Fatalf("%d blocks free after draining, want 5", len(m.free))
	}
	push(2 * blockLen)
	if len(m.free) != 3 {
		t.Fatalf("%d blocks free after queuing two blocks' worth, want 3", len(m.free))
	}
	pop(next - 1)
}

// BenchmarkMerge is the merge while catching up with one source behind
// the others: seven sources deliver 100,000 records each, which wait for
// the eighth, and are released as it catches up, again and again. Each op
// is one record pushed and, in time, popped.
func BenchmarkMerge(b *testing.B) {
	const sources, stretch = 8, 100_000
	m := NewMerge(sources)
	ids := make([]string, 4096)
	for i := range ids {
		ids[i] = fmt.Sprintf("u%d", i)
	}
	wm := make([]int64, sources)
	var off int64
	r := &route.Record{Kind: route.KindHelper}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		src := 1 + i%(sources*stretch)/stretch
		if src == sources {
			src = 0 // the slow one, last
		}
		wm[src]++
		r.Source, r.WM, r.TS = src, wm[src], wm[src]
		r.Helper = match.HelperState{ID: ids[i%len(ids)], PingMS: wm[src], Available: true}
		off++
		m.Push(r, off)
		for r, _ := m.Pop(); r != nil; r, _ = m.Pop() {
		}
	}
}

// TestMergeKeepsTransfers: a transfer waits like any record and comes out
// whole, with its own event time, its strings copied from the decoder's.
func TestMergeKeepsTransfers(t *testing.T) {
	m := NewMerge(2)
	from := []byte("alice")
	tr := route.Transfer{From: unsafe.String(&from[0], len(from)), To: "bob", TxnID: "t9", Amount: 300_000} // a view, as decoded
	m.Push(&route.Record{Kind: route.KindTransfer, Source: 0, WM: 120, TS: 100, Transfer: tr}, 7)
	copy(from, "xxxxx") // the decoder reuses its buffer
	if r, _ := m.Pop(); r != nil {
		t.Fatalf("released %+v before source 1 was heard from", r)
	}
	m.Push(watermark(1, 130, false), 8)
	r, key := m.Pop()
	if r == nil || r.Kind != route.KindTransfer || key != 120 || r.TS != 100 ||
		r.Transfer != (route.Transfer{From: "alice", To: "bob", TxnID: "t9", Amount: 300_000}) {
		t.Fatalf("released %+v at %d", r, key)
	}
}

// TestMergeReleasesEverythingInOrder: sources push runs of records and
// watermarks at random, each in its own order; whatever is released comes
// in order of key and then source, and once every source has passed the
// last key all is released.
func TestMergeReleasesEverythingInOrder(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	const sources = 6
	m := NewMerge(sources)
	wm := make([]int64, sources)
	var off, lastKey int64
	lastSrc, pushed, released := -1, 0, 0
	check := func() {
		for rec, key := m.Pop(); rec != nil; rec, key = m.Pop() {
			if key != rec.Helper.PingMS {
				t.Fatalf("released with key %d a record pushed with %d", key, rec.Helper.PingMS)
			}
			if key < lastKey || key == lastKey && rec.Source < lastSrc {
				t.Fatalf("released %d from source %d after %d from source %d", key, rec.Source, lastKey, lastSrc)
			}
			lastKey, lastSrc = key, rec.Source
			released++
		}
	}
	for range 200_000 {
		src := r.IntN(sources)
		if r.IntN(4) > 0 {
			wm[src] += int64(r.IntN(3))
		}
		off++
		if r.IntN(10) == 0 {
			m.Push(watermark(src, wm[src], false), off)
		} else {
			h := helperRec(src, wm[src], "u")
			h.Helper.PingMS = wm[src] // the key it was pushed with, to check it comes out with it
			m.Push(h, off)
			pushed++
		}
		if r.IntN(3) == 0 {
			check()
		}
	}
	for src := range sources {
		off++
		m.Push(watermark(src, 1<<40, false), off)
	}
	check()
	if released != pushed || m.Queued() != 0 {
		t.Fatalf("released %d of %d, %d queued", released, pushed, m.Queued())
	}
}

// TestMergeReleasesAsSoonAsTheRuleAllows: Pop releases a record exactly
// when the rule of Merge allows one, the earliest queued, ties to the
// lower source, and only if no empty source that is not idle may still
// send one before it (one never heard from may send anything), with
// sources going idle and coming back, and some heard from late.
func TestMergeReleasesAsSoonAsTheRuleAllows(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	const sources = 7
	m := NewMerge(sources)
	wm := make([]int64, sources)
	// rule is the record the rule lets out next: its source, -1 for none.
	rule := func() int {
		best := -1
		for i, s := range m.src {
			if s.q.len() > 0 && (best < 0 || s.first < m.src[best].first) {
				best = i
			}
		}
		if best < 0 {
			return -1
		}
		key := m.src[best].first
		for i, s := range m.src {
			if i != best && s.q.len() == 0 && !s.idle && (!s.known || s.wm < key || s.wm == key && i < best) {
				return -1
			}
		}
		return best
	}
	var off int64
	released := 0
	for step := range 100_000 {
		src := r.IntN(sources)
		if step < 2_000 && src == sources-1 {
			continue // heard from only later
		}
		wm[src] += int64(r.IntN(3))
		off++
		switch r.IntN(8) {
		case 0:
			m.Push(watermark(src, wm[src], true), off)
		case 1:
			m.Push(watermark(src, wm[src], false), off)
		default:
			m.Push(helperRec(src, wm[src], "u"), off)
		}
		for {
			want := rule()
			rec, _ := m.Pop()
			if rec == nil {
				if want >= 0 {
					t.Fatalf("step %d: nothing released, the rule lets out source %d's", step, want)
				}
				break
			}
			if rec.Source != want {
				t.Fatalf("step %d: released source %d's, the rule lets out %d's", step, rec.Source, want)
			}
			released++
		}
	}
	if released < 10_000 {
		t.Fatalf("only %d released: the test must exercise releases", released)
	}
}
