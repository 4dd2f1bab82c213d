package consumers

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/segmentio/kafka-go"
	fetchapi "github.com/segmentio/kafka-go/protocol/fetch"
)

// fetcher gathers the fetches of a member's partition readers into one
// request per broker, as Kafka's own clients do.
//
// A member reads every partition of half a dozen topics, and each
// partition reader asks for its next messages as soon as it has handed
// the last ones on. Asked partition by partition, a live stream costs a
// round trip for every few messages, on both sides: profiled at 20,000
// events/s, round trips were a third of the engine's CPU, and the broker
// shares the machine. Gathered, the round trips follow the load instead:
// a fetch goes out at once when none is in flight or the last went out
// more than linger (kafka.fetch_linger) ago; otherwise the asks that
// come meanwhile wait for the rest of linger and go out together. A
// partition already in a fetch that waits for data is answered as soon
// as any partition of that fetch has some, as a fetch of its own would be.
//
// Each reader reads its own partition's records from the shared response
// in its own goroutine, so decoding stays spread over the readers.
//
// A partition that comes back with nothing, and nothing more at the
// broker, is not answered: its ask goes back among the waiting ones and
// out with the next fetch, until it has waited kafka.fetch_max_wait in
// all. Answered, every response woke the reader of each of the fifty or
// so partitions in it, though only one or two brought anything, and each
// of those readers asked again at once: traced at 20,000 events/s, nine
// goroutines on average stood ready to run for the engine's two cores,
// and a partition's messages came a few milliseconds after a response
// had brought them while its reader waited its turn.
type fetcher struct {
	client    *kafka.Client // carries the fetches too: its transport and addresses
	clientID  string
	minBytes  int
	maxBytes  int
	maxWait   time.Duration
	linger    time.Duration
	asks      chan *ask
	completed chan []*ask // from each request: its asks that wait on

	// leaders maps each partition to its leader's broker id; a fetch
	// holds partitions of one leader. Nil until known, and again once
	// stale: a fetch failed in a way that may mean the leaders moved.
	leaders map[topicPartition]int32
	stale   atomic.Bool
	learnt  time.Time // when the leaders were last asked for

	// asked, requests: partition fetches asked for, and requests sent.
	asked, requests atomic.Int64
}

type topicPartition struct {
	topic     string
	partition int32
}

// ask is one reader's request for its partition from offset on. The
// answer goes to res, which has room for it: a reader that stopped
// waiting does not hold the fetcher up.
type ask struct {
	ctx    context.Context
	topic  string
	part   int32
	offset int64
	res    chan fetched
	at     time.Time // when the reader asked
}

// fetched is a partition's part of a fetch response, or why there is none.
type fetched struct {
	p   *fetchPartition
	err error
}

func newFetcher(transport *kafka.Transport, brokers []string, cfg Config) *fetcher {
	return &fetcher{
		client:   &kafka.Client{Addr: kafka.TCP(brokers...), Transport: transport},
		clientID: transport.ClientID,
		minBytes: cfg.MinBytes, maxBytes: cfg.MaxBytes, maxWait: cfg.MaxWait, linger: cfg.FetchLinger,
		asks: make(chan *ask, 64), completed: make(chan []*ask, 64),
	}
}

// fetch asks for partition part of topic from offset on and waits for the
// answer. ctx bounds the wait: it must have a deadline.
func (f *fetcher) fetch(ctx context.Context, topic string, part int, offset int64) (*fetchPartition, error) {
	f.asked.Add(1)
	a := &ask{ctx: ctx, topic: topic, part: int32(part), offset: offset, res: make(chan fetched, 1), at: time.Now()}
	select {
	case f.asks <- a:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	select {
	case r := <-a.res:
		return r.p, r.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// run sends the readers' asks until ctx ends.
func (f *fetcher) run(ctx context.Context) {
	var (
		pending  []*ask
		inflight int
		lastSent time.Time
		timer    = time.NewTimer(time.Hour)
	)
	defer timer.Stop()
	for {
		select {
		case a := <-f.asks:
			pending = append(pending, a)
		case back := <-f.completed:
			inflight--
			pending = append(pending, back...)
		case <-timer.C:
		case <-ctx.Done():
			return
		}
		for more := true; more; {
			select {
			case a := <-f.asks:
				pending = append(pending, a)
			case back := <-f.completed:
				inflight--
				pending = append(pending, back...)
			default:
				more = false
			}
		}
		if len(pending) == 0 {
			continue
		}
		if wait := f.linger - time.Since(lastSent); inflight > 0 && wait > 0 {
			if !timer.Stop() {
				select {
				case <-timer.C:
				default:
				}
			}
			timer.Reset(wait)
			continue
		}
		for _, group := range f.byLeader(ctx, pending) {
			inflight++
			go f.send(ctx, group)
		}
		pending, lastSent = pending[:0], time.Now() // the groups hold no part of it
	}
}

// byLeader splits the asks still awaited into groups of one leader each,
// of at most maxRequestBytes in all. While the leaders are unknown, each
// ask goes alone: the transport finds its leader, as for a fetch of one
// partition.
func (f *fetcher) byLeader(ctx context.Context, asks []*ask) [][]*ask {
	live := asks[:0]
	for _, a := range asks {
		if a.ctx.Err() == nil {
			live = append(live, a)
		}
	}
	if len(live) == 0 {
		return nil
	}
	if f.stale.Swap(false) {
		f.leaders = nil
	}
	if !f.knows(live) && time.Since(f.learnt) >= time.Second {
		f.learnLeaders(ctx)
	}
	groups := map[int32][]*ask{}
	var out [][]*ask
	for _, a := range live {
		id, ok := f.leaders[topicPartition{a.topic, a.part}]
		if !ok {
			out = append(out, []*ask{a})
			continue
		}
		groups[id] = append(groups[id], a)
	}
	per := max(1, maxRequestBytes/f.maxBytes)
	for _, g := range groups {
		for len(g) > per {
			out, g = append(out, g[:per:per]), g[per:]
		}
		out = append(out, g)
	}
	return out
}

// maxRequestBytes bounds what one fetch may bring back: the partitions of
// a request each bring up to kafka.fetch_max_bytes, and a broker stops
// filling a response at its own fetch.max.bytes (55 MiB by default).
// Past it the last partitions of every request would come back empty
// however much they hold, and a partition that reports lag but brings
// nothing is, after a while, no longer waited for (see worker.next).
const maxRequestBytes = 48 << 20

func (f *fetcher) knows(asks []*ask) bool {
	if f.leaders == nil {
		return false
	}
	for _, a := range asks {
		if _, ok := f.leaders[topicPartition{a.topic, a.part}]; !ok {
			return false
		}
	}
	return true
}

// learnLeaders reads which broker leads each partition, at most once a
// second. On failure the leaders stay unknown and the asks go one by
// one, which is how they fail and are retried when the cluster is
// unreachable.
func (f *fetcher) learnLeaders(ctx context.Context) {
	f.learnt = time.Now()
	mctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	md, err := f.client.Metadata(mctx, &kafka.MetadataRequest{})
	if err != nil {
		f.leaders = nil
		return
	}
	leaders := map[topicPartition]int32{}
	for _, t := range md.Topics {
		for _, p := range t.Partitions {
			if p.Error == nil {
				leaders[topicPartition{t.Name, int32(p.ID)}] = int32(p.Leader.ID)
			}
		}
	}
	f.leaders = leaders
}

// send makes one fetch of the asks' partitions, all led by one broker,
// and answers each ask but those that wait on (see waitsOn).
func (f *fetcher) send(ctx context.Context, asks []*ask) {
	var back []*ask
	defer func() {
		select {
		case f.completed <- back:
		case <-ctx.Done(): // run has returned
		}
	}()
	f.requests.Add(1)
	// One entry per topic, as a broker expects.
	slices.SortFunc(asks, func(a, b *ask) int { return cmp.Or(strings.Compare(a.topic, b.topic), cmp.Compare(a.part, b.part)) })
	req := &rawFetch{clientID: f.clientID, req: fetchapi.Request{ReplicaID: -1, MaxWaitTime: int32(f.maxWait.Milliseconds()), MinBytes: int32(f.minBytes),
		MaxBytes: int32(f.maxBytes * len(asks)), SessionID: -1, SessionEpoch: -1}}
	for _, a := range asks {
		p := fetchapi.RequestPartition{Partition: a.part, CurrentLeaderEpoch: -1, FetchOffset: a.offset,
			LogStartOffset: -1, PartitionMaxBytes: int32(f.maxBytes)}
		if n := len(req.req.Topics); n > 0 && req.req.Topics[n-1].Topic == a.topic {
			req.req.Topics[n-1].Partitions = append(req.req.Topics[n-1].Partitions, p)
		} else {
			req.req.Topics = append(req.req.Topics, fetchapi.RequestTopic{Topic: a.topic, Partitions: []fetchapi.RequestPartition{p}})
		}
	}
	rctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	m, err := f.client.Transport.RoundTrip(rctx, f.client.Addr, req)
	var res *fetchResponse
	if err == nil {
		var ok bool
		if res, ok = m.(*fetchResponse); !ok {
			err = fmt.Errorf("fetch answered with %T", m)
		} else if res.errorCode != 0 {
			err = kafka.Error(res.errorCode)
		}
	}
	if err != nil {
		f.forget(err)
		for _, a := range asks {
			a.res <- fetched{err: err}
		}
		return
	}
	// The response is held until every part is handed out: a reader may
	// release its part before the next is found.
	res.refs.Add(1)
	defer res.unref()
	answered := time.Now()
	for _, a := range asks {
		p := res.find(a.topic, a.part)
		switch {
		case p == nil:
			a.res <- fetched{err: fmt.Errorf("fetch answered without partition %d of %s", a.part, a.topic)}
		case p.errorCode != 0:
			err := kafka.Error(p.errorCode)
			f.forget(err)
			a.res <- fetched{err: err}
		case f.waitsOn(a, p, answered):
			back = append(back, a)
		default:
			res.refs.Add(1) // released by the reader (fetchPartition.release)
			a.res <- fetched{p: p}
		}
	}
}

// waitsOn reports whether ask a, answered with p, goes back to wait for
// the next fetch rather than to its reader: p brought nothing, the broker
// holds nothing past the offset asked for (so the reader would only learn
// it has no lag, which it knows), and the ask has not yet waited
// fetch_max_wait, after which the reader gets its empty answer as from a
// fetch of its own. answered is when the response came: one clock read
// for all of its parts.
func (f *fetcher) waitsOn(a *ask, p *fetchPartition, answered time.Time) bool {
	return len(p.records) == 0 && p.highWatermark <= a.offset && answered.Sub(a.at) < f.maxWait
}

// forget drops the known leaders after an error that may mean they moved;
// the next fetch reads them again.
func (f *fetcher) forget(err error) {
	var ke kafka.Error
	if !errors.As(err, &ke) || ke == kafka.NotLeaderForPartition || ke == kafka.LeaderNotAvailable ||
		ke == kafka.UnknownTopicOrPartition || ke == kafka.FencedLeaderEpoch {
		f.stale.Store(true)
	}
}
