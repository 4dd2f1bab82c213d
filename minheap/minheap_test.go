package minheap

import (
	"math/rand/v2"
	"slices"
	"testing"
)

func TestPopsInOrderWithTiesByTheirOwnKey(t *testing.T) {
	type v struct{ at, seq int }
	h := New(func(a, b *v) bool { return a.at < b.at || a.at == b.at && a.seq < b.seq })
	r := rand.New(rand.NewPCG(1, 2))
	var want []v
	for i := range 1000 {
		x := v{r.IntN(50), i}
		want = append(want, x)
		h.Push(x)
	}
	slices.SortFunc(want, func(a, b v) int {
		if a.at != b.at {
			return a.at - b.at
		}
		return a.seq - b.seq
	})
	for i, w := range want {
		if h.Peek().at != w.at {
			t.Fatalf("peek %d: %v, want %v", i, *h.Peek(), w)
		}
		if got := h.Pop(); got != w {
			t.Fatalf("pop %d: %v, want %v", i, got, w)
		}
	}
	if h.Len() != 0 {
		t.Fatal("not empty")
	}
	h.Push(v{1, 1})
	h.Reset()
	if h.Len() != 0 {
		t.Fatal("reset kept values")
	}
}
