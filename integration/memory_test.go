package integration

import (
	"context"
	"io"
	"net/http"
	"slices"
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
//
// It also reports what a collection of all that costs: the median wall
// time of three, each forced through the profiler's /debug/pprof/heap?gc=1
// once the engine has drained, with nothing else running. A collection
// marks beside the engine's work on the same two cores, and a probe sent
// while one runs waits for it.
func BenchmarkEngineMemory(b *testing.B) {
	const users, helpers = 1_000_000, 200_000
	e := newEnv(b, 8)
	ctx := context.Background()
	st, err := simulator.Publish(ctx, newCensus(users, helpers), publishConfig(e, 0))
	if err != nil {
		b.Fatal(err)
	}
	pprof := freeAddr(b)
	en := e.startEngine("EVERYWHERE_HTTP_PPROF_ADDR=" + pprof)
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
	b.ReportMetric(collection(b, pprof).Seconds()*1000, "collection-ms")
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

// collection is the median wall time of three collections of the engine
// whose profiler listens on addr, each forced by a heap profile with gc=1
// (the profile itself, written after, takes a few milliseconds).
func collection(b *testing.B, addr string) time.Duration {
	var took []time.Duration
	for range 3 {
		start := time.Now()
		resp, err := http.Get("http://" + addr + "/debug/pprof/heap?gc=1")
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			b.Fatalf("heap profile: %s", resp.Status)
		}
		took = append(took, time.Since(start))
	}
	slices.Sort(took)
	return took[1]
}
