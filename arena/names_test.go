package arena

import (
	"strconv"
	"strings"
	"testing"
)

// Every name gives back the string it was added as, across blocks, for a
// string longer than a block and for an empty one, and after its source
// is written over.
func TestNamesGiveBackTheirStrings(t *testing.T) {
	var a Names
	src := []byte("user-0000000")
	var names []Name
	var want []string
	for i := range 20000 { // several blocks
		copy(src[5:], strconv.Itoa(1_000_000 + i)[1:])
		names = append(names, a.Add(string(src)))
		want = append(want, string(src))
	}
	long := strings.Repeat("x", blockSize+1)
	names, want = append(names, a.Add(long), a.Add(""), a.Add("after")), append(want, long, "", "after")
	src[0] = 'X'
	for i, n := range names {
		if got := a.At(n); got != want[i] {
			t.Fatalf("name %d = %q, want %q", i, got, want[i])
		}
	}
	if len(a.blocks) < 3 {
		t.Fatalf("%d blocks for 20,000 names and a long one", len(a.blocks))
	}
}
