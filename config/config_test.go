package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestDefaultsLoadAndValidate(t *testing.T) {
	c, err := Load("", nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.Kafka.Brokers[0] != "127.0.0.1:9092" || c.Topic.Partitions != 8 || c.Aggregate.H3Resolution != 8 ||
		c.ClickHouse.FlushInterval != time.Second || c.Engine.BaseCurrency != "CNY" {
		t.Fatalf("defaults: %+v", c)
	}
	if got := c.Topics().Pings; got != "everywhere.pings" {
		t.Fatalf("pings topic %q", got)
	}
}

func TestLayersOverrideInOrder(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "c.yaml")
	if err := os.WriteFile(file, []byte("kafka:\n  group: fromfile\nclickhouse:\n  database: fromfile\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("EVERYWHERE_KAFKA_BROKERS", "a:1,b:2")
	t.Setenv("EVERYWHERE_CLICKHOUSE_DATABASE", "fromenv")
	t.Setenv("EVERYWHERE_TOPIC_PREFIX", "city1.")
	t.Setenv("EVERYWHERE_HTTP_ADDR", "0.0.0.0:9999")
	t.Setenv("EVERYWHERE_CLICKHOUSE_ADDR", "ch:9000")
	c, err := Load(file, map[string]string{"clickhouse.database": "fromflag"})
	if err != nil {
		t.Fatal(err)
	}
	if c.Kafka.Group != "fromfile" {
		t.Errorf("file layer: group %q", c.Kafka.Group)
	}
	if strings.Join(c.Kafka.Brokers, ",") != "a:1,b:2" || c.HTTP.Addr != "0.0.0.0:9999" || c.ClickHouse.Addr != "ch:9000" {
		t.Errorf("env layer: %v %s %s", c.Kafka.Brokers, c.HTTP.Addr, c.ClickHouse.Addr)
	}
	if c.Topics().Alerts != "city1.alerts" {
		t.Errorf("prefix: %s", c.Topics().Alerts)
	}
	if c.ClickHouse.Database != "fromflag" {
		t.Errorf("flag layer: database %q", c.ClickHouse.Database)
	}
}

func TestErrorsNameTheKeyAndTheAllowedValues(t *testing.T) {
	f := func(over map[string]string, env, file string, want ...string) {
		t.Helper()
		path := ""
		if file != "" {
			path = filepath.Join(t.TempDir(), "c.yaml")
			if err := os.WriteFile(path, []byte(file), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		if env != "" {
			k, v, _ := strings.Cut(env, "=")
			t.Setenv(k, v)
		}
		_, err := Load(path, over)
		if err == nil {
			t.Fatalf("accepted %v %q %q", over, env, file)
		}
		for _, w := range want {
			if !strings.Contains(err.Error(), w) {
				t.Fatalf("error %q does not contain %q", err, w)
			}
		}
	}
	f(map[string]string{"kafka.start_offset": "middle"}, "", "", "kafka.start_offset", "earliest, latest")
	f(map[string]string{"aggregate.h3_resolution": "16"}, "", "", "aggregate.h3_resolution", "0 to 15")
	f(map[string]string{"clickhouse.compression": "gzip"}, "", "", "clickhouse.compression", "none, lz4, zstd")
	f(map[string]string{"clickhouse.flush_interval": "0s"}, "", "", "clickhouse.flush_interval", "10ms to 5m0s")
	f(map[string]string{"engine.base_currency": "yuan"}, "", "", "engine.base_currency", "ISO 4217")
	f(map[string]string{"engine.memory_limit_mib": "-1"}, "", "", "engine.memory_limit_mib", "at least 64")
	f(map[string]string{"kafka.grup": "x"}, "", "", `"kafka.grup"`, "kafka.group")
	f(nil, "", "kafka:\n  brokerz: [x]\n", `"kafka.brokerz"`, "kafka.brokers")
	f(nil, "", "nosuch:\n  a: 1\n", `"nosuch.a"`, "known sections")
	f(map[string]string{"topic.alerts": "a b"}, "", "", "topic.alerts")
	f(map[string]string{"topic.alerts": "pings"}, "", "", "each topic needs its own name")
	f(map[string]string{"kafka.fetch_max_wait": "soon"}, "", "", "fetch_max_wait")
	f(map[string]string{"kafka.fetch_linger": "1s"}, "", "", "kafka.fetch_linger", "0s to 100ms")
	f(map[string]string{"engine.idle_after": "1h"}, "", "", "engine.idle_after", "0s to 10m0s")
	f(map[string]string{"kafka.fetch_max_bytes": "4294967296"}, "", "", "kafka.fetch_max_bytes", "1 to 268435456")
	// Every other key, one bad value each: the error names the key and
	// what it allows.
	for _, c := range []struct{ key, value, allowed string }{
		{"kafka.brokers", "nohost", "not host:port"},
		{"kafka.group", "", "must not be empty"},
		{"engine.restore", "sometimes", "replay, none"},
		{"engine.heap_pages", "giant", "huge, prefaulted, system"},
		{"kafka.partitioner", "md5", "murmur2, crc32, fnv1a"},
		{"kafka.fetch_min_bytes", "0", "a positive integer"},
		{"kafka.fetch_min_bytes", "2000000", "must not exceed kafka.fetch_max_bytes"},
		{"kafka.write_batch_size", "0", "a positive integer"},
		{"kafka.write_batch_timeout", "11s", "0s to 10s"},
		{"kafka.session_timeout", "0s", "1s to 10m0s"},
		{"kafka.rebalance_timeout", "0s", "1s to 10m0s"},
		{"topic.partitions", "0", "1 to 64"},
		{"topic.partitions", "65", "1 to 64"},
		{"topic.prefix", "a/b", "letters, digits"},
		{"clickhouse.addr", "nohost", "not host:port"},
		{"clickhouse.database", "1db", "not starting with a digit"},
		{"clickhouse.dial_timeout", "0s", "100ms to 1m0s"},
		{"clickhouse.flush_rows", "0", "1 to 1000000"},
		{"clickhouse.retry_backoff", "0s", "1ms to 1m0s"},
		{"clickhouse.max_backoff", "100ms", "200ms to 10m0s"},
		{"http.addr", "nohost", "not host:port"},
		{"http.pprof_addr", "nohost", "or empty for off"},
		{"engine.seal_interval", "0s", "1ms to 1m0s"},
		{"engine.seal_events", "0", "a positive integer"},
		{"engine.shutdown_timeout", "0s", "100ms to 10m0s"},
		{"matching.k", "0", "1 to 100"},
		{"matching.model_name", "", "1 to 64 characters"},
		{"matching.region_resolution", "6", "0 to 5"},
		{"matching.max_radius_m", "100", "to 100000"},
		{"matching.republish_interval", "2h", "0s to 1h0m0s"},
		{"matching.watermark_interval", "0s", "100µs to 10s"},
		{"matching.model.weights.distance", "2", "0 to 1"},
		{"fraud.reload_interval", "0s", "100ms to 1h0m0s"},
		{"fraud.rules.velocity.max_count", "0", "1 to 31"},
	} {
		f(map[string]string{c.key: c.value}, "", "", c.key, c.allowed)
	}
	// Last: t.Setenv lasts until the test ends.
	f(nil, "EVERYWHERE_KAFKA_BROKER=x:1", "", "EVERYWHERE_KAFKA_BROKER")
}
