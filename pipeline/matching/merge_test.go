package matching

import (
	"fmt"
	"testing"

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
