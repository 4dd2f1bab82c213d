// Command benchtable reads the output of `go test -bench` over the whole
// module and prints the one table `make bench` shows: throughput against
// a bare Kafka reader, the per-stage costs, latency at half the maximum
// rate and memory, each next to its budget from the design notes.
// Figures a run did not produce are shown as "-".
package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
)

// results maps "package/Benchmark/sub" (without the -N suffix) to its
// figures by unit.
type results map[string]map[string]float64

func parse(r io.Reader) (results, []string) {
	res := results{}
	var head []string
	pkg := ""
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "pkg: "):
			pkg = strings.TrimPrefix(line, "pkg: ")
			continue
		case strings.HasPrefix(line, "cpu: ") || strings.HasPrefix(line, "goos: ") || strings.HasPrefix(line, "goarch: "):
			if !contains(head, line) {
				head = append(head, line)
			}
			continue
		case !strings.HasPrefix(line, "Benchmark"):
			continue
		}
		f := strings.Fields(line)
		if len(f) < 4 {
			continue
		}
		name := f[0]
		if i := strings.LastIndexByte(name, '-'); i > 0 {
			if _, err := strconv.Atoi(name[i+1:]); err == nil {
				name = name[:i]
			}
		}
		m := map[string]float64{}
		for i := 2; i+1 < len(f); i += 2 {
			if v, err := strconv.ParseFloat(f[i], 64); err == nil {
				m[f[i+1]] = v
			}
		}
		res[pkg[strings.LastIndexByte(pkg, '/')+1:]+"/"+name] = m
	}
	return res, head
}

func contains(s []string, x string) bool {
	for _, y := range s {
		if y == x {
			return true
		}
	}
	return false
}

// get formats one figure, "-" when absent. A benchmark measured in
// rounds (sub-benchmarks name/round=N) gives the median of its rounds.
func (r results) get(name, unit string, format string) string {
	if m, ok := r[name]; ok {
		if v, ok := m[unit]; ok {
			return fmt.Sprintf(format, v)
		}
		return "-"
	}
	var vs []float64
	for n, m := range r {
		if v, ok := m[unit]; ok && strings.HasPrefix(n, name+"/round=") {
			vs = append(vs, v)
		}
	}
	if len(vs) == 0 {
		return "-"
	}
	slices.Sort(vs)
	med := vs[len(vs)/2]
	if len(vs)%2 == 0 {
		med = (vs[len(vs)/2-1] + med) / 2
	}
	return fmt.Sprintf(format, med)
}

// rounds formats a figure of every round of a benchmark measured in
// rounds, in round order, "-" when it has none.
func (r results) rounds(name, unit, format string) string {
	var out []string
	for i := 1; ; i++ {
		m, ok := r[fmt.Sprintf("%s/round=%d", name, i)]
		if !ok {
			break
		}
		v, ok := m[unit]
		if !ok {
			out = append(out, "-")
			continue
		}
		out = append(out, fmt.Sprintf(format, v))
	}
	if len(out) == 0 {
		return "-"
	}
	return strings.Join(out, " / ")
}

func main() {
	r, head := parse(os.Stdin)
	w := tabwriter.NewWriter(os.Stdout, 2, 8, 2, ' ', 0)
	for _, h := range head {
		fmt.Fprintln(w, h)
	}
	section := func(title string, cols ...string) {
		fmt.Fprintf(w, "\n%s\n", title)
		fmt.Fprintln(w, strings.Join(cols, "\t")+"\t")
	}
	row := func(cells ...string) { fmt.Fprintln(w, strings.Join(cells, "\t")+"\t") }

	section("Catch-up on a filled topic: 8 partitions, 80% pings, 12% transactions, 5% needs, 3% other; ClickHouse writing; memory limit 1,400 MiB; engine.heap_pages: prefaulted; GOMAXPROCS one above the cores (median round)",
		"users", "bare reader ev/s", "engine ev/s", "engine ev/s by round", "ratio", "ratio by round", "engine CPU µs/event", "engine allocs/event", "busiest matching partition, % busy", "peak RSS MiB", "RSS on huge pages, %", "budget")
	for _, u := range []string{"10000", "100000", "1000000"} {
		n := "integration/BenchmarkCatchUp/users=" + u
		row(u, r.get(n, "bare-events/s", "%.0f"), r.get(n, "events/s", "%.0f"), r.rounds(n, "events/s", "%.0f"),
			r.get(n, "ratio", "%.3f"), r.rounds(n, "ratio", "%.3f"),
			r.get(n, "engine-cpu-us/event", "%.1f"), r.get(n, "allocs/event", "%.1f"), r.get(n, "matching-busiest-%", "%.0f"), r.get(n, "peak-RSS-MiB", "%.0f"), r.get(n, "huge-pages-%", "%.0f"), ">= 300000 ev/s, ratio >= 0.25")
	}

	section("Per stage, one core, no Kafka", "stage", "ns/op", "allocs/op", "budget")
	stage := func(what, name, budget string) {
		row(what, r.get(name, "ns/op", "%.0f"), r.get(name, "allocs/op", "%.0f"), budget)
	}
	stage("decode + validate + index a ping", "match/BenchmarkDecodeAndIndex", "< 3000 ns, <= 2 allocs")
	stage("decode + validate + detect a transaction", "fraud/BenchmarkDecodeAndDetect", "< 3000 ns, <= 2 allocs")
	stage("decode + validate ping, the contract's layout (field by field)", "events/BenchmarkDecodePing", "")
	stage("decode + validate ping, keys in another order (fastjson)", "events/BenchmarkDecodePingOtherLayout", "")
	stage("decode + validate transaction, the contract's layout (field by field)", "events/BenchmarkDecodeTransaction", "")
	stage("decode + validate transaction, full parse (fastjson)", "events/BenchmarkDecodeTransactionFastjson", "(the decoder chosen)")
	stage("decode + validate transaction, full parse (encoding/json)", "events/BenchmarkDecodeTransactionStdlib", "(the decoder not chosen)")
	stage("match score of one helper", "match/BenchmarkScore", "")
	stage("helper index update per ping", "match/BenchmarkPing", "")
	stage("stadium query, 50,000 helpers alike in one cell (every one ties)", "match/BenchmarkStadium", "")
	stage("stadium query, a crowd of 50,000 in one cell (own records and pings)", "match/BenchmarkStadiumCrowd", "")
	for _, u := range []string{"10000", "100000"} {
		stage("matching per routed helper or need, catch-up load, "+u+" users", "match/BenchmarkMatcher/users="+u, "")
	}
	stage("decode a routed helper record, field by field (chosen)", "route/BenchmarkDecode/helper/fast", "")
	stage("decode a routed helper record, full JSON parse", "route/BenchmarkDecode/helper/full", "(the fallback)")
	stage("event-time merge per routed record, one source 100,000 behind", "matching/BenchmarkMerge", "")
	for _, e := range [][2]string{{"ours", "(the encoder chosen)"}, {"kafka-go", "(the encoder not chosen)"}} {
		n := "sink/BenchmarkAppendBatch/" + e[0]
		row("encode produced records, per record ("+e[0]+"; allocs per batch of 500)", r.get(n, "ns/record", "%.0f"), r.get(n, "allocs/op", "%.0f"), e[1])
	}
	for _, u := range []string{"1000", "100000", "1000000"} {
		stage("fraud per transaction, "+u+" users", "fraud/BenchmarkTransaction/users="+u, "")
	}
	stage("H3 cell of a place (C, no allocation)", "geo/BenchmarkCell", "")
	stage("H3 cell of a place (locator, guess checked)", "geo/BenchmarkLocate", "")

	section("Top-10 query within 3 km, one city", "helpers", "p50 us", "p99 us", "share of exact top 10", "a new need's, caches cold, mean us", "budget")
	for _, n := range []string{"10000", "100000", "1000000"} {
		q := "match/BenchmarkQuery/helpers=" + n
		row(n, r.get(q, "p50-us", "%.1f"), r.get(q, "p99-us", "%.1f"), r.get(q, "recall", "%.3f"),
			r.get("match/BenchmarkQueryCold/helpers="+n, "cold-us", "%.1f"), "p50 < 20 us at 1M, flat")
	}

	section("Latency through Kafka and the engine under load (median round; engine.heap_pages: prefaulted; GOMAXPROCS one above the cores)", "path", "load ev/s", "p50 ms", "p99 ms", "p99 ms by round", "engine CPU µs/event", "engine wakes waiting > 0.9 ms, %", "busiest matching partition, % busy", "budget")
	for _, p := range []struct{ what, name string }{
		{"need to suggestions", "integration/BenchmarkNeedToSuggestions"},
		{"transaction to alert", "integration/BenchmarkTransactionToAlert"},
	} {
		for _, l := range []string{"load=20000/s", "load=half"} {
			n := p.name + "/" + l
			budget := ""
			if l == "load=half" {
				budget = "p99 < 25 ms at half the maximum rate"
			}
			row(p.what, r.get(n, "load-events/s", "%.0f"), r.get(n, "p50-ms", "%.1f"), r.get(n, "p99-ms", "%.1f"),
				r.rounds(n, "p99-ms", "%.0f"), r.get(n, "engine-cpu-us/event", "%.1f"), r.get(n, "slow-wakes-%", "%.1f"), r.get(n, "matching-busiest-%", "%.0f"), budget)
		}
	}
	for _, l := range []string{"load=20000/s", "load=half"} {
		n := "integration/BenchmarkBrokerHop/" + l
		row("one broker hop (for comparison)", r.get(n, "load-events/s", "%.0f"), r.get(n, "p50-ms", "%.1f"), r.get(n, "p99-ms", "%.1f"),
			r.rounds(n, "p99-ms", "%.0f"), r.get(n, "engine-cpu-us/event", "%.1f"), r.get(n, "slow-wakes-%", "%.1f"), r.get(n, "matching-busiest-%", "%.0f"), "")
	}

	section("Memory", "measure", "value", "budget")
	row("engine peak RSS, 1,000,000 users and 200,000 helpers, MiB", r.get("integration/BenchmarkEngineMemory", "peak-RSS-MiB", "%.0f"), "< 1536")
	row("a collection of all that, forced once drained, ms", r.get("integration/BenchmarkEngineMemory", "collection-ms", "%.0f"), "")
	row("match index heap per helper, bytes (200,000 helpers)", r.get("match/BenchmarkBytesPerHelper", "bytes/helper", "%.0f"), "<= 256")
	row("a collection with 1,000,000 helpers indexed, ms (marking, CPU ms)", r.get("match/BenchmarkCollectHelpers", "ms/collection", "%.1f")+
		" ("+r.get("match/BenchmarkCollectHelpers", "mark-cpu-ms/collection", "%.1f")+")", "")
	row("fraud state heap per user, bytes (1,000,000 users)", r.get("fraud/BenchmarkStateBytesPerUser", "bytes/user", "%.0f"), "<= 1024")
	w.Flush()
}
