package arena

import (
	"fmt"
	"hash/maphash"
	"math/rand/v2"
	"strconv"
	"testing"
	"unsafe"
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

// millionIDs numbers a million ids, returned in the order numbered.
func millionIDs() (*IDs, []string) {
	d := new(IDs)
	ids := make([]string, 1_000_000)
	for i := range ids {
		ids[i] = "user-" + strconv.Itoa(i)
		d.Number(ids[i])
	}
	return d, ids
}

func BenchmarkIDsFind(b *testing.B) {
	d, ids := millionIDs()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		d.Find(ids[i*7919%len(ids)])
	}
}

// benchSum keeps what a benchmark read, so that its loads are not dropped.
var benchSum uint64

// BenchmarkIDsFindAmidWork looks up a million ids at random, each
// followed by other work that reads through 8 MB (32 cache lines), as a
// partition's worker decodes, aggregates and routes between two users'
// lookups; the keys come in groups of 64, as a fetch's messages do. With
// preload=yes each group is preloaded first. The ns are per id, the work
// and the preload included.
func BenchmarkIDsFindAmidWork(b *testing.B) {
	d, ids := millionIDs()
	const groups = 4096
	keys := make([][]string, groups)
	for g := range keys {
		buf := make([]byte, 0, 64*16) // a group's keys lie together
		for j := range 64 {
			start := len(buf)
			buf = append(buf, ids[(g*64+j)*7919%len(ids)]...)
			keys[g] = append(keys[g], unsafe.String(&buf[start], len(buf)-start))
		}
	}
	other := make([]uint64, 1<<20)
	for _, preload := range []bool{false, true} {
		b.Run(fmt.Sprintf("preload=%v", map[bool]string{false: "no", true: "yes"}[preload]), func(b *testing.B) {
			b.ReportAllocs()
			var nums []int32
			var sum uint64
			at := 0
			for i := 0; b.Loop(); i++ {
				group := keys[i%groups]
				if preload {
					nums = d.Preload(group, nums[:0])
				}
				for _, id := range group {
					n, _ := d.Find(id)
					sum += uint64(n)
					for range 32 {
						sum += other[at]
						at = (at + 8) & (len(other) - 1)
					}
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*64), "ns/id")
			benchSum = sum
		})
	}
}

// TestIDsPreload: Preload gives each id found at its home place its
// number, and -1 to the others, and changes nothing a lookup finds.
func TestIDsPreload(t *testing.T) {
	var d IDs
	if nums := d.Preload([]string{"a"}, nil); len(nums) != 0 {
		t.Fatalf("an empty table preloaded %v", nums)
	}
	for i := range 5000 {
		d.Number("user-" + strconv.Itoa(i))
	}
	d.Forget(17)
	ids := []string{"user-3", "user-17", "nobody", "user-4999", ""}
	for i := range 3000 {
		ids = append(ids, "user-"+strconv.Itoa(i*7%5000))
	}
	nums := d.Preload(ids, []int32{42})
	if len(nums) != len(ids)+1 || nums[0] != 42 {
		t.Fatalf("Preload gave %d numbers after the one it was handed (%d), want %d", len(nums)-1, nums[0], len(ids))
	}
	home := 0
	for i, id := range ids {
		n, ok := d.Find(id)
		switch got := nums[i+1]; {
		case got == n && ok:
			home++
		case got != -1:
			t.Fatalf("%q preloaded as %d; Find gives %d, %v", id, got, n, ok)
		case ok && d.table[maphash.String(d.seed, id)>>d.shift]&(1<<32-1) == uint64(n+1):
			t.Fatalf("%q is at its home place as %d, and preloaded as -1", id, n)
		}
	}
	if home < len(ids)/2 {
		t.Fatalf("%d of %d ids found at their home place", home, len(ids))
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
