package integration

import (
	"context"
	"strconv"
	"testing"
	"time"

	"everywhere/events"
	"everywhere/simulator"
)

// BenchmarkEngineMemory feeds the engine a city of 1,000,000 users who
// each pay once and 200,000 helpers who each report themselves available,
// and reports the engine's peak resident memory with all of them held:
// fraud state for every user, the match index for every helper (in each
// region its reach covers), Kafka clients and buffers included. The
// budget is 1.5 GiB. The per-user and per-helper heap figures are the
// models' own benchmarks (BenchmarkStateBytesPerUser, BenchmarkBytesPerHelper).
func BenchmarkEngineMemory(b *testing.B) {
	const users, helpers = 1_000_000, 200_000
	e := newEnv(b, 8)
	ctx := context.Background()
	st, err := simulator.Publish(ctx, newCensus(users, helpers), publishConfig(e, 0))
	if err != nil {
		b.Fatal(err)
	}
	en := e.startEngine()
	e.drained(10 * time.Minute)
	text := en.metrics(b)
	if got := sumMetric(text, "everywhere_fraud_users"); got < users {
		b.Fatalf("fraud state for %.0f users, want %d", got, users)
	}
	if got := sumMetric(text, "everywhere_match_helpers"); got < helpers {
		b.Fatalf("the match index holds %.0f helpers, want %d", got, helpers)
	}
	rss := peakRSS(b, en.cmd.Process.Pid)
	b.ReportMetric(float64(rss)/(1<<20), "peak-RSS-MiB")
	b.ReportMetric(float64(st.Total()), "events")
	en.stop()
}

// census is a stream in which every user pays once and every fifth user,
// a helper, pings available, over ten minutes of event time.
type census struct {
	users, helpers, i int
	start             time.Time
	buf               []byte
}

func newCensus(users, helpers int) *census {
	return &census{users: users, helpers: helpers, start: simulator.DefaultConfig().Start}
}

func (c *census) Start() time.Time { return c.start }

func (c *census) Next(m *simulator.Message) bool {
	n := c.users + c.helpers
	if c.i >= n {
		return false
	}
	ts := c.start.UnixMilli() + int64(c.i)*600_000/int64(n)
	i := c.i
	c.i++
	if i%6 == 5 && i/6 < c.helpers {
		// every sixth event is a helper's ping, a grid over the city
		h := i / 6
		id := "u" + strconv.Itoa(h*5)
		p := events.Ping{UserID: id, TS: ts, Lat: 30.15 + float64(h%450)*0.0005, Lng: 120.0 + float64(h/450)*0.0007, Available: true}
		c.buf = p.AppendJSON(c.buf[:0])
		*m = simulator.Message{Topic: simulator.Pings, Key: id, TS: ts}
	} else {
		u := i - min(i/6, c.helpers)
		id := "u" + strconv.Itoa(u)
		t := events.Transaction{TxnID: "t" + strconv.Itoa(u), UserID: id, TS: ts, Amount: 3000 + int64(u%5000),
			Currency: "CNY", Kind: events.Purchase, CounterpartyID: "m" + strconv.Itoa(u%997), CounterpartyKind: events.Merchant}
		c.buf = t.AppendJSON(c.buf[:0])
		*m = simulator.Message{Topic: simulator.Transactions, Key: id, TS: ts}
	}
	m.Value = append([]byte(nil), c.buf...)
	return true
}
