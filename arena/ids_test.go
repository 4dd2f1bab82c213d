package arena

import (
	"math/rand/v2"
	"strconv"
	"testing"
)

// Ids are numbered in the order first seen, keep their numbers as the
// table grows, and give them back.
func TestIDsNumberInOrder(t *testing.T) {
	var d IDs
	if _, ok := d.Find("user-0"); ok {
		t.Fatal("an empty IDs found an id")
	}
	const n = 100_000
	for i := range n {
		if got, added := d.Number("user-" + strconv.Itoa(i)); got != int32(i) || !added {
			t.Fatalf("new id %d: number %d, added %v", i, got, added)
		}
	}
	for i := range n {
		id := "user-" + strconv.Itoa(i)
		if got, added := d.Number(id); got != int32(i) || added || d.String(got) != id {
			t.Fatalf("%s: number %d (%q), added %v; want %d", id, got, d.String(got), added, i)
		}
		if got, ok := d.Find(id); got != int32(i) || !ok {
			t.Fatalf("%s: found %d, %v", id, got, ok)
		}
	}
	if _, ok := d.Find("user-" + strconv.Itoa(n)); ok || d.Len() != n || len(d.table) < 2*n {
		t.Fatalf("%d ids in a table of %d places", d.Len(), len(d.table))
	}
	if got, added := d.Number(""); got != n || !added || d.String(got) != "" {
		t.Fatalf("the empty id: %d, %v", got, added)
	}
}

func BenchmarkIDsFind(b *testing.B) {
	var d IDs
	ids := make([]string, 1_000_000)
	for i := range ids {
		ids[i] = "user-" + strconv.Itoa(i)
		d.Number(ids[i])
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		d.Find(ids[i*7919%len(ids)])
	}
}

// BenchmarkIDsNumber numbers new ids into a table that starts empty and
// grows, as a partition's users are first seen in a catch-up: the ns are
// per id, the table's rehashes included.
func BenchmarkIDsNumber(b *testing.B) {
	ids := make([]string, 1<<20)
	for i := range ids {
		ids[i] = "user-" + strconv.Itoa(i*7919)
	}
	b.ReportAllocs()
	for b.Loop() {
		var d IDs
		for _, id := range ids {
			d.Number(id)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(ids)), "ns/id")
}

// Ids forgotten are no longer found and their numbers are handed out
// again, every other id keeps its number, and the names' blocks are
// renewed once most of what they hold is forgotten: checked against a
// map through a long run of ids coming and going.
func TestIDsForget(t *testing.T) {
	var d IDs
	want := map[string]int32{}
	owner := map[int32]string{}
	r := rand.New(rand.NewPCG(1, 2))
	next := 0
	for step := range 300_000 {
		if len(want) > 0 && r.IntN(5) < 2 {
			for id, n := range want { // a random id: map order
				d.Forget(n)
				delete(want, id)
				delete(owner, n)
				if _, ok := d.Find(id); ok || d.Live(n) {
					t.Fatalf("step %d: %s found after it was forgotten", step, id)
				}
				break
			}
			continue
		}
		id := "user-" + strconv.Itoa(next)
		next++
		n, added := d.Number(id)
		if other, used := owner[n]; !added || !d.Live(n) || used {
			t.Fatalf("step %d: %s numbered %d (added %v), which %q has", step, id, n, added, other)
		}
		want[id], owner[n] = n, id
	}
	live := 0
	for id := range want {
		live += len(id)
	}
	if d.Len() != len(want) || d.bytes > max(2*live, live+blockSize) {
		t.Fatalf("%d live ids, want %d; %d bytes of names kept for %d live", d.Len(), len(want), d.bytes, live)
	}
	for id, n := range want {
		if got, ok := d.Find(id); !ok || got != n || d.String(n) != id {
			t.Fatalf("%s: found %d %v (%q), want %d", id, got, ok, d.String(got), n)
		}
	}
}
