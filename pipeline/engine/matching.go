package engine

import (
	"context"
	"fmt"
	"time"

	"github.com/segmentio/kafka-go"

	"everywhere/kafkaadmin"
	"everywhere/pipeline/batcher"
	"everywhere/pipeline/matching"
	"everywhere/pipeline/route"
	"everywhere/pipeline/sink"
)

// matchEnv is what the matching sets share: where routed records and
// re-keyed outcomes go, the region layout, and the matchers' sinks.
type matchEnv struct {
	regionsOut  []*batcher.Batcher[[]kafka.Message] // sources share them, each always the same one
	userParts   int                                 // source numbers: user partitions, then need partitions, then outcome partitions
	needParts   int
	regionParts int
	match       *matching.Env
}

// buildMatching makes the matching sinks. The partition counts of the
// input topics decide the source numbers of the region merge, and that of
// the regions topic the region layout; all must exist before start.
func (e *Engine) buildMatching(ctx context.Context) (*matchEnv, error) {
	count := func(topic string) (int, error) {
		parts, err := kafkaadmin.Partitions(ctx, e.cfg.Kafka.Brokers, topic)
		if err != nil {
			return 0, fmt.Errorf("partitions of %s: %w", topic, err)
		}
		return len(parts), nil
	}
	t := e.topics
	users, err := count(t.Pings)
	if err != nil {
		return nil, err
	}
	needs, err := count(t.Needs)
	if err != nil {
		return nil, err
	}
	outcomes, err := count(t.Outcomes)
	if err != nil {
		return nil, err
	}
	regions, err := count(t.Regions)
	if err != nil {
		return nil, err
	}
	if regions > 64 {
		return nil, fmt.Errorf("%s has %d partitions; matching handles at most 64", t.Regions, regions)
	}
	ch := e.cfg.ClickHouse
	fast := func(name string) batcher.Config {
		return batcher.Config{Name: name, MaxRows: e.cfg.Kafka.WriteBatchSize, MaxWait: e.cfg.Kafka.WriteBatchTimeout,
			Queue: 1024, Backoff: ch.RetryBackoff, MaxBackoff: ch.MaxBackoff}
	}
	start := func(b interface {
		Start()
		Stop(time.Duration)
		Healthy() bool
	}) {
		b.Start()
		e.stops = append(e.stops, b.Stop)
		e.health.sinks = append(e.health.sinks, b)
	}
	// Routed records name their partition themselves (see route.Regions).
	// Every routed event makes one or two records, so one synchronous
	// producer would cap the engine at its rate: several write side by
	// side, a source always through the same one so its records keep their
	// order.
	var regionsOut []*batcher.Batcher[[]kafka.Message]
	for range regionWriters {
		rw := e.writer(t.Regions)
		rw.Balancer = sink.Chosen{}
		// A short queue: chunks hold a few milliseconds of a source's
		// records each, and while a catch-up outruns the producers the
		// queue is what memory holds; sources wait instead.
		cfg := fast(t.Regions)
		cfg.Queue = 16
		regionsOut = append(regionsOut, batcher.New(cfg, sink.Produce(rw, messages), batcher.Observer(e.m)))
	}
	suggestions := batcher.New(fast(t.Suggestions), sink.Produce(e.writer(t.Suggestions), messages), batcher.Observer(e.m))
	table := batcher.New(batcher.Config{Name: matching.SuggestionsTable.Name, MaxRows: ch.FlushRows, MaxWait: ch.FlushInterval,
		Queue: 256, Backoff: ch.RetryBackoff, MaxBackoff: ch.MaxBackoff}, sink.Insert(e.conn, matching.SuggestionsTable), batcher.Observer(e.m))
	for _, b := range append(regionsOut, suggestions) {
		start(b)
	}
	start(table)
	mc := &e.cfg.Matching
	return &matchEnv{regionsOut: regionsOut, userParts: users, needParts: needs, regionParts: regions,
		match: &matching.Env{Sinks: matching.Sinks{Kafka: suggestions, Table: table}, Params: &mc.Model, K: mc.K,
			Model: mc.ModelName, Republish: mc.Republish, Sources: users + needs + outcomes, BaseCurrency: e.cfg.Engine.BaseCurrency, Metrics: e.m}}, nil
}

// regionWriters is how many producers write the regions topic.
const regionWriters = 2

func messages(dst []kafka.Message, chunk []kafka.Message) []kafka.Message {
	return append(dst, chunk...)
}

// regions returns a fresh region layout: each partition worker keeps its
// own, with its own cache, so none is shared between goroutines.
func (m *matchEnv) regions(e *Engine) *route.Regions {
	return route.NewRegions(e.cfg.Matching.RegionResolution, e.cfg.Matching.MaxRadiusM, m.regionParts)
}

func (m *matchEnv) emitter(ctx context.Context, e *Engine, src int) *route.Emitter {
	return route.NewEmitter(ctx, src, m.regionParts, m.regionsOut[src%len(m.regionsOut)], e.cfg.Matching.WatermarkInterval)
}
