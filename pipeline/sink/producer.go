package sink

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/segmentio/kafka-go/protocol"
	"github.com/segmentio/kafka-go/protocol/produce"
	"github.com/segmentio/kafka-go/protocol/rawproduce"

	"everywhere/deadline"
)

// Producer publishes whole batches to one topic: one produce request per
// partition leader a batch touches, carrying every partition of that
// leader, each request waiting for every in-sync replica.
//
// It replaces kafka.Writer on the engine's outputs because the Writer
// looks the topic's partitions up again for every message it is given (a
// round trip through its transport's metadata cache and five allocations
// each, a third of the engine's allocations while catching up) and
// sends a request per partition. A Producer reads the partitions and
// their leaders once every metadataEvery, and a write costs a request per
// leader: a batch of the regions records or of lists spans every
// partition, and a request per partition cost the engine, and the
// broker, eight times the round trips.
//
// Each partition's records go as one record batch it encodes itself
// (appendBatch), in a raw produce request: the broker must take message
// format v2 (Kafka 0.11 and later), as the engine's fetches already
// require.
//
// A Producer is not safe for concurrent writes: each belongs to the one
// batcher goroutine that writes its batches.
type Producer struct {
	Topic    string
	client   *kafka.Client // for metadata
	tr       *kafka.Transport
	addr     net.Addr
	balancer kafka.Balancer

	parts   []int   // 0 to n-1, what balancers choose from
	leaders []int32 // per partition, the broker that leads it
	checked time.Time

	byPart [][]int32 // per partition, the indexes of its messages in the write
	groups []*group  // per leader: its share of a write, reused
	wg     sync.WaitGroup
}

// requestTimeout bounds one request to the broker.
const requestTimeout = 10 * time.Second

// metadataEvery is how often a Producer reads its topic's partitions
// again: partitions are added and leaders move rarely, and a failed write
// reads them at once.
const metadataEvery = 30 * time.Second

// maxPartitionBytes keeps a partition's record batch under the broker's
// default message.max.bytes (1 MiB): a larger batch is refused whole. A
// partition's share of a write beyond it goes in further requests, in
// order.
const maxPartitionBytes = 1_000_000

// recordOverhead is what a record adds to its key and value in a batch,
// at most (lengths, offset and time deltas, header count).
const recordOverhead = 32

// Tries of one partition's share within a write; the batcher above
// retries the whole batch after that.
const (
	attempts   = 5
	backoffMin = 50 * time.Millisecond
	backoffMax = 2 * time.Second
)

// NewProducer returns a producer to c.Topic with c's partitioner. Every
// request waits for all in-sync replicas: the engine commits its input
// only after its output is durable.
func NewProducer(c ProducerConfig) *Producer {
	tr := &kafka.Transport{}
	addr := kafka.TCP(c.Brokers...)
	return &Producer{
		Topic: c.Topic,
		tr:    tr,
		addr:  addr,
		// No Timeout: the client would make a timer for every request.
		client:   &kafka.Client{Addr: addr, Transport: tr},
		balancer: Balancer(c.Partitioner),
	}
}

// Route makes the producer send each message to the partition it names
// (Message.Partition), for records whose router chose it.
func (p *Producer) Route() { p.balancer = Chosen{} }

// Close ends the requests' contexts and closes the producer's idle
// connections.
func (p *Producer) Close() error {
	for _, g := range p.groups {
		g.lease.Release()
	}
	p.tr.CloseIdleConnections()
	return nil
}

// WriteMessages publishes msgs, keeping their order within each partition,
// and returns once every partition's share was acknowledged or one of
// them failed after its tries. A failed write may have published the
// messages of other partitions: outputs carry ids that make a repeat
// harmless.
func (p *Producer) WriteMessages(ctx context.Context, msgs ...kafka.Message) error {
	if len(msgs) == 0 {
		return nil
	}
	if err := p.partitions(ctx); err != nil {
		return err
	}
	for i := range p.byPart {
		p.byPart[i] = p.byPart[i][:0]
	}
	now := time.Now()
	for i := range msgs {
		m := &msgs[i]
		if m.Time.IsZero() {
			m.Time = now
		}
		part := p.balancer.Balance(*m, p.parts...)
		p.byPart[part] = append(p.byPart[part], int32(i))
	}
	groups := p.group(msgs)
	// Side by side: each leader is its own round trip.
	for _, g := range groups[1:] {
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			g.run(ctx)
		}()
	}
	groups[0].run(ctx)
	p.wg.Wait()
	for _, g := range groups {
		if g.err != nil {
			p.checked = time.Time{} // the partitions or their leaders may have changed
			return fmt.Errorf("produce to %s partition %d: %w", p.Topic, g.failed, g.err)
		}
	}
	return nil
}

// group gathers the partitions a write touches by leader, and returns the
// leaders' shares.
func (p *Producer) group(msgs []kafka.Message) []*group {
	used := 0
	for part, idx := range p.byPart {
		if len(idx) == 0 {
			continue
		}
		var g *group
		for _, x := range p.groups[:used] {
			if x.leader == p.leaders[part] {
				g = x
				break
			}
		}
		if g == nil {
			if used == len(p.groups) {
				p.groups = append(p.groups, &group{p: p, lease: deadline.NewLease(requestTimeout, time.Second)})
			}
			g = p.groups[used]
			used++
			g.leader, g.msgs, g.shares, g.err = p.leaders[part], msgs, g.shares[:0], nil
		}
		// A share keeps its batch's buffer from write to write.
		if n := len(g.shares); n < cap(g.shares) {
			g.shares = g.shares[:n+1]
			s := &g.shares[n]
			*s = share{part: part, idx: idx, buf: s.buf}
		} else {
			g.shares = append(g.shares, share{part: part, idx: idx})
		}
	}
	return p.groups[:used]
}

// partitions reads the topic's partitions and their leaders when due.
func (p *Producer) partitions(ctx context.Context) error {
	if len(p.parts) > 0 && time.Since(p.checked) < metadataEvery {
		return nil
	}
	mctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	res, err := p.client.Metadata(mctx, &kafka.MetadataRequest{Topics: []string{p.Topic}})
	if err != nil {
		return fmt.Errorf("partitions of %s: %w", p.Topic, err)
	}
	var parts []kafka.Partition
	for _, t := range res.Topics {
		if t.Name != p.Topic {
			continue
		}
		if t.Error != nil {
			return fmt.Errorf("partitions of %s: %w", p.Topic, t.Error)
		}
		parts = t.Partitions
	}
	n := len(parts)
	if n == 0 {
		return fmt.Errorf("partitions of %s: %w", p.Topic, kafka.UnknownTopicOrPartition)
	}
	p.parts, p.leaders = p.parts[:0], p.leaders[:0]
	for i := range n {
		p.parts = append(p.parts, i)
		p.leaders = append(p.leaders, -1)
	}
	for _, pt := range parts {
		if pt.ID < 0 || pt.ID >= n {
			return fmt.Errorf("partitions of %s: partition %d of %d", p.Topic, pt.ID, n)
		}
		p.leaders[pt.ID] = int32(pt.Leader.ID)
	}
	for len(p.byPart) < n {
		p.byPart = append(p.byPart, nil)
	}
	p.byPart = p.byPart[:n]
	p.checked = time.Now()
	return nil
}

// group is one leader's share of a write: the partitions it leads, sent
// in rounds of one request each. A round carries, for every partition
// with messages left, the next of them up to maxPartitionBytes; a
// partition refused with a passing error is sent again in the next round,
// after a backoff, so its messages stay in order.
type group struct {
	p      *Producer
	leader int32
	msgs   []kafka.Message
	shares []share
	lease  *deadline.Lease
	req    rawproduce.Request
	err    error // the failure that ended the write
	failed int   // the partition it came from
}

// share is one partition's messages in a write, and how far they went.
type share struct {
	part  int
	idx   []int32
	from  int  // the first not yet acknowledged
	to    int  // the end of those in the request in flight
	sent  bool // in the request in flight, not yet answered
	tries int
	// buf holds the record batch of the messages from..to, which rd reads
	// into the request; both are kept from write to write, buf at most
	// about maxPartitionBytes.
	buf []byte
	rd  bytes.Reader
}

func (g *group) run(ctx context.Context) {
	backoff := backoffMin
	for {
		if !g.build() {
			return
		}
		retry, done := g.send(ctx)
		if done {
			return
		}
		if !retry {
			backoff = backoffMin
			continue
		}
		select {
		case <-time.After(backoff):
		case <-ctx.Done():
			g.err = ctx.Err()
			return
		}
		backoff = min(2*backoff, backoffMax)
	}
}

// build makes the next round's request, and reports whether any
// partition has messages left.
func (g *group) build() bool {
	if len(g.req.Topics) == 0 {
		g.req.Topics = []rawproduce.RequestTopic{{Topic: g.p.Topic}}
		g.req.Acks = int16(kafka.RequireAll)
		g.req.Timeout = int32(requestTimeout / 2 / time.Millisecond)
	}
	parts := g.req.Topics[0].Partitions[:0]
	for i := range g.shares {
		s := &g.shares[i]
		s.sent = s.from < len(s.idx)
		if !s.sent {
			continue
		}
		to, size := s.from, 0
		for to < len(s.idx) {
			m := &g.msgs[s.idx[to]]
			n := len(m.Key) + len(m.Value) + recordOverhead
			if to > s.from && size+n > maxPartitionBytes {
				break
			}
			size += n
			to++
		}
		s.to = to
		// Every message has its time by now (WriteMessages gives those
		// without one the write's), so appendBatch needs no other.
		s.buf = appendBatch(s.buf[:0], g.msgs, s.idx[s.from:to], 0)
		s.rd.Reset(s.buf)
		parts = append(parts, rawproduce.RequestPartition{Partition: int32(s.part), RecordSet: protocol.RawRecordSet{Reader: &s.rd}})
	}
	g.req.Topics[0].Partitions = parts
	return len(parts) > 0
}

// send makes one round trip. retry says some partition must go again;
// done that the write is over for this leader, failed (g.err) or with
// nothing left.
func (g *group) send(ctx context.Context) (retry, done bool) {
	res, err := g.p.tr.RoundTrip(g.lease.Context(ctx), g.p.addr, &g.req)
	if err == nil {
		if r, ok := res.(*produce.Response); ok {
			return g.settle(r)
		}
		err = fmt.Errorf("unexpected response %T", res)
	}
	// The whole request failed: every partition in it tries again.
	for i := range g.shares {
		if s := &g.shares[i]; s.sent && g.refused(s, err) {
			return false, true
		}
	}
	return true, false
}

// settle reads the response: an acknowledged partition moves on, a
// refused one tries again or ends the write.
func (g *group) settle(r *produce.Response) (retry, done bool) {
	for _, t := range r.Topics {
		for _, rp := range t.Partitions {
			s := g.share(int(rp.Partition))
			if s == nil || !s.sent {
				continue
			}
			s.sent = false
			var err error
			switch {
			case rp.ErrorCode != 0:
				err = kafka.Error(rp.ErrorCode)
			case len(rp.RecordErrors) > 0:
				err = errors.New(rp.RecordErrors[0].BatchIndexErrorMessage)
			default:
				s.from, s.tries = s.to, 0
				continue
			}
			if g.refused(s, err) {
				return false, true
			}
			retry = true
		}
	}
	for i := range g.shares {
		if s := &g.shares[i]; s.sent {
			// In the request, and not in the response.
			if g.refused(s, errors.New("no answer for the partition")) {
				return false, true
			}
			retry = true
		}
	}
	return retry, false
}

// refused counts a failed try of s and reports whether it ends the write:
// the tries are spent, or the error will not pass.
func (g *group) refused(s *share, err error) bool {
	s.tries++
	var ke kafka.Error
	if s.tries >= attempts || errors.As(err, &ke) && !ke.Temporary() {
		g.err, g.failed = err, s.part
		return true
	}
	return false
}

func (g *group) share(part int) *share {
	for i := range g.shares {
		if g.shares[i].part == part {
			return &g.shares[i]
		}
	}
	return nil
}
