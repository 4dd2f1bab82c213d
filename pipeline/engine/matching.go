package engine

import (
	"context"
	"fmt"

	"github.com/segmentio/kafka-go"

	"everywhere/models/match"
	"everywhere/pipeline/batcher"
	"everywhere/pipeline/detect"
	"everywhere/pipeline/matching"
	"everywhere/pipeline/route"
	"everywhere/pipeline/sink"
)

// matchEnv is what the matching sets share: where routed records and
// re-keyed outcomes go, the region layout, and the matchers' sinks.
type matchEnv struct {
	regionsOut  []*batcher.Batcher[*sink.Pack] // sources share them, each always the same one
	userParts   int                            // source numbers: user partitions, then need partitions, then outcome partitions
	needParts   int
	regionParts int
	match       *matching.Env
}

// buildMatching makes the matching sinks. The partition counts of the
// input topics decide the source numbers of the region merge, and that of
// the regions topic the region layout: it waits until Kafka gives them
// (partitionCounts), and returns nil, nil if ctx ends first.
func (e *Engine) buildMatching(ctx context.Context, rules *detect.Rules) (*matchEnv, error) {
	t := e.topics
	n, err := e.partitionCounts(ctx, t.Pings, t.Needs, t.Outcomes, t.Regions)
	if err != nil || n == nil {
		return nil, err
	}
	users, needs, outcomes, regions := n[0], n[1], n[2], n[3]
	if regions > 64 {
		return nil, fmt.Errorf("%s has %d partitions; matching handles at most 64", t.Regions, regions)
	}
	// Routed records name their partition themselves (see route.Regions).
	// Every routed event makes one or two records, so one synchronous
	// producer would cap the engine at its rate: several write side by
	// side, a source always through the same one so its records keep their
	// order.
	var regionsOut []*batcher.Batcher[*sink.Pack]
	for range regionWriters + 1 { // the last for the needs (see writerOf)
		rw := e.writer(t.Regions)
		rw.Route()
		cfg := e.topicSink(t.Regions)
		cfg.Queue = regionsQueue
		regionsOut = append(regionsOut, batcher.New(cfg, sink.ProducePacks(rw), batcher.Observer(e.m)))
	}
	mc := &e.cfg.Matching
	suggestions := batcher.New(e.topicSink(t.Suggestions), matching.ProduceLists(e.writer(t.Suggestions), mc.ModelName),
		batcher.Observer(e.m))
	for _, b := range regionsOut {
		e.start(b)
	}
	e.start(suggestions)
	table := e.table(matching.SuggestionsTable)
	return &matchEnv{regionsOut: regionsOut, userParts: users, needParts: needs, regionParts: regions,
		match: &matching.Env{Sinks: matching.Sinks{Kafka: suggestions, Table: table}, Params: &mc.Model, K: mc.K,
			Model: mc.ModelName, Republish: mc.Republish, Sources: users + needs + outcomes, BaseCurrency: e.cfg.Engine.BaseCurrency,
			Rules: rules.Load, Metrics: e.m, Guesses: match.NewGuesses()}}, nil
}

// regionWriters is how many producers write the helpers' and outcomes'
// records to the regions topic; the needs' records have one more of their
// own (see writerOf).
const regionWriters = 2

// regionsQueue is how many chunks wait for each regions producer. While
// a catch-up outruns the producers the queue is what memory holds (a
// chunk is up to 64 KiB), and the sources wait instead. Live, chunks are
// many and small (a need goes at once, in a chunk of its own), and a
// queue of 16 was full in most writes: at 150,000 events/s the sources
// waited for room 3,652 to 8,717 times in a run's 35 s, 20 to 39 s in all
// and up to 23 ms at a time, a need's router with the need in hand
// (everywhere_sink_wait_seconds_total shows it). At 64 they waited 70 to
// 149 times, 0.4 to 1.0 s in all, and a catch-up at 100,000 users peaked
// 47 MiB higher (775 MiB against 728).
const regionsQueue = 64

func messages(dst []kafka.Message, chunk []kafka.Message) []kafka.Message {
	return append(dst, chunk...)
}

// regions returns a fresh region layout: each partition worker keeps its
// own, with its own cache, so none is shared between goroutines.
func (m *matchEnv) regions(e *Engine) *route.Regions {
	return route.NewRegions(e.cfg.Matching.RegionResolution, e.cfg.Matching.MaxRadiusM, m.regionParts)
}

// emitter returns the emitter of source src, whose records are of one kind
// (helper, need or outcome).
func (m *matchEnv) emitter(ctx context.Context, e *Engine, src int, kind string) *route.Emitter {
	return route.NewEmitter(ctx, src, m.regionParts, m.writerOf(src, kind), e.cfg.Matching.WatermarkInterval,
		e.cfg.Engine.IdleAfter > 0, e.m.RoutedRecords.WithLabelValues(kind))
}

// writerOf returns the regions producer of source src, whose records are
// of kind, always the same one, so that the source's records keep their
// order.
//
// A need partition's records have a producer of their own. Live, a need
// goes over in a chunk of its own as soon as it is routed, and sharing a
// producer with the helpers' states it could wait for the write in
// flight, a batch of those, before its own went out. With its own, in
// eight alternating pairs of single rounds at 120,000 events/s, need to
// suggestions' p99 was 20, 21, 23, 26, 26, 30, 35 and 53 ms against 20,
// 25, 28, 29, 30, 31, 33 and 128 (lower in six pairs), and its p50 a
// median 5.3 ms against 5.7, at the same CPU per event. The needs are a
// twentieth of the input, so their producer's requests are few.
func (m *matchEnv) writerOf(src int, kind string) *batcher.Batcher[*sink.Pack] {
	if kind == "need" {
		return m.regionsOut[regionWriters]
	}
	return m.regionsOut[src%regionWriters]
}
