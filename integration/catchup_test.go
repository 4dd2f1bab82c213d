package integration

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"everywhere/simulator"
)

// maxRate is the engine's catch-up rate measured by BenchmarkCatchUp at
// 100,000 users (its median round), in events/s; the latency benchmarks,
// which run after it (files run in name order), load the engine at half
// of it. 0 until measured.
var maxRate float64

// BenchmarkCatchUp fills the input topics (8 partitions each) with the
// synthetic mix of simulator.Load (80% pings, 12% transactions, 5% needs,
// 3% other), then reads them twice in the same run: once with a bare
// kafka-go group reader that only fetches and commits every 10,000
// messages, the ceiling any consumer of this broker has, and once with the
// engine, ClickHouse writing on, until its group has committed every input
// and internal topic. Both rates count from the first message read to the
// last; the engine's ratio to the bare reader is the budget's second
// figure. The same number of events over 10,000, 100,000 and 1,000,000
// users shows whether cost follows the work or the city.
//
// The engine runs as deployed within the memory budget (1.5 GiB for
// 1,000,000 users): ClickHouse batches every second, and a soft memory
// limit of 1,400 MiB (engine.memory_limit_mib) under which the collector
// runs sooner rather than letting the heap grow to twice what is live.
//
// Each size runs in rounds (see rounds), each on a fresh broker and
// engine, and make bench reports the median round of each figure. One
// catch-up's rate moves with what the broker and ClickHouse take of the
// two cores: single runs of the same code at 10,000 users gave 248,353,
// 251,606, 276,871 and 305,444 events/s, and the bare reader's rate
// moved from 1.23 to 1.63 million, enough to carry a budget from met to
// missed from one run to the next.
func BenchmarkCatchUp(b *testing.B) {
	events := 2_000_000
	if s := os.Getenv("BENCH_EVENTS"); s != "" {
		events, _ = strconv.Atoi(s)
	}
	for _, users := range []int{10_000, 100_000, 1_000_000} {
		var rates []float64
		rounds(b, fmt.Sprintf("users=%d", users), func(b *testing.B) {
			r := catchUp(b, users, events)
			b.ReportMetric(r.bare, "bare-events/s")
			b.ReportMetric(r.engine, "events/s")
			b.ReportMetric(r.engine/r.bare, "ratio")
			b.ReportMetric(float64(r.rss)/(1<<20), "peak-RSS-MiB")
			b.ReportMetric(r.allocs, "allocs/event")
			b.ReportMetric(r.cpu, "engine-cpu-us/event")
			b.ReportMetric(100*r.busiest, "matching-busiest-%")
			b.ReportMetric(100*r.huge, "huge-pages-%")
			rates = append(rates, r.engine)
		})
		if users == 100_000 && len(rates) > 0 {
			slices.Sort(rates)
			maxRate = rates[len(rates)/2]
		}
	}
}

type catchUpResult struct {
	bare, engine float64 // events/s
	rss          int64   // the engine's peak resident memory, bytes
	allocs       float64 // the engine's heap allocations per event, Kafka clients included
	// cpu is the engine's CPU time per event in microseconds, from its
	// first message to drained: what it did at start (faulting its heap
	// in, reading back its tables' watermarks) is left out. It is steadier
	// than the rate, which also moves with what the broker and ClickHouse
	// take of the two cores.
	cpu float64
	// busiest is the share of the catch-up the busiest worker of the
	// regions topic, which matches the whole city, was at work (see
	// busiest).
	busiest float64
	// huge is the share of the engine's resident memory on huge pages
	// once drained (engine.heap_pages).
	huge float64
}

func catchUp(b *testing.B, users, events int) (r catchUpResult) {
	e := newEnv(b, 8)
	ctx := context.Background()
	lc := simulator.DefaultLoad()
	lc.Users, lc.Events = users, events
	st, err := simulator.Publish(ctx, simulator.NewLoad(lc), publishConfig(e, 0))
	if err != nil {
		b.Fatal(err)
	}
	total := st.Total()
	r.bare = bareRead(b, e, total)

	pprof := freeAddr(b)
	en := e.startEngine(benchEngine("EVERYWHERE_ENGINE_MEMORY_LIMIT_MIB=1400", "EVERYWHERE_HTTP_PPROF_ADDR="+pprof)...)
	var (
		start   time.Time
		mallocs float64
		cpu     float64 // the engine's CPU seconds at the first message
		first   string  // the metrics at the first message
	)
	wait(b, time.Minute, "the engine reads its first message", func() bool {
		start = time.Now()
		text, err := en.scrape()
		first = text
		mallocs = sumMetric(text, "go_memstats_mallocs_total")
		cpu = sumMetric(text, "process_cpu_seconds_total")
		return err == nil && sumMetric(text, "everywhere_events_in_total") > 0
	})
	if dir := os.Getenv("BENCH_PROFILE"); dir != "" {
		from, length := profileWindow(b)
		go func() {
			time.Sleep(from)
			saveProfile(b, pprof, "profile?seconds="+strconv.Itoa(length), filepath.Join(dir, profileName(b, users, "pprof")))
		}()
	}
	e.drained(10 * time.Minute)
	elapsed := time.Since(start)
	r.engine = float64(total) / elapsed.Seconds()
	if dir := os.Getenv("BENCH_PROFILE"); dir != "" {
		saveProfile(b, pprof, "allocs", filepath.Join(dir, profileName(b, users, "allocs.pprof")))
	}
	text := en.metrics(b)
	if in := sumMetric(text, "everywhere_events_in_total"); int(in) < total {
		b.Fatalf("the engine processed %.0f of %d events", in, total)
	}
	r.allocs = (sumMetric(text, "go_memstats_mallocs_total") - mallocs) / float64(total)
	r.cpu = (sumMetric(text, "process_cpu_seconds_total") - cpu) / float64(total) * 1e6
	r.rss = peakRSS(b, en.cmd.Process.Pid)
	r.huge = hugeShare(b, en.cmd.Process.Pid)
	if busy, ok := busiest(first, text, e.topics.Regions, e.parts); ok {
		r.busiest = busy / elapsed.Seconds()
	}
	en.stop()
	return r
}

// profileName names a catch-up's profile file by its size and round:
// catchup-100000-round=2.pprof.
func profileName(b *testing.B, users int, ext string) string {
	return fmt.Sprintf("catchup-%d-%s.%s", users, path.Base(b.Name()), ext)
}

// profileWindow is where a catch-up's CPU profile starts, after its first
// message, and how many seconds it lasts: BENCH_PROFILE_FROM (a duration,
// 0 by default) and BENCH_PROFILE_SECONDS (5). The end of a catch-up is
// not its start: at 1,000,000 users its last three seconds or so are the
// city's matching worker alone, the rest of the engine caught up (see
// docs/performance.md, "The city's region"). A window that outlasts the
// catch-up gets no profile, since the engine stops first.
func profileWindow(b *testing.B) (from time.Duration, seconds int) {
	seconds = 5
	if s := os.Getenv("BENCH_PROFILE_FROM"); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil || d < 0 {
			b.Fatalf("BENCH_PROFILE_FROM=%q: want a duration such as 3.5s", s)
		}
		from = d
	}
	if s := os.Getenv("BENCH_PROFILE_SECONDS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			b.Fatalf("BENCH_PROFILE_SECONDS=%q: want a whole number of seconds, 1 or more", s)
		}
		seconds = n
	}
	return from, seconds
}

// saveProfile writes one of the engine's profiles to file, for `go tool
// pprof`: set BENCH_PROFILE to a directory to get, per round, a CPU
// profile of the catch-up (5 s from its start; see profileWindow) and the
// allocations of the whole run (`-sample_index=alloc_objects` shows where
// allocs/event come from). The engine's partition workers carry a pprof
// label, `worker` (topic/partition), so `go tool pprof -tags` splits the
// CPU by worker.
func saveProfile(b *testing.B, addr, profile, file string) {
	resp, err := http.Get("http://" + addr + "/debug/pprof/" + profile)
	if err != nil {
		b.Log("profile:", err)
		return
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if err := os.WriteFile(file, body, 0o644); err != nil {
		b.Log("profile:", err)
	}
}

// bareRead is the ceiling: a kafka-go group reader over the same topics
// that fetches every message and commits every 10,000, nothing else.
func bareRead(b *testing.B, e *env, total int) float64 {
	r := kafka.NewReader(kafka.ReaderConfig{Brokers: e.brokers, GroupID: "bare", GroupTopics: e.topics.Inputs(),
		MinBytes: 1, MaxBytes: 10 << 20, QueueCapacity: 1024, StartOffset: kafka.FirstOffset})
	defer r.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	latest := map[[2]any]kafka.Message{}
	commit := func() {
		msgs := make([]kafka.Message, 0, len(latest))
		for _, m := range latest {
			msgs = append(msgs, m)
		}
		if err := r.CommitMessages(ctx, msgs...); err != nil {
			b.Fatal(err)
		}
		clear(latest)
	}
	var start time.Time
	for n := 0; n < total; n++ {
		m, err := r.FetchMessage(ctx)
		if err != nil {
			b.Fatalf("bare reader after %d of %d: %v", n, total, err)
		}
		if n == 0 {
			start = time.Now()
		}
		latest[[2]any{m.Topic, m.Partition}] = m
		if (n+1)%10_000 == 0 {
			commit()
		}
	}
	commit()
	return float64(total) / time.Since(start).Seconds()
}

func publishConfig(e *env, speed float64) simulator.PublishConfig {
	pc := simulator.PublishConfig{Brokers: e.brokers, Speed: speed}
	pc.Topics = [simulator.NumTopics]string{e.topics.Pings, e.topics.Profiles, e.topics.Transactions, e.topics.Needs, e.topics.Outcomes}
	return pc
}

// sumMetric adds up every series of a metric family.
func sumMetric(text, name string) float64 { return sumMetricWith(text, name, "") }

// sumMetricWith sums the series of metric name whose line holds label,
// a `key="value"` pair.
func sumMetricWith(text, name, label string) float64 {
	sum := 0.0
	for _, line := range strings.Split(text, "\n") {
		if (strings.HasPrefix(line, name+"{") || strings.HasPrefix(line, name+" ")) && strings.Contains(line, label) {
			if i := strings.LastIndexByte(line, ' '); i > 0 {
				v, _ := strconv.ParseFloat(line[i+1:], 64)
				sum += v
			}
		}
	}
	return sum
}

// hugeShare is the share of a process's resident memory on transparent
// huge pages, from /proc/<pid>/smaps_rollup.
func hugeShare(b testing.TB, pid int) float64 {
	text, err := os.ReadFile(fmt.Sprintf("/proc/%d/smaps_rollup", pid))
	if err != nil {
		b.Fatal(err)
	}
	var rss, huge float64
	for _, line := range strings.Split(string(text), "\n") {
		f := strings.Fields(line)
		if len(f) != 3 {
			continue
		}
		switch f[0] {
		case "Rss:":
			rss, _ = strconv.ParseFloat(f[1], 64)
		case "AnonHugePages:":
			huge, _ = strconv.ParseFloat(f[1], 64)
		}
	}
	if rss == 0 {
		b.Fatalf("no Rss in /proc/%d/smaps_rollup", pid)
	}
	return huge / rss
}

// peakRSS is the most resident memory the process has had (VmHWM), bytes.
func peakRSS(t testing.TB, pid int) int64 { return statusBytes(t, pid, "VmHWM") }

// residentBytes is the process's resident memory now (VmRSS), bytes.
func residentBytes(t testing.TB, pid int) int64 { return statusBytes(t, pid, "VmRSS") }

// statusBytes reads a size in kB from the process's /proc status, bytes.
func statusBytes(t testing.TB, pid int, field string) int64 {
	t.Helper()
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(status), "\n") {
		if f := strings.Fields(line); len(f) == 3 && f[0] == field+":" {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb << 10
		}
	}
	t.Fatalf("no %s in /proc/%d/status", field, pid)
	return 0
}
