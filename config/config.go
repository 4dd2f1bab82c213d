// Package config loads and validates the engine's settings.
//
// The defaults live in one place, everywhere.yaml beside this file, embedded
// into the binary, so the file a user reads is the file the engine runs on.
// Layers override in this order: defaults, an optional file, EVERYWHERE_*
// environment variables, then flags. Unknown keys and bad values stop start-up
// with an error that names the key and what is allowed.
package config

import (
	"bytes"
	_ "embed"
	"fmt"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/go-viper/mapstructure/v2"
	"github.com/spf13/viper"

	"everywhere/models/fraud"
	"everywhere/models/match"
)

//go:embed everywhere.yaml
var defaultYAML []byte

// DefaultYAML returns the commented default configuration.
func DefaultYAML() []byte { return bytes.Clone(defaultYAML) }

// EnvPrefix is the prefix of environment overrides: EVERYWHERE_KAFKA_BROKERS
// overrides kafka.brokers.
const EnvPrefix = "EVERYWHERE"

// Config is the whole typed configuration.
type Config struct {
	Kafka      Kafka      `mapstructure:"kafka" yaml:"kafka"`
	Topic      Topic      `mapstructure:"topic" yaml:"topic"`
	ClickHouse ClickHouse `mapstructure:"clickhouse" yaml:"clickhouse"`
	HTTP       HTTP       `mapstructure:"http" yaml:"http"`
	Engine     Engine     `mapstructure:"engine" yaml:"engine"`
	Aggregate  Aggregate  `mapstructure:"aggregate" yaml:"aggregate"`
	Fraud      Fraud      `mapstructure:"fraud" yaml:"fraud"`
	Matching   Matching   `mapstructure:"matching" yaml:"matching"`
}

// Matching holds the suggestion settings: how many helpers, the scoring
// model, and how matching state is split into regions.
type Matching struct {
	K                 int           `mapstructure:"k" yaml:"k"`
	ModelName         string        `mapstructure:"model_name" yaml:"model_name"`
	RegionResolution  int           `mapstructure:"region_resolution" yaml:"region_resolution"`
	MaxRadiusM        float64       `mapstructure:"max_radius_m" yaml:"max_radius_m"`
	WatermarkInterval time.Duration `mapstructure:"watermark_interval" yaml:"watermark_interval"`
	Republish         time.Duration `mapstructure:"republish_interval" yaml:"republish_interval"`
	Model             match.Params  `mapstructure:"model" yaml:"model"`
}

// Fraud holds the detector's rules and where to reload them from.
type Fraud struct {
	RulesFile      string        `mapstructure:"rules_file" yaml:"rules_file"`
	ReloadInterval time.Duration `mapstructure:"reload_interval" yaml:"reload_interval"`
	Rules          fraud.Rules   `mapstructure:"rules" yaml:"rules"`
}

// Kafka holds the client settings shared by consumers and producers.
type Kafka struct {
	Brokers           []string      `mapstructure:"brokers" yaml:"brokers"`
	Group             string        `mapstructure:"group" yaml:"group"`
	Partitioner       string        `mapstructure:"partitioner" yaml:"partitioner"`
	StartOffset       string        `mapstructure:"start_offset" yaml:"start_offset"`
	FetchMinBytes     int           `mapstructure:"fetch_min_bytes" yaml:"fetch_min_bytes"`
	FetchMaxBytes     int           `mapstructure:"fetch_max_bytes" yaml:"fetch_max_bytes"`
	FetchMaxWait      time.Duration `mapstructure:"fetch_max_wait" yaml:"fetch_max_wait"`
	FetchLinger       time.Duration `mapstructure:"fetch_linger" yaml:"fetch_linger"`
	WriteBatchSize    int           `mapstructure:"write_batch_size" yaml:"write_batch_size"`
	WriteBatchTimeout time.Duration `mapstructure:"write_batch_timeout" yaml:"write_batch_timeout"`
	SessionTimeout    time.Duration `mapstructure:"session_timeout" yaml:"session_timeout"`
	RebalanceTimeout  time.Duration `mapstructure:"rebalance_timeout" yaml:"rebalance_timeout"`
}

// Topic names the topics; each full name is Prefix + the name.
type Topic struct {
	Prefix       string `mapstructure:"prefix" yaml:"prefix"`
	Partitions   int    `mapstructure:"partitions" yaml:"partitions"`
	Pings        string `mapstructure:"pings" yaml:"pings"`
	Profiles     string `mapstructure:"profiles" yaml:"profiles"`
	Transactions string `mapstructure:"transactions" yaml:"transactions"`
	Needs        string `mapstructure:"needs" yaml:"needs"`
	Outcomes     string `mapstructure:"outcomes" yaml:"outcomes"`
	Suggestions  string `mapstructure:"suggestions" yaml:"suggestions"`
	Alerts       string `mapstructure:"alerts" yaml:"alerts"`
	DeadLetter   string `mapstructure:"deadletter" yaml:"deadletter"`
	Paths        string `mapstructure:"paths" yaml:"paths"`
	Regions      string `mapstructure:"regions" yaml:"regions"`
}

// ClickHouse holds the warehouse connection and write batching.
type ClickHouse struct {
	Addr          string        `mapstructure:"addr" yaml:"addr"`
	Database      string        `mapstructure:"database" yaml:"database"`
	Username      string        `mapstructure:"username" yaml:"username"`
	Password      string        `mapstructure:"password" yaml:"password"`
	DialTimeout   time.Duration `mapstructure:"dial_timeout" yaml:"dial_timeout"`
	Compression   string        `mapstructure:"compression" yaml:"compression"`
	FlushRows     int           `mapstructure:"flush_rows" yaml:"flush_rows"`
	FlushInterval time.Duration `mapstructure:"flush_interval" yaml:"flush_interval"`
	RetryBackoff  time.Duration `mapstructure:"retry_backoff" yaml:"retry_backoff"`
	MaxBackoff    time.Duration `mapstructure:"max_backoff" yaml:"max_backoff"`
}

// HTTP is the metrics and health listener.
type HTTP struct {
	Addr      string `mapstructure:"addr" yaml:"addr"`
	PprofAddr string `mapstructure:"pprof_addr" yaml:"pprof_addr"`
}

// Engine holds processing settings.
type Engine struct {
	BaseCurrency    string        `mapstructure:"base_currency" yaml:"base_currency"`
	SealInterval    time.Duration `mapstructure:"seal_interval" yaml:"seal_interval"`
	SealEvents      int           `mapstructure:"seal_events" yaml:"seal_events"`
	ShutdownTimeout time.Duration `mapstructure:"shutdown_timeout" yaml:"shutdown_timeout"`
	IdleAfter       time.Duration `mapstructure:"idle_after" yaml:"idle_after"`
	Restore         string        `mapstructure:"restore" yaml:"restore"`
	MemoryLimitMiB  int           `mapstructure:"memory_limit_mib" yaml:"memory_limit_mib"`
	HeapPages       string        `mapstructure:"heap_pages" yaml:"heap_pages"`
}

// Aggregate holds the ClickHouse aggregate settings.
type Aggregate struct {
	H3Resolution int `mapstructure:"h3_resolution"`
}

// Load builds the configuration from the defaults, the file at path (when
// not empty), the environment and the key=value overrides, then validates it.
func Load(path string, overrides map[string]string) (*Config, error) {
	v := viper.New()
	v.SetConfigType("yaml")
	if err := v.ReadConfig(bytes.NewReader(defaultYAML)); err != nil {
		return nil, fmt.Errorf("embedded defaults: %w", err)
	}
	known := map[string]bool{}
	for _, k := range v.AllKeys() {
		known[k] = true
	}
	if path != "" {
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("config file: %w", err)
		}
		file := viper.New()
		file.SetConfigType("yaml")
		if err := file.ReadConfig(bytes.NewReader(data)); err != nil {
			return nil, fmt.Errorf("config file %s: %w", path, err)
		}
		for _, k := range file.AllKeys() {
			if !known[k] {
				return nil, unknownKey(k, path, known)
			}
		}
		if err := v.MergeConfigMap(file.AllSettings()); err != nil {
			return nil, fmt.Errorf("config file %s: %w", path, err)
		}
	}
	if err := applyEnv(v, known); err != nil {
		return nil, err
	}
	keys := make([]string, 0, len(overrides))
	for k := range overrides {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		key := strings.ToLower(k)
		if !known[key] {
			return nil, unknownKey(key, "--set", known)
		}
		v.Set(key, overrides[k])
	}
	cfg := &Config{}
	err := v.UnmarshalExact(cfg, viper.DecodeHook(mapstructure.ComposeDecodeHookFunc(
		mapstructure.StringToTimeDurationHookFunc(),
		mapstructure.StringToSliceHookFunc(","),
	)))
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return cfg, nil
}

// applyEnv copies EVERYWHERE_* variables onto their keys. An EVERYWHERE_
// variable that matches no key is an error: a typo in a deployment manifest
// must not be silently ignored.
func applyEnv(v *viper.Viper, known map[string]bool) error {
	byEnv := map[string]string{}
	for k := range known {
		byEnv[EnvPrefix+"_"+strings.ToUpper(strings.ReplaceAll(k, ".", "_"))] = k
	}
	var names []string
	for _, kv := range os.Environ() {
		name, value, _ := strings.Cut(kv, "=")
		if !strings.HasPrefix(name, EnvPrefix+"_") {
			continue
		}
		key, ok := byEnv[name]
		if !ok {
			names = append(names, name)
			continue
		}
		v.Set(key, value)
	}
	if len(names) > 0 {
		sort.Strings(names)
		return fmt.Errorf("environment: unknown variable %s: every EVERYWHERE_ variable must name a setting (EVERYWHERE_ + key in upper case, '.' as '_'; see config/everywhere.yaml)", strings.Join(names, ", "))
	}
	return nil
}

func unknownKey(key, where string, known map[string]bool) error {
	section, _, _ := strings.Cut(key, ".")
	var near []string
	for k := range known {
		if strings.HasPrefix(k, section+".") {
			near = append(near, k)
		}
	}
	sort.Strings(near)
	if len(near) == 0 {
		sections := map[string]bool{}
		for k := range known {
			s, _, _ := strings.Cut(k, ".")
			sections[s] = true
		}
		for s := range sections {
			near = append(near, s)
		}
		sort.Strings(near)
		return fmt.Errorf("%s: unknown key %q; known sections: %s", where, key, strings.Join(near, ", "))
	}
	return fmt.Errorf("%s: unknown key %q; keys of %q: %s", where, key, section, strings.Join(near, ", "))
}
