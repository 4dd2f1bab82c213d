package fraud

import (
	"runtime"
	"strconv"
	"testing"

	"everywhere/events"
)

// BenchmarkTransaction is the detection cost per payment across a
// population, every rule run, state warm.
func BenchmarkTransaction(b *testing.B) {
	for _, users := range []int{1_000, 100_000, 1_000_000} {
		b.Run("users="+strconv.Itoa(users), func(b *testing.B) {
			d := New(rules(b))
			txs := make([]events.Transaction, 4096)
			for i := range txs {
				u := "u" + strconv.Itoa((i*7919)%users)
				txs[i] = events.Transaction{TxnID: "t" + strconv.Itoa(i), UserID: u, Amount: int64(1000 + i%5000), Currency: "CNY",
					Kind: events.Purchase, CounterpartyID: "m" + strconv.Itoa(i%100), CounterpartyKind: events.Merchant, Lat: 30.27, Lng: 120.15, HasLocation: true}
			}
			for i := range users {
				d.Ping(&events.Ping{UserID: "u" + strconv.Itoa(i), TS: t0, Lat: 30.27, Lng: 120.15})
			}
			ids := txnIDs()
			var out []Alert
			ts := t0
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				tx := &txs[i%len(txs)]
				ts += 1000
				tx.TS, tx.TxnID = ts, ids[i%len(ids)]
				out = d.Transaction(tx, out[:0])
			}
		})
	}
}

// txnIDs are ids for the benchmarks' payments, made beforehand: the
// payments cycle, and one with the id of a user's recent payment would be
// skipped as a repeat, not scored.
func txnIDs() []string {
	ids := make([]string, 1<<20)
	for i := range ids {
		ids[i] = "t" + strconv.Itoa(i)
	}
	return ids
}

// BenchmarkDecodeAndDetect is a payment's whole cost without Kafka:
// decode and validate its JSON, then run every rule, among 100,000 users.
func BenchmarkDecodeAndDetect(b *testing.B) {
	const users = 100_000
	d := New(rules(b))
	for i := range users {
		d.Ping(&events.Ping{UserID: "u" + strconv.Itoa(i), TS: t0, Lat: 30.27, Lng: 120.15})
	}
	msgs := make([][]byte, 4096)
	for i := range msgs {
		tx := events.Transaction{TxnID: "t" + strconv.Itoa(i), UserID: "u" + strconv.Itoa((i*7919)%users), TS: t0 + int64(i), Amount: int64(1000 + i%5000),
			Currency: "CNY", Kind: events.Purchase, CounterpartyID: "m" + strconv.Itoa(i%100), CounterpartyKind: events.Merchant, Lat: 30.27, Lng: 120.15, HasLocation: true}
		msgs[i] = tx.AppendJSON(nil)
	}
	dec := events.NewDecoder("CNY")
	ids := txnIDs()
	var (
		tx  events.Transaction
		out []Alert
	)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if err := dec.Transaction(msgs[i%len(msgs)], &tx); err != nil {
			b.Fatal(err)
		}
		tx.TS, tx.TxnID = t0+1000*int64(i), ids[i%len(ids)]
		out = d.Transaction(&tx, out[:0])
	}
}

// BenchmarkStateBytesPerUser measures the heap a detector holds per user
// once a million users have paid and moved, map overhead and ids included.
func BenchmarkStateBytesPerUser(b *testing.B) {
	const users = 1_000_000
	for b.Loop() {
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		d := New(rules(b))
		tx := events.Transaction{Currency: "CNY", Kind: events.Purchase, CounterpartyID: "m1", CounterpartyKind: events.Merchant,
			Lat: 30.27, Lng: 120.15, HasLocation: true, Amount: 5000}
		for i := range users {
			id := "u" + strconv.Itoa(i)
			d.Ping(&events.Ping{UserID: id, TS: t0, Lat: 30.27, Lng: 120.15})
			tx.UserID, tx.TxnID, tx.TS = id, "t", t0+int64(i)
			d.Transaction(&tx, nil)
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/users, "bytes/user")
		runtime.KeepAlive(d)
	}
}
