package fraud

import (
	"math/rand/v2"
	"runtime"
	"slices"
	"strconv"
	"testing"

	"everywhere/events"
)

// ringTransfers makes a stream of large transfers among few users, in
// event-time order, with rings planted among random payments.
func ringTransfers(r *rand.Rand, n int) []events.Transaction {
	var out []events.Transaction
	ms := t0
	add := func(from, to string, amount int64) {
		ms += int64(r.IntN(40)+1) * minute
		out = append(out, events.Transaction{TxnID: "t" + strconv.Itoa(len(out)), UserID: from, TS: ms, Amount: amount,
			Currency: "CNY", Kind: events.Transfer, CounterpartyID: to, CounterpartyKind: events.User})
	}
	const users = 60
	user := func() string { return "u" + strconv.Itoa(r.IntN(users)) }
	for len(out) < n {
		if r.IntN(4) == 0 {
			members := r.Perm(users)[:3+r.IntN(2)]
			amount := int64(200_000 + r.IntN(300_000))
			for i, m := range members {
				add("u"+strconv.Itoa(m), "u"+strconv.Itoa(members[(i+1)%len(members)]), amount*int64(95+r.IntN(10))/100)
			}
			continue
		}
		if from, to := user(), user(); from != to {
			add(from, to, int64(100_000+r.IntN(400_000)))
		}
	}
	return out
}

// TestRingsAgreeWithPartitions checks that Rings, which delivers every
// path at once, finds the alerts four partitioned detectors find when
// their paths reach them late and in any order, as through Kafka. (Both
// keep each user's latest eight paths and transfers: a user making more
// large transfers than that within the window can make them differ, as
// it makes two partitioned runs differ.)
func TestRingsAgreeWithPartitions(t *testing.T) {
	for seed := range uint64(30) {
		r := rand.New(rand.NewPCG(seed, 7))
		txns := ringTransfers(r, 120)

		g := NewRings(rules(t))
		var want []string
		for i := range txns {
			tx := &txns[i]
			for _, a := range g.Transfer(tx.UserID, tx.CounterpartyID, tx.TxnID, tx.TS, tx.Amount, nil) {
				want = append(want, a.ID)
			}
		}

		const parts = 4
		var ds [parts]*Detector
		var inflight []Path
		for i := range ds {
			ds[i] = New(rules(t))
			ds[i].EmitPath = func(p *Path) { inflight = append(inflight, *p) }
		}
		part := func(id string) int { return int(events.IDHash(id) % parts) }
		var got []string
		keep := func(as []Alert) {
			for _, a := range as {
				if a.Rule == RuleRoundTrip {
					got = append(got, a.ID)
				}
			}
		}
		deliver := func(k int) { // k paths in flight, picked at random
			for ; k > 0 && len(inflight) > 0; k-- {
				i := r.IntN(len(inflight))
				p := inflight[i]
				inflight = slices.Delete(inflight, i, i+1)
				keep(ds[part(p.To)].Path(&p, nil))
			}
		}
		for i := range txns {
			tx := &txns[i]
			keep(ds[part(tx.UserID)].Transaction(tx, nil))
			deliver(r.IntN(3))
		}
		deliver(len(inflight) + 1000)
		slices.Sort(want)
		slices.Sort(got)
		if len(want) == 0 {
			t.Fatalf("seed %d: no ring found", seed)
		}
		if !slices.Equal(want, got) {
			t.Fatalf("seed %d: rings found %d alerts, the partitions %d", seed, len(want), len(got))
		}
	}
}

func TestRingsTakeATransferOnce(t *testing.T) {
	g := NewRings(rules(t))
	g.Transfer("a", "b", "t1", t0, 300_000, nil)
	g.Transfer("b", "c", "t2", t0+minute, 300_000, nil)
	g.Transfer("b", "c", "t2", t0+minute, 300_000, nil) // sent again after a restart
	as := g.Transfer("c", "a", "t3", t0+2*minute, 300_000, nil)
	if len(as) != 3 {
		t.Fatalf("%d alerts, want one per member: %+v", len(as), as)
	}
	if as = g.Transfer("c", "a", "t3", t0+2*minute, 300_000, nil); len(as) != 0 {
		t.Fatalf("the closing transfer sent again closed the ring again: %+v", as)
	}
}

func TestRingsEvictAfterTheWindow(t *testing.T) {
	g := NewRings(rules(t))
	g.Transfer("a", "b", "t1", t0, 300_000, nil)
	g.Transfer("b", "c", "t2", t0+minute, 300_000, nil)
	if g.Users() != 3 {
		t.Fatalf("users %d, want 3", g.Users())
	}
	if n := g.Evict(t0 + 24*60*minute); n != 0 {
		t.Fatalf("evicted %d within the window", n)
	}
	if n := g.Evict(t0 + 24*60*minute + 2*minute); n != 3 || g.Users() != 0 {
		t.Fatalf("evicted %d, %d left", n, g.Users())
	}
	// The ring's first hop is gone: its last hop closes nothing.
	if as := g.Transfer("c", "a", "t3", t0+24*60*minute+3*minute, 300_000, nil); len(as) != 0 {
		t.Fatalf("alerts after eviction: %+v", as)
	}
}

// BenchmarkRings feeds a region's ring finder the large transfers of
// 100,000 users, two each a day to random others, of 1,000.00 to
// 10,000.00, and reports the heap its state takes per user kept after a
// day (the README's memory figure).
func BenchmarkRings(b *testing.B) {
	const users = 100_000
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	g := NewRings(rules(b))
	ids := make([]string, users)
	for i := range ids {
		ids[i] = "user-" + strconv.Itoa(i)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		// 2 transfers per user a day: one every 432 ms of event time.
		g.Transfer(ids[i%users], ids[(i*7919+13)%users], "txn-"+strconv.Itoa(i), t0+int64(i)*432, 100_000+int64(i*104_729%900_000), nil)
	}
	b.StopTimer()
	runtime.GC()
	runtime.ReadMemStats(&after)
	if b.N >= 2*users {
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/float64(g.Users()), "heap-B/user")
	}
}
