package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"everywhere/pipeline/sink"
	"everywhere/simulator"
)

// BenchmarkTransactionToAlert measures the time from publishing a
// transaction to reading its alert from the alerts topic, through the
// broker and the engine, while the catch-up benchmark's mixed load (80%
// pings, 12% transactions, 5% needs, 3% other) streams at a steady rate. Each
// probe is the first purchase of a new user above the amount_spike floor,
// which always raises an alert. Reports p50 and p99 in milliseconds.
func BenchmarkTransactionToAlert(b *testing.B) {
	for _, load := range loads() {
		rounds(b, load.name, func(b *testing.B) {
			probeLatency(b, load.rate, func(e *env) (string, string) { return e.topics.Transactions, e.topics.Alerts },
				func(i int, ts int64) (string, string, []byte) {
					id, user := fmt.Sprintf("probe%d", i), fmt.Sprintf("probe-user-%d", i)
					return id, user, fmt.Appendf(nil, `{"txn_id":%q,"user_id":%q,"ts":%d,"amount":900000,"currency":"CNY","kind":"purchase","counterparty_id":"m1","counterparty_kind":"merchant"}`, id, user, ts)
				},
				"probe-user-", // alerts are keyed by user
				func(v []byte) string {
					var a struct {
						TxnIDs []string `json:"txn_ids"`
					}
					if json.Unmarshal(v, &a) != nil || len(a.TxnIDs) == 0 {
						return ""
					}
					return a.TxnIDs[0]
				}, nil)
		})
	}
}

// BenchmarkNeedToSuggestions measures the time from publishing a need to
// reading its first suggestion list, under the same load: the need is
// routed to its region, merged in event time with every source, ranked,
// and published.
func BenchmarkNeedToSuggestions(b *testing.B) {
	for _, load := range loads() {
		rounds(b, load.name, func(b *testing.B) {
			probeLatency(b, load.rate, func(e *env) (string, string) { return e.topics.Needs, e.topics.Suggestions },
				needProbe("probe-need-"), "probe-need-", // lists are keyed by need
				func(v []byte) string {
					var l struct {
						NeedID  string `json:"need_id"`
						Version int    `json:"version"`
					}
					if json.Unmarshal(v, &l) != nil || l.Version != 1 {
						return ""
					}
					return l.NeedID
				}, needClose)
		})
	}
}

// BenchmarkBrokerHop measures one trip through the broker under the same
// load, with the engine running: a message published to the needs topic
// and read back from it by the probe's reader. It is what every Kafka hop
// of the two paths above costs on this machine; a need crosses three
// (needs, regions, suggestions), a transaction two (transactions, alerts).
func BenchmarkBrokerHop(b *testing.B) {
	for _, load := range loads() {
		rounds(b, load.name, func(b *testing.B) {
			probeLatency(b, load.rate, func(e *env) (string, string) { return e.topics.Needs, e.topics.Needs },
				needProbe("hop-"), "hop-",
				func(v []byte) string {
					var n struct {
						NeedID string `json:"need_id"`
					}
					if json.Unmarshal(v, &n) != nil || !strings.HasPrefix(n.NeedID, "hop-") {
						return ""
					}
					return n.NeedID
				}, needClose)
		})
	}
}

// needProbe makes the i-th probe need, ids prefixed, at event time ts,
// spread over a 10 km square of the city so that probes do not all land
// in one cell.
func needProbe(prefix string) func(i int, ts int64) (string, string, []byte) {
	return func(i int, ts int64) (string, string, []byte) {
		id := prefix + strconv.Itoa(i)
		lat, lng := 30.2741+float64(i%20-10)*0.005, 120.1551+float64(i/20%20-10)*0.005
		return id, id, fmt.Appendf(nil, `{"need_id":%q,"user_id":"probe-requester","ts":%d,"category":"errand","lat":%.5f,"lng":%.5f,"radius_m":3000,"reward":1000,"currency":"CNY","expires_at":%d,"status":"open"}`,
			id, ts, lat, lng, ts+3600_000)
	}
}

// needClose is the status update that fulfils probe need id at event
// time ts, sent once its output is read. The load closes its own needs
// about a minute of event time after they open, so that some 3,000 are
// open at a time. Probes left to expire (an hour) were all still open
// when the last was sent: 4,950 to 4,990 open needs by then, two in five
// of them probes in the 10 km square of the city's centre, where pings
// then reached more needs each. At 180,000 events/s the engine took 5.9
// and 6.0 µs of CPU per event against 5.7 with the probes closed, and
// need to suggestions' p99 was 99 and 111 ms against 79 and 41
// (alternating).
func needClose(id string, ts int64) []byte {
	return fmt.Appendf(nil, `{"need_id":%q,"ts":%d,"radius_m":3000,"reward":1000,"currency":"CNY","status":"fulfilled"}`, id, ts)
}

type load struct {
	name string
	rate int
}

// loads are the background loads latency is measured under: a fixed
// 20,000 events/s, and half the catch-up rate BenchmarkCatchUp measured
// in the same run (when it did not run, BENCH_HALF_RATE events/s, or
// 60,000), so that one latency can be measured again at the rate a whole
// run gave it.
func loads() []load {
	half := 60_000
	if v, err := strconv.Atoi(os.Getenv("BENCH_HALF_RATE")); err == nil && v > 0 {
		half = v
	}
	if maxRate > 0 {
		half = int(maxRate / 2)
	}
	return []load{{"load=20000/s", 20_000}, {"load=half", half}}
}

// rounds runs a measurement (a latency, a catch-up) as sub-benchmarks
// name/round=1 to round=N, each on a fresh broker and engine: N is
// BENCH_ROUNDS, 3 by default. On two cores shared with the broker and
// ClickHouse one round's p99 can be twice the next one's; make bench
// reports the median round of each figure.
func rounds(b *testing.B, name string, measure func(*testing.B)) {
	n := 3
	if s := os.Getenv("BENCH_ROUNDS"); s != "" {
		if v, err := strconv.Atoi(s); err == nil && v > 0 {
			n = v
		}
	}
	b.Run(name, func(b *testing.B) {
		for i := range n {
			b.Run(fmt.Sprintf("round=%d", i+1), measure)
		}
	})
}

// warmUp is how long the engine streams the load before the probes:
// latency is measured in the steady state the budget is about, not in an
// engine's first seconds. A fresh engine grows everything from nothing
// then: its heap to twice the state (2 to 450 MB in the first 20 s at
// 60,000 events/s, a collection at each doubling), each ClickHouse
// table's columns and connection buffer to its largest insert (an insert
// that grew them took 200 ms of CPU at once), all of it fresh memory to
// fault in. The slowest probes came in bursts at those moments: after
// 3 s, need to suggestions' p99 at 60,000 events/s was 46 and 109 ms,
// after 30 s 30 and 27 (alternating runs).
const warmUp = 20 * time.Second

// loadSeconds is how long the background load lasts: the warm-up, about
// 15 s of probes and a margin for their last answers.
const loadSeconds = 50

// probeLatency streams the synthetic load at load events/s and publishes
// probes (id, key, value at event time ts) to the input topic, timing each
// until its output (keyed like the probe, with keyPrefix, and recognised
// by idOf) is read back. When closing is set, each probe answered is then
// closed with the message it makes (keyed like the probe), sent beside
// the next probe, so that probes do not pile up in the engine's state.
func probeLatency(b *testing.B, load int, topics func(*env) (in, out string), probe func(i int, ts int64) (id, key string, value []byte), keyPrefix string, idOf func([]byte) string, closing func(id string, ts int64) []byte) {
	e := newEnv(b, 8)
	en := e.startEngine(benchEngine()...)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	in, out := topics(e)

	// Background load: the catch-up benchmark's mix, published at `load`
	// events/s, long enough to outlast the warm-up and the probes.
	lc := simulator.DefaultLoad()
	lc.Events = load * loadSeconds
	pc := publishConfig(e, float64(load)/float64(lc.Rate))
	var stream simulator.Stream = simulator.NewLoad(lc)
	if os.Getenv("BENCH_LIVE_LOAD") == "" {
		rec, err := simulator.Record(stream, lc.Events)
		if err != nil {
			b.Fatal(err)
		}
		stream = rec
	}
	loadStart := time.Now()
	var loadEnded atomic.Bool
	go func() {
		_, _ = simulator.Publish(ctx, stream, pc)
		loadEnded.Store(true)
	}()

	// The probe reads one partition of the output, and only probes whose
	// output lands there are sent (see onPartition0): a group reader of
	// every partition fetched each of them on its own, about 900 fetches a
	// second at 20,000 events/s, more than the engine's own, and the
	// broker and the test process answering them took CPU from the
	// engine they share two cores with. Keyed alike, the probes also all
	// enter through partition 0 of the input topic; the engine's
	// partitions all do the same work, so one stands for the others.
	//
	// MinBytes 1: the broker answers a fetch as soon as anything arrives,
	// so MaxWait adds nothing to the latency. A short one costs: kafka-go's
	// Reader drops its connection and dials again when a fetch takes
	// longer than MaxWait. With 5 ms the probe redialled all the time on
	// the loaded broker: at 20,000 events/s the test process used 73% of
	// a core (55% with 250 ms), and the broker hop's p99 was 25-39 ms
	// (11-20 ms).
	r := kafka.NewReader(kafka.ReaderConfig{Brokers: e.brokers, Topic: out, Partition: 0,
		MinBytes: 1, MaxBytes: 1 << 20, MaxWait: 250 * time.Millisecond,
		ReadBackoffMin: time.Millisecond, ReadBackoffMax: 5 * time.Millisecond})
	if err := r.SetOffset(kafka.LastOffset); err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	var mu sync.Mutex
	sent := map[string]time.Time{}
	var lat []time.Duration
	var answered []string // probes to close, by id (the key they were sent with)
	prefix := []byte(keyPrefix)
	go func() {
		for {
			m, err := r.ReadMessage(ctx)
			if err != nil {
				return
			}
			if !bytes.HasPrefix(m.Key, prefix) {
				continue // the load's own output: not decoded, to spare the CPU the engine shares
			}
			id := idOf(m.Value)
			mu.Lock()
			if at, ok := sent[id]; ok {
				lat = append(lat, time.Since(at))
				delete(sent, id)
				if closing != nil {
					answered = append(answered, id)
				}
			}
			mu.Unlock()
		}
	}()
	w := &kafka.Writer{Addr: kafka.TCP(e.brokers...), Topic: in, Balancer: sink.Balancer("murmur2"),
		RequiredAcks: kafka.RequireAll, BatchSize: 1, BatchTimeout: time.Millisecond}
	defer w.Close()
	time.Sleep(warmUp)
	before := en.metrics(b)
	probing := time.Now()
	// 2,000 probes, about 15 s, so that the p99 rests on the 20 slowest
	// rather than on a handful.
	const probes = 2000
	n := 0 // candidates tried, of which probes go to partition 0
	var msgs []kafka.Message
	for range probes {
		// The probe's event time is the city's: where the simulated day has
		// got to by the schedule, less five minutes. The publisher can fall
		// behind its schedule on a busy machine, and an event stamped ahead
		// of the others is held until they reach its time (matching merges
		// in event time); the margin keeps the probes in the stream's time.
		ts := lc.Start.UnixMilli() + int64(float64(time.Since(loadStart).Milliseconds())*pc.Speed) - 300_000
		var id, key string
		var value []byte
		for {
			id, key, value = probe(n, ts)
			n++
			if onPartition0(key, e.parts) {
				break
			}
		}
		mu.Lock()
		msgs = append(msgs[:0], kafka.Message{Key: []byte(key), Value: value})
		for _, done := range answered {
			msgs = append(msgs, kafka.Message{Key: []byte(done), Value: closing(done, ts)})
		}
		answered = answered[:0]
		sent[id] = time.Now()
		mu.Unlock()
		if err := w.WriteMessages(ctx, msgs...); err != nil {
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
	// The engine's CPU time per event while the probes ran: live, each
	// fetch and each write carries a few events, where a catch-up's carry
	// thousands, so an event costs several times as much.
	after := en.metrics(b)
	elapsed := time.Since(probing)
	if loadEnded.Load() {
		b.Fatalf("the load (%d s of it) ran out before the probes' answers were in", loadSeconds)
	}
	cpu := sumMetric(after, "process_cpu_seconds_total") - sumMetric(before, "process_cpu_seconds_total")
	events := inputEvents(after, e.topics.Inputs()) - inputEvents(before, e.topics.Inputs())
	mu.Lock()
	defer mu.Unlock()
	if len(lat) < probes*9/10 {
		b.Fatalf("only %d of %d probes answered", len(lat), probes)
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
	b.ReportMetric(float64(len(lat)), "probes")
	b.ReportMetric(float64(load), "load-events/s")
	if events > 0 {
		b.ReportMetric(cpu/events*1e6, "engine-cpu-us/event")
	}
	if busy, ok := busiest(before, after, e.topics.Regions, e.parts); ok {
		b.ReportMetric(100*busy/elapsed.Seconds(), "matching-busiest-%")
	}
	share, ok := waitedOver(before, after)
	if !ok {
		b.Fatalf("the engine's go_sched_latencies_seconds has no bucket %s (0.9175 ms), or counted no wakes", slowBound)
	}
	b.ReportMetric(100*share, "slow-wakes-%")
}

// slowBound picks out the bucket of the Go collector's scheduling-latency
// histogram whose bound is near a millisecond (0.9175 ms), as
// client_golang writes it (the overview dashboard picks it out alike): a
// goroutine woken on the way from a probe to its output that waits longer
// for a core than this costs the probe about a broker hop's median.
const slowBound = `le="0.00091750`

// waitedOver is the share of the engine's goroutine wakes between two
// scrapes that stood ready to run longer than slowBound, from
// go_sched_latencies_seconds: the time an event loses waiting its turn
// for a core at each hand-off between goroutines (see the metrics
// package). ok is false when the histogram lacks that bound (its buckets
// are client_golang's) or nothing ran between the scrapes.
func waitedOver(before, after string) (share float64, ok bool) {
	const bucket, count = "go_sched_latencies_seconds_bucket", "go_sched_latencies_seconds_count"
	wakes := sumMetric(after, count) - sumMetric(before, count)
	if !strings.Contains(after, bucket+"{"+slowBound) || wakes <= 0 {
		return 0, false
	}
	quick := sumMetricWith(after, bucket, slowBound) - sumMetricWith(before, bucket, slowBound)
	return 1 - quick/wakes, true
}

// busiest is the most any one of the parts partitions of the regions
// topic kept its worker busy between two scrapes, in seconds, from
// everywhere_worker_busy_seconds_total: a city is one region, and all of
// its matching runs on the worker of that region's partition. The time
// counts the turns the worker waits for a core, so on a machine whose
// cores are all busy it is high without that worker being the limit
// (docs/performance.md, "The city's region"). ok is false when no such
// series moved.
func busiest(before, after, regions string, parts int) (seconds float64, ok bool) {
	const name = "everywhere_worker_busy_seconds_total"
	for p := range parts {
		label := fmt.Sprintf(`partition="%d",topic="%s"`, p, regions)
		if d := sumMetricWith(after, name, label) - sumMetricWith(before, name, label); d > 0 {
			seconds, ok = max(seconds, d), true
		}
	}
	return seconds, ok
}

// onPartition0 reports whether messages keyed key go to partition 0 of a
// topic of parts partitions, as the engine and the probes' writer place
// them (murmur2, the engine's default kafka.partitioner).
func onPartition0(key string, parts int) bool {
	all := make([]int, parts)
	for i := range all {
		all[i] = i
	}
	return sink.Balancer("murmur2").Balance(kafka.Message{Key: []byte(key)}, all...) == 0
}

// inputEvents is how many messages of the input topics the engine has
// processed, by its metrics text: its internal topics count there too.
func inputEvents(text string, inputs []string) float64 {
	n := 0.0
	for _, t := range inputs {
		n += sumMetricWith(text, "everywhere_events_in_total", `topic="`+t+`"`)
	}
	return n
}
