package arena

import (
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
