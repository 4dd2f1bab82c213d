package integration

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"everywhere/config"
	"everywhere/devbroker"
	"everywhere/kafkaadmin"
	"everywhere/sql"
	"everywhere/warehouse"
)

var binary string

// soaking is set by `make soak`: the tests that damage the engine run
// their heavier variants (see heavy).
var soaking = os.Getenv("SOAK") != ""

// heavy is normal in `make test` and soak under `make soak`.
func heavy[T any](normal, soak T) T {
	if soaking {
		return soak
	}
	return normal
}

// coverDir, when COVER_ENGINE sets it (see `make cover`), has the engine
// built with coverage of every package, each engine writing its counters
// there when it exits; a test's engine is then stopped with SIGTERM at
// its end rather than killed, since a killed process writes none.
var coverDir = os.Getenv("COVER_ENGINE")

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "everywhere-it")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "everywhere")
	args := []string{"build", "-o", binary}
	if raceBuild {
		args = append(args, "-race")
	}
	if coverDir != "" {
		args = append(args, "-cover", "-coverpkg=everywhere/...")
	}
	build := exec.Command("go", append(args, "../cmd/everywhere")...)
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build engine:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// env is one test's world: its own broker, topic prefix and database.
type env struct {
	t       testing.TB
	broker  *devbroker.Broker
	topicsN []string // every topic the broker was started with
	parts   int
	brokers []string
	prefix  string
	topics  config.Topics
	ch      config.ClickHouse
	conn    driver.Conn
}

func clickhouseAddr() string {
	port := os.Getenv("CLICKHOUSE_TCP_PORT")
	if port == "" {
		port = "9000"
	}
	return "127.0.0.1:" + port
}

// newEnv starts a broker with the engine's topics and extra ones (names
// under the test's prefix), and makes a fresh database.
func newEnv(t testing.TB, partitions int, extra ...string) *env {
	t.Helper()
	return newEnvAt(t, partitions, clickhouseAddr(), "", extra...)
}

// newEnvAt is newEnv with the ClickHouse server at chAddr and, when
// brokerDir is set, a broker that keeps its log there (see restartBroker).
func newEnvAt(t testing.TB, partitions int, chAddr, brokerDir string, extra ...string) *env {
	t.Helper()
	cfg, err := config.Load("", nil)
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, prefix: "it" + strconv.Itoa(rand.IntN(1e6)) + "."}
	cfg.Topic.Prefix = e.prefix
	e.topics = cfg.Topics()
	topics := e.topics.All()
	for _, x := range extra {
		topics = append(topics, e.prefix+x)
	}
	b, err := devbroker.Start("127.0.0.1:0", partitions, topics, brokerDir)
	if err != nil {
		t.Fatal(err)
	}
	e.broker, e.topicsN, e.parts = b, topics, partitions
	t.Cleanup(func() { e.broker.Close() })
	e.brokers = b.Addrs()

	e.ch = cfg.ClickHouse
	e.ch.Addr = chAddr
	name := strings.ToLower(regexp.MustCompile(`[^A-Za-z0-9]+`).ReplaceAllString(t.Name(), "_"))
	e.ch.Database = fmt.Sprintf("it_%s_%d", name, rand.IntN(1e6))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := warehouse.Migrate(ctx, e.ch, sql.Migrations); err != nil {
		t.Fatalf("ClickHouse at %s is needed (make clickhouse starts one): %v", e.ch.Addr, err)
	}
	e.conn, err = warehouse.Open(ctx, e.ch)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// A fresh database per test, dropped after: never TRUNCATE, whose
		// rows come back after a ClickHouse restart.
		_ = e.conn.Exec(context.Background(), "DROP DATABASE IF EXISTS "+e.ch.Database)
		e.conn.Close()
	})
	return e
}

// stopBroker stops the broker; startBroker starts it again on the same
// address from the log it kept in brokerDir.
func (e *env) stopBroker() { e.broker.Close() }

func (e *env) startBroker(brokerDir string) {
	e.t.Helper()
	var err error
	deadline := time.Now().Add(30 * time.Second)
	for {
		if e.broker, err = devbroker.Start(e.brokers[0], e.parts, e.topicsN, brokerDir); err == nil {
			return
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("restart the broker on %s: %v", e.brokers[0], err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// engine is the engine binary running as its own process.
type engine struct {
	cmd  *exec.Cmd
	http string
	logs *bytes.Buffer
	done chan error
}

// freeAddr returns a local address free now, for a process about to
// listen on it, on a port below Linux's ephemeral range (32768 up, by
// default). A port the kernel hands out for ":0" comes from that range,
// as does the local port of every outgoing connection, and between this
// test's look and the engine's listen one of the engine's own first
// connections took it: "bind: address already in use" failed a
// catch-up's start.
func freeAddr(t testing.TB) string {
	for range 200 {
		addr := fmt.Sprintf("127.0.0.1:%d", 20_000+rand.IntN(12_000))
		if l, err := net.Listen("tcp", addr); err == nil {
			l.Close()
			return addr
		}
	}
	t.Fatal("no free port found between 20000 and 32000")
	return ""
}

// benchEngine is the environment the catch-up and latency benchmarks run
// the engine in, with extra settings of their own after it:
//
//   - ClickHouse batches as deployed (clickhouse.flush_interval's
//     default), not the tests' 200 ms: inserts five times as often took
//     CPU the engine and broker share, and the latencies' p50s were a
//     quarter higher.
//   - The heap is faulted in at start (engine.heap_pages prefaulted, the
//     runtime keeping the pages it frees): on this machine a page first
//     touched costs the host's fault too. A heap growing by a gigabyte
//     during a catch-up paid it on the way, up to 3 s of the engine's
//     CPU, and its growth during the probes put a thread's 2 ms faults on
//     their way (docs/performance.md, "Huge pages for the heap").
//   - GOMAXPROCS is one more than the machine's cores, which the engine
//     shares with the broker, the load and ClickHouse. With a processor
//     for each core, a goroutine ready to run waits while the kernel has
//     given that processor's thread's core to a neighbour; with one more,
//     another of the engine's threads may have a core. At 130,000
//     events/s, ten alternating pairs of single rounds: need to
//     suggestions' p99 lower in seven (medians 53.6 and 69.5 ms), its p50
//     in seven (8.0 and 9.0 ms), at the same CPU per event; catch-ups at
//     100,000 users within each other's spread (docs/performance.md,
//     "Waiting for a core"). A machine of its own, as deployed, needs no
//     more than its cores.
func benchEngine(extra ...string) []string {
	return append([]string{
		"EVERYWHERE_CLICKHOUSE_FLUSH_INTERVAL=1s",
		"EVERYWHERE_ENGINE_HEAP_PAGES=prefaulted", "GODEBUG=madvdontneed=0",
		"GOMAXPROCS=" + strconv.Itoa(runtime.NumCPU()+1),
	}, extra...)
}

// startEngine runs `everywhere run` configured through the environment, the
// way a deployment configures it.
func (e *env) startEngine(extra ...string) *engine {
	e.t.Helper()
	en := &engine{http: freeAddr(e.t), logs: &bytes.Buffer{}, done: make(chan error, 1)}
	en.cmd = exec.Command(binary, "run")
	en.cmd.Env = append(os.Environ(),
		"EVERYWHERE_KAFKA_BROKERS="+strings.Join(e.brokers, ","),
		"EVERYWHERE_TOPIC_PREFIX="+e.prefix,
		"EVERYWHERE_CLICKHOUSE_ADDR="+e.ch.Addr,
		"EVERYWHERE_CLICKHOUSE_DATABASE="+e.ch.Database,
		"EVERYWHERE_HTTP_ADDR="+en.http,
		"EVERYWHERE_CLICKHOUSE_FLUSH_INTERVAL=200ms",
		"EVERYWHERE_KAFKA_SESSION_TIMEOUT=6s",
	)
	if coverDir != "" {
		en.cmd.Env = append(en.cmd.Env, "GOCOVERDIR="+coverDir)
	}
	en.cmd.Env = append(en.cmd.Env, extra...)
	en.cmd.Stdout, en.cmd.Stderr = en.logs, en.logs
	// The engine stays in the test process's session, and so in its
	// scheduling group: in a session of its own, latency at half the
	// catch-up rate was worse (docs/performance.md, "Waiting for a core").
	if err := en.cmd.Start(); err != nil {
		e.t.Fatal(err)
	}
	go func() { en.done <- en.cmd.Wait() }()
	e.t.Cleanup(func() {
		if en.cmd.ProcessState == nil {
			if coverDir != "" {
				en.stop()
			} else {
				en.kill()
			}
		}
		if e.t.Failed() {
			e.t.Logf("engine log:\n%s", tail(en.logs.String(), 4000))
		}
	})
	return en
}

// kill sends SIGKILL and waits for the engine to exit.
func (en *engine) kill() {
	en.cmd.Process.Kill()
	<-en.done
}

// stop sends SIGTERM and returns how long the engine took to exit and its
// exit error.
func (en *engine) stop() (time.Duration, error) {
	start := time.Now()
	en.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-en.done:
		return time.Since(start), err
	case <-time.After(30 * time.Second):
		en.cmd.Process.Kill()
		return time.Since(start), fmt.Errorf("engine did not exit within 30 s of SIGTERM")
	}
}

func (en *engine) metrics(t testing.TB) string {
	t.Helper()
	text, err := en.scrape()
	if err != nil {
		t.Fatal(err)
	}
	return text
}

// assigned waits until the engine has joined its consumer group and holds
// partitions. The crash tests kill an engine only then: kfake starts a
// member's session timer when it delivers the member's JoinGroup answer,
// so a member killed while waiting for that answer is never expired, and
// once the group's leader has synced it holds its share of the
// partitions for good. A real broker expires it after its session
// timeout.
func (en *engine) assigned(t testing.TB) {
	t.Helper()
	wait(t, time.Minute, "the engine holds partitions", func() bool {
		text, err := en.scrape()
		return err == nil && sumMetric(text, "everywhere_assigned_partitions") > 0
	})
}

// scrape reads /metrics; it fails while the engine is starting.
func (en *engine) scrape() (string, error) {
	resp, err := http.Get("http://" + en.http + "/metrics")
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}

// metric returns the value of one series line, e.g.
// `everywhere_deadletters_total{topic="x"}`.
func metric(text, series string) float64 {
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, series+" ") {
			v, _ := strconv.ParseFloat(strings.TrimSpace(line[len(series):]), 64)
			return v
		}
	}
	return -1
}

// kcatProduce publishes key<TAB>value lines to topic with kcat.
func (e *env) kcatProduce(topic string, lines []string) {
	e.t.Helper()
	cmd := exec.Command("kcat", "-P", "-b", strings.Join(e.brokers, ","), "-t", topic, "-K", "\t", "-X", "acks=all", "-X", "partitioner=murmur2_random")
	cmd.Stdin = strings.NewReader(strings.Join(lines, "\n") + "\n")
	out, err := cmd.CombinedOutput()
	if err != nil {
		e.t.Fatalf("kcat produce to %s: %v\n%s", topic, err, out)
	}
}

// kcatConsume reads every message of topic with kcat, payloads only.
func (e *env) kcatConsume(topic string) []string {
	e.t.Helper()
	cmd := exec.Command("kcat", "-C", "-b", strings.Join(e.brokers, ","), "-t", topic, "-e", "-q", "-f", "%s\n")
	out, err := cmd.Output()
	if err != nil {
		e.t.Fatalf("kcat consume %s: %v", topic, err)
	}
	var msgs []string
	for _, l := range strings.Split(string(out), "\n") {
		if l != "" {
			msgs = append(msgs, l)
		}
	}
	return msgs
}

// drained waits up to d until the engine's group has committed every
// input and internal topic; on failure it logs each topic's lag.
func (e *env) drained(d time.Duration) {
	e.t.Helper()
	e.drainedAs(d, "everywhere", append(e.topics.Inputs(), e.topics.Internal()...))
}

// drainedAs waits up to d until group has committed every message of topics.
func (e *env) drainedAs(d time.Duration, group string, topics []string) {
	e.t.Helper()
	lag := func(topics ...string) (int64, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		return kafkaadmin.GroupLag(ctx, e.brokers, group, topics)
	}
	deadline := time.Now().Add(d)
	for {
		if n, err := lag(topics...); err == nil && n == 0 {
			return
		}
		if time.Now().After(deadline) {
			for _, topic := range topics {
				n, _ := lag(topic)
				e.t.Logf("%s: lag %d", topic, n)
			}
			e.t.Fatalf("after %s group %s has not committed every topic", d, group)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// ready reports whether the engine answers /readyz with 200.
func (en *engine) ready() bool {
	resp, err := http.Get("http://" + en.http + "/readyz")
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// lag is how far the engine's group is behind on the input topics.
func (e *env) lag() int64 {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	n, err := kafkaadmin.GroupLag(ctx, e.brokers, "everywhere", e.topics.Inputs())
	if err != nil {
		return -1
	}
	return n
}

func (e *env) queryUint(q string) uint64 {
	e.t.Helper()
	var n uint64
	if err := e.conn.QueryRow(context.Background(), q).Scan(&n); err != nil {
		e.t.Fatalf("%s: %v", q, err)
	}
	return n
}

// wait polls cond until it holds or d passes.
func wait(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %s: %s", d, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return "..." + s[len(s)-n:]
	}
	return s
}
