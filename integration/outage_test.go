package integration

import (
	"context"
	"net"
	"os"
	"os/exec"
	"testing"
	"time"

	"everywhere/kafkaadmin"
	"everywhere/simulator"
)

// clickhouseServer is a ClickHouse server of one test's own (its ports
// and data directory), started and stopped with dev/clickhouse.sh, for
// tests that take it away: the shared server stays up for the others.
type clickhouseServer struct {
	t    testing.TB
	env  []string
	addr string
}

func startClickHouse(t testing.TB) *clickhouseServer {
	port := func() string { _, p, _ := net.SplitHostPort(freeAddr(t)); return p }
	tcp := port()
	c := &clickhouseServer{t: t, addr: "127.0.0.1:" + tcp, env: append(os.Environ(),
		"CLICKHOUSE_DIR="+t.TempDir(), "CLICKHOUSE_TCP_PORT="+tcp,
		"CLICKHOUSE_HTTP_PORT="+port(), "CLICKHOUSE_INTERSERVER_PORT="+port())}
	c.run("start")
	t.Cleanup(func() { c.run("stop") })
	return c
}

func (c *clickhouseServer) run(action string) {
	c.t.Helper()
	cmd := exec.Command("../dev/clickhouse.sh", action)
	cmd.Env = c.env
	if out, err := cmd.CombinedOutput(); err != nil {
		c.t.Fatalf("clickhouse %s: %v\n%s", action, err, out)
	}
}

// TestClickHouseOutage stops ClickHouse for 60 s while the engine takes a
// steady stream. Meanwhile the engine must stay up, report not ready,
// count write errors, commit nothing and stop taking input (so memory
// stays bounded); when ClickHouse is back it must catch up, and every
// aggregate must equal the input's totals.
func TestClickHouseOutage(t *testing.T) {
	if testing.Short() {
		t.Skip("takes two minutes")
	}
	t.Parallel() // beside two other long tests: see the package doc
	ch := startClickHouse(t)
	e := newEnvAt(t, 4, ch.addr, "")
	en := e.startEngine()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	lc := simulator.DefaultLoad()
	lc.Users, lc.Events = 5_000, 200_000
	published := stream(ctx, e, lc) // 2,000 events/s: 100 s, past the outage
	inputs := e.topics.Inputs()
	committed := func() int64 {
		n, err := kafkaadmin.Committed(ctx, e.brokers, "everywhere", inputs)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	wait(t, time.Minute, "the engine ready and committing", func() bool { return en.ready() && committed() > 0 })
	time.Sleep(5 * time.Second)

	ch.run("stop")
	down := time.Now()
	wait(t, 30*time.Second, "the engine reports not ready", func() bool { return !en.ready() })
	time.Sleep(20 * time.Second) // in-flight runs give up, queues fill
	frozen := committed()
	processed := sumMetric(en.metrics(t), "everywhere_events_in_total")
	errors := sumMetric(en.metrics(t), "everywhere_sink_errors_total")
	for time.Since(down) < 60*time.Second {
		time.Sleep(2 * time.Second)
		if en.cmd.ProcessState != nil {
			t.Fatalf("the engine exited during the outage: %v", en.cmd.ProcessState)
		}
		if en.ready() {
			t.Fatal("the engine reports ready while ClickHouse is down")
		}
	}
	m := en.metrics(t)
	if c := committed(); c != frozen {
		t.Errorf("committed offsets moved during the outage: %d then %d", frozen, c)
	}
	if p := sumMetric(m, "everywhere_events_in_total"); p != processed {
		t.Errorf("the engine processed %.0f more events with ClickHouse down: it should stop taking input", p-processed)
	}
	if x := sumMetric(m, "everywhere_sink_errors_total"); x <= errors || errors == 0 {
		t.Errorf("sink errors %.0f then %.0f: the failed writes should be counted as they are retried", errors, x)
	}
	rss := peakRSS(t, en.cmd.Process.Pid)
	t.Logf("outage: %.0f events processed before input stopped, %.0f write errors, peak RSS %d MiB", processed, errors, rss>>20)

	select {
	case <-published:
		t.Fatal("the stream ended during the outage: it must go on past it, or the checks above prove nothing")
	default:
	}
	ch.run("start")
	st := <-published
	e.drained(3 * time.Minute)
	if !en.ready() {
		t.Error("the engine is not ready after ClickHouse came back")
	}
	e.holdTotals(lc, st.Total(), "after the outage")
	if rss > 1<<30 {
		t.Errorf("peak RSS %d MiB, want under 1 GiB", rss>>20)
	}
}

// TestRebalanceDuringAnOutageCountsOnce takes ClickHouse away while two
// engines share a stream, and stops one of them meanwhile. Every
// partition of the other stops at the rebalance with its writes queued
// (its drain runs out), and comes back to it in the next generation with
// the stopped one's. Its sinks retry those writes a minute after they
// first failed, long after ClickHouse is back; the partitions' new
// workers retry reading where the count tables stand every 10 s at most.
// They must wait for the queued writes before they read (batcher.Barrier):
// without that they read first and count the same messages again
// (ping_cell_minute held 99,446 pings where 96,128 were sent).
func TestRebalanceDuringAnOutageCountsOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("takes a minute and a half")
	}
	t.Parallel() // beside two other long tests: see the package doc
	ch := startClickHouse(t)
	e := newEnvAt(t, 4, ch.addr, "")
	settings := []string{"EVERYWHERE_ENGINE_SHUTDOWN_TIMEOUT=2s",
		"EVERYWHERE_CLICKHOUSE_RETRY_BACKOFF=60s", "EVERYWHERE_CLICKHOUSE_MAX_BACKOFF=60s"}
	a, b := e.startEngine(settings...), e.startEngine(settings...)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	lc := simulator.DefaultLoad()
	lc.Users, lc.Events = 2_000, 120_000
	owned := func(en *engine) float64 {
		text, err := en.scrape()
		if err != nil {
			return -1
		}
		return sumMetric(text, "everywhere_assigned_partitions")
	}
	// The stream starts once both engines share the partitions. Started
	// before, the second one's joining moved partitions while the first
	// had writes in flight for them: landing after the second read where
	// the tables stand, they would be counted twice. That is the limit
	// across instances the README states (Restarts, outages and bad
	// input), not the race within one instance this test is for. A CI run
	// that failed with need_cell_minute at 4,488 needs where 4,475 were
	// sent, and txn_cell_minute over by 41, fits it (its engine logs had
	// been cut to their last lines).
	wait(t, time.Minute, "both engines ready, with partitions each", func() bool {
		return a.ready() && b.ready() && owned(a) > 0 && owned(b) > 0
	})
	published := stream(ctx, e, lc) // 2,000 events/s: 60 s, past the outage
	wait(t, time.Minute, "both engines committing what they read", func() bool {
		n, err := kafkaadmin.Committed(ctx, e.brokers, "everywhere", e.topics.Inputs())
		return err == nil && n > 0 && owned(a) > 0 && owned(b) > 0
	})
	time.Sleep(3 * time.Second)
	all := owned(a) + owned(b)

	ch.run("stop")
	wait(t, 30*time.Second, "both engines report not ready", func() bool { return !a.ready() && !b.ready() })
	if _, err := b.stop(); err != nil {
		t.Fatalf("stopping one instance: %v", err)
	}
	wait(t, time.Minute, "the other owning every partition", func() bool { return owned(a) == all })
	time.Sleep(3 * time.Second) // its restores try the tables and back off
	select {
	case <-published:
		t.Fatal("the stream ended during the outage: it must go on past it, or the rebalance met no writes in flight")
	default:
	}
	ch.run("start")
	st := <-published
	e.drained(3 * time.Minute)
	e.holdTotals(lc, st.Total(), "after a rebalance during the outage")
}

// stream publishes load lc at 2,000 events/s in the background, and
// sends what it published when it ends.
func stream(ctx context.Context, e *env, lc simulator.LoadConfig) <-chan simulator.Stats {
	published := make(chan simulator.Stats, 1)
	go func() {
		st, _ := simulator.Publish(ctx, simulator.NewLoad(lc), publishConfig(e, 1))
		published <- st
	}()
	return published
}

// holdTotals checks that the tables hold the totals of the first n
// events of load lc, as the input makes them; when says at what point.
func (e *env) holdTotals(lc simulator.LoadConfig, n int, when string) {
	e.t.Helper()
	for q, want := range expectTotals(lc, n) {
		if got := e.queryUint(q); got != want {
			e.t.Errorf("%s = %d %s, want %d (the input's total)", q, got, when, want)
		}
	}
}

// expectTotals replays the first n events of load lc and returns the
// aggregates the dashboards read, by query, as the input makes them.
func expectTotals(lc simulator.LoadConfig, n int) map[string]uint64 {
	lc.Events = n
	l := simulator.NewLoad(lc)
	x := expect(collect(l))
	var pings, txns, amount, needs uint64
	for _, c := range x.pings {
		pings += c[0]
	}
	for _, c := range x.txns {
		txns += c[0]
		amount += c[1]
	}
	for _, c := range x.needs {
		needs += c
	}
	return map[string]uint64{
		"SELECT sum(pings) FROM ping_cell_minute":       pings,
		"SELECT sum(txns) FROM txn_cell_minute":         txns,
		"SELECT sum(amount_total) FROM txn_cell_minute": amount,
		"SELECT sum(needs) FROM need_cell_minute":       needs,
		"SELECT count() FROM outcomes FINAL":            uint64(len(x.outcomes)),
	}
}

func collect(s simulator.Stream) []simulator.Message {
	var out []simulator.Message
	var m simulator.Message
	for s.Next(&m) {
		out = append(out, m)
	}
	return out
}

// firstN yields the next n messages of a stream and then stops, so that
// one stream can be published in parts.
type firstN struct {
	simulator.Stream
	n int
}

func (f *firstN) Next(m *simulator.Message) bool {
	if f.n <= 0 {
		return false
	}
	f.n--
	return f.Stream.Next(m)
}

// TestBrokerRestart stops the broker for 15 s while the engine works
// through a backlog, then starts it again from its log. The engine must
// stay up, report not ready while the broker is away, and resume without
// loss: once the rest of the stream is published and processed, every
// aggregate equals the input's total.
func TestBrokerRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("restarts the broker")
	}
	t.Parallel() // beside two other long tests: see the package doc
	dir := t.TempDir()
	e := newEnvAt(t, 4, clickhouseAddr(), dir)
	en := e.startEngine()
	ctx := context.Background()
	lc := simulator.DefaultLoad()
	lc.Users, lc.Events = 5_000, 300_000
	load := simulator.NewLoad(lc)
	first, err := simulator.Publish(ctx, &firstN{load, 150_000}, publishConfig(e, 0))
	if err != nil {
		t.Fatal(err)
	}
	wait(t, time.Minute, "the engine at work on the backlog", func() bool {
		text, err := en.scrape()
		return err == nil && sumMetric(text, "everywhere_events_in_total") > 10_000
	})

	e.stopBroker()
	wait(t, 30*time.Second, "the engine reports not ready without a broker", func() bool { return !en.ready() })
	time.Sleep(15 * time.Second)
	if en.cmd.ProcessState != nil {
		t.Fatalf("the engine exited without a broker: %v", en.cmd.ProcessState)
	}
	e.startBroker(dir)

	second, err := simulator.Publish(ctx, load, publishConfig(e, 0))
	if err != nil {
		t.Fatal(err)
	}
	e.drained(3 * time.Minute)
	wait(t, 30*time.Second, "the engine ready again", en.ready)
	for q, n := range expectTotals(lc, first.Total()+second.Total()) {
		if got := e.queryUint(q); got != n {
			t.Errorf("%s = %d after the broker restart, want %d (the input's total)", q, got, n)
		}
	}
}

// TestEngineWaitsForTheBroker starts the engine while no broker answers.
// It must not exit: it reports not ready, reads the topics' partitions
// once a broker is back, and then counts the stream as if it had been
// there from the start.
func TestEngineWaitsForTheBroker(t *testing.T) {
	e := newEnv(t, 4)
	e.stopBroker()
	en := e.startEngine()
	alive := func() {
		select {
		case err := <-en.done:
			t.Fatalf("the engine exited without a broker: %v", err)
		default:
		}
	}
	// The engine serves HTTP before it connects to anything; a refused
	// dial fails at once, so it has tried Kafka several times 3 s on.
	wait(t, 30*time.Second, "the engine serving HTTP", func() bool {
		alive()
		_, err := en.scrape()
		return err == nil
	})
	time.Sleep(3 * time.Second)
	alive()
	if en.ready() {
		t.Fatal("ready without a broker")
	}
	e.startBroker("")
	lc := simulator.DefaultLoad()
	lc.Users, lc.Events = 2_000, 40_000
	st, err := simulator.Publish(context.Background(), simulator.NewLoad(lc), publishConfig(e, 0))
	if err != nil {
		t.Fatal(err)
	}
	e.drained(2 * time.Minute)
	wait(t, 30*time.Second, "the engine ready", en.ready)
	e.holdTotals(lc, st.Total(), "once the broker came")
}
