// Package metrics defines the engine's Prometheus metrics in one place, so
// names, units and label sets stay consistent and every labelled series can
// be created at start (a series that appears only after its first event
// breaks rate() and alerting on absence).
package metrics

import (
	"regexp"
	"runtime/debug"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"everywhere/models/fraud"
)

// Results of an input event.
const (
	ResultOK       = "ok"
	ResultRejected = "rejected"
)

// Metrics holds the engine's collectors.
type Metrics struct {
	Registry *prometheus.Registry

	EventsIn       *prometheus.CounterVec   // topic, result
	Rejections     *prometheus.CounterVec   // topic, field
	DeadLetters    *prometheus.CounterVec   // topic
	Skipped        *prometheus.CounterVec   // table
	SinkRows       *prometheus.HistogramVec // sink
	SinkSeconds    *prometheus.HistogramVec // sink
	SinkErrors     *prometheus.CounterVec   // sink
	SinkWaits      *prometheus.CounterVec   // sink
	SinkHeld       *prometheus.CounterVec   // sink
	Commits        *prometheus.CounterVec   // topic
	Lag            *prometheus.GaugeVec     // topic, partition
	Partitions     prometheus.Gauge
	Ready          prometheus.Gauge
	ProcessSeconds *prometheus.HistogramVec // topic
	Busy           *prometheus.CounterVec   // topic, partition
	Alerts         *prometheus.CounterVec   // rule, severity
	LateEvents     prometheus.Counter
	Repeated       prometheus.Counter
	FraudUsers     prometheus.Gauge
	RulesReloads   *prometheus.CounterVec // result

	Suggestions   prometheus.Counter     // lists published
	Rematches     *prometheus.CounterVec // result: published or unchanged
	ListLength    prometheus.Histogram   // helpers per published list
	MatchHelpers  prometheus.Gauge
	OpenNeeds     prometheus.Gauge
	RingUsers     prometheus.Gauge
	RoutedRecords *prometheus.CounterVec   // kind: helper, need
	EventToOutput *prometheus.HistogramVec // output: suggestions, alerts
	HeapHugeBytes prometheus.Gauge
}

// AlertRules and AlertSeverities are the label values of Alerts.
var (
	AlertRules      = fraud.RuleNames
	AlertSeverities = []string{"low", "medium", "high"}
)

// Fields a rejection can name: the label values of Rejections. Anything
// else is counted as "other", which keeps the label set bounded.
var Fields = []string{"message", "user_id", "ts", "lat", "lng", "accuracy_m", "available", "registered_at",
	"skills", "credit_score", "txn_id", "amount", "currency", "kind", "counterparty_id", "counterparty_kind",
	"need_id", "category", "radius_m", "reward", "expires_at", "status", "helper_id", "outcome", "rating", "other"}

// schedLatencies adds the Go scheduler's histogram of how long goroutines
// stood ready to run before they ran (go_sched_latencies_seconds) to the
// Go collector's defaults. Each event crosses several goroutines between
// its input and its output (a partition's fetch, its worker, the sinks),
// and on a loaded machine each hand-off waits its turn for a core: traced
// at 60,000 events/s on two cores shared with the broker, a wake waited
// 0.6 ms at the 90th percentile and 3 ms at the 99th, and a need's
// eight or more hand-offs made most of its p99 so. When latency grows,
// this says whether the engine is short of CPU rather than slow in a step.
var schedLatencies = collectors.GoRuntimeMetricsRule{Matcher: regexp.MustCompile(`^/sched/latencies:seconds$`)}

// New registers every metric; topics and sinks pre-create their series.
func New(version string, topics, sinks []string) *Metrics {
	r := prometheus.NewRegistry()
	r.MustRegister(collectors.NewGoCollector(collectors.WithGoCollectorRuntimeMetrics(schedLatencies)),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m := &Metrics{
		Registry: r,
		EventsIn: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "everywhere_events_in_total", Help: "Input messages processed, by topic and result (ok or rejected).",
		}, []string{"topic", "result"}),
		Rejections: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "everywhere_rejections_total", Help: "Rejected input messages by topic and the field at fault (message: not a JSON object).",
		}, []string{"topic", "field"}),
		DeadLetters: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "everywhere_deadletters_total", Help: "Messages written to the dead-letter topic, by source topic.",
		}, []string{"topic"}),
		Skipped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "everywhere_replay_skipped_total", Help: "Messages read again after a restart whose rows a table already held, by table.",
		}, []string{"table"}),
		SinkRows: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "everywhere_sink_batch_rows", Help: "Rows per write, by sink (ClickHouse table or Kafka topic).",
			Buckets: prometheus.ExponentialBuckets(1, 4, 10),
		}, []string{"sink"}),
		SinkSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "everywhere_sink_write_seconds", Help: "Duration of one successful write, by sink.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2.5, 12),
		}, []string{"sink"}),
		SinkErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "everywhere_sink_errors_total", Help: "Failed writes (each retried), by sink.",
		}, []string{"sink"}),
		SinkWaits: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "everywhere_sink_wait_seconds_total", Help: "Time partition workers waited for room in a sink's queue, by sink: backpressure, the sink writing slower than they hand it work.",
		}, []string{"sink"}),
		SinkHeld: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "everywhere_sink_rows_held_total", Help: "Rows a ClickHouse insert tried again after a failed one left out, by sink: the table held them already, the failed insert's answer having been lost after its rows were written.",
		}, []string{"sink"}),
		Commits: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "everywhere_offset_commits_total", Help: "Offset commits after durable writes, by topic.",
		}, []string{"topic"}),
		Lag: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "everywhere_consumer_lag_messages", Help: "Messages between the reader's position and the end of the partition.",
		}, []string{"topic", "partition"}),
		Partitions: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "everywhere_assigned_partitions", Help: "Input partitions this instance owns.",
		}),
		Ready: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "everywhere_ready", Help: "1 when Kafka and ClickHouse answer and writes succeed, else 0.",
		}),
		ProcessSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "everywhere_seal_seconds", Help: "Time to process a sealed run of messages, by topic.",
			Buckets: prometheus.ExponentialBuckets(0.0001, 3, 10),
		}, []string{"topic"}),
		// A partition's messages are handled in order by one goroutine, so
		// one partition can fall behind while cores idle: all of a city's
		// matching is in its region's partition (see
		// matching.region_resolution). The rate of this counter is the
		// share of the time the partition's worker is at work, running or
		// waiting its turn for a core: near 1 while the instance's cores
		// are not all busy, that worker is what holds the partition back.
		Busy: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "everywhere_worker_busy_seconds_total",
			Help: "Time a partition's worker spent handling and sealing messages rather than waiting for them, by topic (the first of its co-partitioned set) and partition.",
		}, []string{"topic", "partition"}),
	}
	m.Alerts = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "everywhere_alerts_total", Help: "Fraud alerts published, by rule and severity.",
	}, []string{"rule", "severity"})
	m.LateEvents = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "everywhere_fraud_late_events_total", Help: "Events later than fraud.rules.lateness behind their user's latest, not scored.",
	})
	m.Repeated = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "everywhere_fraud_repeated_transactions_total", Help: "Transactions with the id of one of their user's latest, not scored again.",
	})
	m.FraudUsers = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "everywhere_fraud_users", Help: "Users with fraud state in this instance.",
	})
	m.RulesReloads = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "everywhere_fraud_rules_reloads_total", Help: "Changes of the fraud rules file, by result (applied or rejected).",
	}, []string{"result"})
	for _, r := range AlertRules {
		for _, s := range AlertSeverities {
			m.Alerts.WithLabelValues(r, s)
		}
	}
	m.RulesReloads.WithLabelValues("applied")
	m.RulesReloads.WithLabelValues("rejected")
	r.MustRegister(m.Alerts, m.LateEvents, m.Repeated, m.FraudUsers, m.RulesReloads)
	m.Suggestions = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "everywhere_suggestion_lists_total", Help: "Suggestion lists published (a new need, or a changed list).",
	})
	m.Rematches = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "everywhere_rematches_total", Help: "Needs re-ranked because a candidate changed, by result (published: the list changed; unchanged).",
	}, []string{"result"})
	m.ListLength = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name: "everywhere_suggestion_list_helpers", Help: "Helpers in each published suggestion list.",
		Buckets: []float64{0, 1, 2, 3, 5, 8, 10, 20, 50},
	})
	m.MatchHelpers = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "everywhere_match_helpers", Help: "Users known to the matchers of this instance (a helper near a region edge counts in each region).",
	})
	m.OpenNeeds = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "everywhere_open_needs", Help: "Open, unexpired needs in the matchers of this instance.",
	})
	m.RingUsers = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "everywhere_match_ring_users", Help: "Users whose large transfers of the last round_trip window the matchers of this instance keep to find money rings (each region keeps its own).",
	})
	m.RoutedRecords = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "everywhere_routed_records_total", Help: "Records re-keyed by region for matching, by the partitions that sent them: helper (user partitions: helper states and large transfers), need or outcome.",
	}, []string{"kind"})
	m.EventToOutput = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "everywhere_event_to_output_seconds", Help: "From an output's event time to its hand-off to the producer, by output (suggestions, alerts): end-to-end latency while live, backlog age while catching up.",
		// 0.025 is the latency objective (a bucket of its own, so the
		// alert rule can count what misses it); above a second is backlog.
		Buckets: []float64{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10, 60, 600},
	}, []string{"output"})
	m.Rematches.WithLabelValues("published")
	m.Rematches.WithLabelValues("unchanged")
	m.RoutedRecords.WithLabelValues("helper")
	m.RoutedRecords.WithLabelValues("need")
	m.RoutedRecords.WithLabelValues("outcome")
	m.EventToOutput.WithLabelValues("suggestions")
	m.EventToOutput.WithLabelValues("alerts")
	r.MustRegister(m.Suggestions, m.Rematches, m.ListLength, m.MatchHelpers, m.OpenNeeds, m.RingUsers, m.RoutedRecords, m.EventToOutput)
	m.HeapHugeBytes = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "everywhere_heap_huge_advised_bytes", Help: "Bytes of the heap's mappings the engine asked Linux to back with huge pages (engine.heap_pages: huge); 0 when it does not ask, or could not.",
	})
	r.MustRegister(m.HeapHugeBytes)
	build := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "everywhere_build_info", Help: "Build of the running engine; always 1.",
	}, []string{"version", "goversion"})
	gover := "unknown"
	if bi, ok := debug.ReadBuildInfo(); ok {
		gover = bi.GoVersion
	}
	build.WithLabelValues(version, gover).Set(1)
	r.MustRegister(m.EventsIn, m.Rejections, m.DeadLetters, m.Skipped, m.SinkRows, m.SinkSeconds,
		m.SinkErrors, m.SinkWaits, m.SinkHeld, m.Commits, m.Lag, m.Partitions, m.Ready, m.ProcessSeconds, m.Busy, build)
	for _, t := range topics {
		m.EventsIn.WithLabelValues(t, ResultOK)
		m.EventsIn.WithLabelValues(t, ResultRejected)
		m.DeadLetters.WithLabelValues(t)
		m.Commits.WithLabelValues(t)
		m.ProcessSeconds.WithLabelValues(t)
		for _, f := range Fields {
			m.Rejections.WithLabelValues(t, f)
		}
	}
	for _, s := range sinks {
		m.SinkRows.WithLabelValues(s)
		m.SinkSeconds.WithLabelValues(s)
		m.SinkErrors.WithLabelValues(s)
		m.SinkWaits.WithLabelValues(s)
		m.SinkHeld.WithLabelValues(s)
		m.Skipped.WithLabelValues(s)
	}
	return m
}

// Field maps a rejected field to its bounded label value.
func Field(name string) string {
	if name == "" {
		return "message"
	}
	for _, f := range Fields {
		if f == name {
			return f
		}
	}
	return "other"
}

// Wrote implements batcher.Observer.
func (m *Metrics) Wrote(sink string, rows int, took time.Duration) {
	m.SinkRows.WithLabelValues(sink).Observe(float64(rows))
	m.SinkSeconds.WithLabelValues(sink).Observe(took.Seconds())
}

// Failed implements batcher.Observer.
func (m *Metrics) Failed(sink string, _ error) { m.SinkErrors.WithLabelValues(sink).Inc() }

// Held counts rows an insert into sink tried again left out (see
// sink.Insert).
func (m *Metrics) Held(sink string) func(rows int) {
	c := m.SinkHeld.WithLabelValues(sink)
	return func(rows int) { c.Add(float64(rows)) }
}

// Waited implements batcher.Observer.
func (m *Metrics) Waited(sink string, d time.Duration) {
	m.SinkWaits.WithLabelValues(sink).Add(d.Seconds())
}
