package aggregate

import (
	"math/rand/v2"
	"testing"
)

// TestCellIndexNumbersKeysAsAMapWould: through runs of keys that repeat,
// grow the index and are reset, every key gets the next number the first
// time it is seen in a run and the same number after.
func TestCellIndexNumbersKeysAsAMapWould(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var x cellIndex
	for run := range 20 {
		want := map[cellMinute]int32{}
		keys := 1 + r.IntN(5000)
		for range 20_000 {
			// Few cells and minutes, so keys repeat and share hash bits.
			k := cellMinute{cell: 0x8928308280fffff + uint64(r.IntN(keys))<<12, minute: 29_400_000 + int64(r.IntN(3))}
			num, added := x.at(k, int32(len(want)))
			w, seen := want[k]
			if !seen {
				w = int32(len(want))
				want[k] = w
			}
			if num != w || added == seen {
				t.Fatalf("run %d: key %+v numbered %d (added %v), want %d (added %v)", run, k, num, added, w, !seen)
			}
		}
		if x.n != len(want) || 2*x.n > len(x.slots) {
			t.Fatalf("run %d: %d keys held in %d places, want %d at most half full", run, x.n, len(x.slots), len(want))
		}
		x.reset()
	}
}
