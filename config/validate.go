package config

import (
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"everywhere/events"
)

// Validate checks every setting and reports all bad ones at once, each
// naming its key and what is allowed.
func (c *Config) Validate() error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", key, fmt.Sprintf(format, args...)))
	}
	if len(c.Kafka.Brokers) == 0 {
		bad("kafka.brokers", "must list at least one host:port")
	}
	for _, b := range c.Kafka.Brokers {
		if !isHostPort(b) {
			bad("kafka.brokers", "%q is not host:port", b)
		}
	}
	if c.Kafka.Group == "" {
		bad("kafka.group", "must not be empty")
	}
	switch c.Engine.Restore {
	case "replay", "none":
	default:
		bad("engine.restore", "is %q; allowed: replay, none", c.Engine.Restore)
	}
	if m := c.Engine.MemoryLimitMiB; m != 0 && m < 64 {
		bad("engine.memory_limit_mib", "is %d; allowed: 0 (Go's default) or at least 64", m)
	}
	switch c.Engine.HeapPages {
	case "huge", "prefaulted", "system":
	default:
		bad("engine.heap_pages", "is %q; allowed: huge, prefaulted, system", c.Engine.HeapPages)
	}
	switch c.Kafka.Partitioner {
	case "murmur2", "crc32", "fnv1a":
	default:
		bad("kafka.partitioner", "is %q; allowed: murmur2, crc32, fnv1a", c.Kafka.Partitioner)
	}
	if c.Kafka.StartOffset != "earliest" && c.Kafka.StartOffset != "latest" {
		bad("kafka.start_offset", "is %q; allowed: earliest, latest", c.Kafka.StartOffset)
	}
	positive(bad, "kafka.fetch_min_bytes", c.Kafka.FetchMinBytes)
	if c.Kafka.FetchMaxBytes < 1 || c.Kafka.FetchMaxBytes > 256<<20 {
		// A fetch request carries its size in 32 bits.
		bad("kafka.fetch_max_bytes", "is %d; allowed: 1 to %d (256 MiB)", c.Kafka.FetchMaxBytes, 256<<20)
	}
	if c.Kafka.FetchMinBytes > c.Kafka.FetchMaxBytes {
		bad("kafka.fetch_min_bytes", "must not exceed kafka.fetch_max_bytes (%d)", c.Kafka.FetchMaxBytes)
	}
	within(bad, "kafka.fetch_max_wait", c.Kafka.FetchMaxWait, time.Millisecond, time.Minute)
	within(bad, "kafka.fetch_linger", c.Kafka.FetchLinger, 0, 100*time.Millisecond)
	positive(bad, "kafka.write_batch_size", c.Kafka.WriteBatchSize)
	within(bad, "kafka.write_batch_timeout", c.Kafka.WriteBatchTimeout, 0, 10*time.Second)
	within(bad, "kafka.session_timeout", c.Kafka.SessionTimeout, time.Second, 10*time.Minute)
	within(bad, "kafka.rebalance_timeout", c.Kafka.RebalanceTimeout, time.Second, 10*time.Minute)

	if c.Topic.Partitions < 1 || c.Topic.Partitions > 64 {
		// The dev broker makes every topic with it, the regions topic
		// included, and matching keeps the regions partitions a helper
		// reaches as a 64-bit set.
		bad("topic.partitions", "is %d; allowed: 1 to 64 (the regions topic takes at most 64)", c.Topic.Partitions)
	}
	if strings.ContainsAny(c.Topic.Prefix, " /\\") {
		bad("topic.prefix", "%q holds a space or slash; allowed: letters, digits, '.', '_', '-'", c.Topic.Prefix)
	}
	seen := map[string]string{}
	for key, name := range c.Topic.names() {
		if name == "" || !validTopic(c.Topic.Prefix+name) {
			bad(key, "%q is not a topic name; allowed: 1 to 249 of letters, digits, '.', '_', '-'", name)
		}
		if other, dup := seen[name]; dup {
			bad(key, "%q is also the name of %s; each topic needs its own name", name, other)
		}
		seen[name] = key
	}

	if !isHostPort(c.ClickHouse.Addr) {
		bad("clickhouse.addr", "%q is not host:port", c.ClickHouse.Addr)
	}
	if !validIdent(c.ClickHouse.Database) {
		bad("clickhouse.database", "%q is not a database name; allowed: letters, digits and '_', not starting with a digit", c.ClickHouse.Database)
	}
	switch c.ClickHouse.Compression {
	case "none", "lz4", "zstd":
	default:
		bad("clickhouse.compression", "is %q; allowed: none, lz4, zstd", c.ClickHouse.Compression)
	}
	within(bad, "clickhouse.dial_timeout", c.ClickHouse.DialTimeout, 100*time.Millisecond, time.Minute)
	if c.ClickHouse.FlushRows < 1 || c.ClickHouse.FlushRows > 1_000_000 {
		bad("clickhouse.flush_rows", "is %d; allowed: 1 to 1000000", c.ClickHouse.FlushRows)
	}
	within(bad, "clickhouse.flush_interval", c.ClickHouse.FlushInterval, 10*time.Millisecond, 5*time.Minute)
	within(bad, "clickhouse.retry_backoff", c.ClickHouse.RetryBackoff, time.Millisecond, time.Minute)
	within(bad, "clickhouse.max_backoff", c.ClickHouse.MaxBackoff, c.ClickHouse.RetryBackoff, 10*time.Minute)

	if !isHostPort(c.HTTP.Addr) {
		bad("http.addr", "%q is not host:port", c.HTTP.Addr)
	}
	if c.HTTP.PprofAddr != "" && !isHostPort(c.HTTP.PprofAddr) {
		bad("http.pprof_addr", "%q is not host:port; allowed: host:port, or empty for off", c.HTTP.PprofAddr)
	}

	if len(c.Engine.BaseCurrency) != 3 || strings.ToUpper(c.Engine.BaseCurrency) != c.Engine.BaseCurrency {
		bad("engine.base_currency", "%q is not an ISO 4217 code; allowed: three upper-case letters such as CNY, USD, EUR", c.Engine.BaseCurrency)
	}
	within(bad, "engine.seal_interval", c.Engine.SealInterval, time.Millisecond, time.Minute)
	positive(bad, "engine.seal_events", c.Engine.SealEvents)
	within(bad, "engine.shutdown_timeout", c.Engine.ShutdownTimeout, 100*time.Millisecond, 10*time.Minute)
	within(bad, "engine.idle_after", c.Engine.IdleAfter, 0, 10*time.Minute)

	if c.Aggregate.H3Resolution < 0 || c.Aggregate.H3Resolution > 15 {
		bad("aggregate.h3_resolution", "is %d; allowed: 0 to 15", c.Aggregate.H3Resolution)
	}
	if c.Matching.K < 1 || c.Matching.K > 100 {
		bad("matching.k", "is %d; allowed: 1 to 100", c.Matching.K)
	}
	if c.Matching.ModelName == "" || len(c.Matching.ModelName) > 64 {
		bad("matching.model_name", "is %q; allowed: 1 to 64 characters", c.Matching.ModelName)
	}
	if c.Matching.RegionResolution < 0 || c.Matching.RegionResolution > 5 {
		bad("matching.region_resolution", "is %d; allowed: 0 to 5 (regions are coarse H3 cells)", c.Matching.RegionResolution)
	}
	if c.Matching.MaxRadiusM < events.MaxRadiusM || c.Matching.MaxRadiusM > 100_000 {
		bad("matching.max_radius_m", "is %g; allowed: %d (the largest radius a need may ask for) to 100000", c.Matching.MaxRadiusM, events.MaxRadiusM)
	}
	within(bad, "matching.republish_interval", c.Matching.Republish, 0, time.Hour)
	within(bad, "matching.watermark_interval", c.Matching.WatermarkInterval, 100*time.Microsecond, 10*time.Second)
	if err := c.Matching.Model.Validate(); err != nil {
		errs = append(errs, err)
	}
	within(bad, "fraud.reload_interval", c.Fraud.ReloadInterval, 100*time.Millisecond, time.Hour)
	if err := c.Fraud.Rules.Validate(); err != nil {
		errs = append(errs, err)
	}
	if c.Fraud.Rules.Version == "" {
		c.Fraud.Rules.Version = c.Fraud.Rules.Fingerprint()
	}
	return errors.Join(errs...)
}

func (t Topic) names() map[string]string {
	return map[string]string{
		"topic.pings": t.Pings, "topic.profiles": t.Profiles, "topic.transactions": t.Transactions,
		"topic.needs": t.Needs, "topic.outcomes": t.Outcomes, "topic.suggestions": t.Suggestions,
		"topic.alerts": t.Alerts, "topic.deadletter": t.DeadLetter, "topic.paths": t.Paths,
		"topic.regions": t.Regions,
	}
}

func positive(bad func(string, string, ...any), key string, n int) {
	if n < 1 {
		bad(key, "is %d; allowed: a positive integer", n)
	}
}

func within(bad func(string, string, ...any), key string, d, lo, hi time.Duration) {
	if d < lo || d > hi {
		bad(key, "is %s; allowed: %s to %s (a duration such as 250ms or 2s)", d, lo, hi)
	}
}

func isHostPort(s string) bool {
	host, port, err := net.SplitHostPort(s)
	return err == nil && host != "" && port != ""
}

func validTopic(s string) bool {
	if len(s) == 0 || len(s) > 249 {
		return false
	}
	for _, r := range s {
		if !(r == '.' || r == '_' || r == '-' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

func validIdent(s string) bool {
	if s == "" || s[0] >= '0' && s[0] <= '9' {
		return false
	}
	for _, r := range s {
		if !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}
