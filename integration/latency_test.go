package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"everywhere/simulator"
)

// BenchmarkTransactionToAlert measures the time from publishing a
// transaction to reading its alert from the alerts topic, through the
// broker and the engine, while the simulated city streams its mixed load
// (pings, profiles, transactions, needs, outcomes) at a steady rate. Each
// probe is the first purchase of a new user above the amount_spike floor,
// which always raises an alert. Reports p50 and p99 in milliseconds.
func BenchmarkTransactionToAlert(b *testing.B) {
	for _, load := range []int{20_000, 100_000} {
		b.Run(fmt.Sprintf("load=%d/s", load), func(b *testing.B) { transactionToAlert(b, load) })
	}
}

func transactionToAlert(b *testing.B, load int) {
	e := newEnv(b, 8)
	e.startEngine()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	// Background load: a city whose day is replayed at `load` events/s.
	sc := simulator.DefaultConfig()
	sc.Users, sc.Duration = 20_000, 48*time.Hour
	perDay := 7_500_000.0 // events a day for 20,000 users, about
	pc := simulator.PublishConfig{Brokers: e.brokers, Speed: float64(load) * 86_400 / perDay}
	pc.Topics = [simulator.NumTopics]string{e.topics.Pings, e.topics.Profiles, e.topics.Transactions, e.topics.Needs, e.topics.Outcomes}
	go simulator.Publish(ctx, simulator.New(sc), pc)

	r := kafka.NewReader(kafka.ReaderConfig{Brokers: e.brokers, Topic: e.topics.Alerts, GroupID: "latency-probe",
		StartOffset: kafka.LastOffset, MinBytes: 1, MaxBytes: 1 << 20, MaxWait: 5 * time.Millisecond, CommitInterval: time.Second,
		ReadBackoffMin: time.Millisecond, ReadBackoffMax: 5 * time.Millisecond})
	defer r.Close()
	var mu sync.Mutex
	sent := map[string]time.Time{}
	var lat []time.Duration
	go func() {
		for {
			m, err := r.ReadMessage(ctx)
			if err != nil {
				return
			}
			var a struct {
				TxnIDs []string `json:"txn_ids"`
			}
			if json.Unmarshal(m.Value, &a) != nil || len(a.TxnIDs) == 0 {
				continue
			}
			mu.Lock()
			if at, ok := sent[a.TxnIDs[0]]; ok {
				lat = append(lat, time.Since(at))
				delete(sent, a.TxnIDs[0])
			}
			mu.Unlock()
		}
	}()
	w := &kafka.Writer{Addr: kafka.TCP(e.brokers...), Topic: e.topics.Transactions, Balancer: kafka.Murmur2Balancer{Consistent: true},
		RequiredAcks: kafka.RequireAll, BatchSize: 1, BatchTimeout: time.Millisecond}
	defer w.Close()
	time.Sleep(3 * time.Second) // let the group settle and the load start
	const probes = 600
	ts := sc.Start.UnixMilli() + 3_600_000
	for i := range probes {
		id := fmt.Sprintf("probe%d", i)
		user := fmt.Sprintf("probe-user-%d", i)
		msg := fmt.Sprintf(`{"txn_id":%q,"user_id":%q,"ts":%d,"amount":900000,"currency":"CNY","kind":"purchase","counterparty_id":"m1","counterparty_kind":"merchant"}`, id, user, ts)
		mu.Lock()
		sent[id] = time.Now()
		mu.Unlock()
		if err := w.WriteMessages(ctx, kafka.Message{Key: []byte(user), Value: []byte(msg)}); err != nil {
			b.Fatal(err)
		}
		time.Sleep(5 * time.Millisecond)
	}
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		mu.Lock()
		n := len(lat)
		mu.Unlock()
		if n >= probes {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(lat) < probes*9/10 {
		b.Fatalf("only %d of %d probe alerts arrived", len(lat), probes)
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
	b.ReportMetric(float64(len(lat)), "probes")
}
