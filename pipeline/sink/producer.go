package sink

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/segmentio/kafka-go"

	"everywhere/deadline"
)

// Producer publishes whole batches to one topic with kafka-go's Client:
// one produce request per partition a batch touches, sent side by side,
// each waiting for every in-sync replica.
//
// It replaces kafka.Writer on the engine's outputs because the Writer
// looks the topic's partitions up again for every message it is given (a
// round trip through its transport's metadata cache and five allocations
// each, a third of the engine's allocations while catching up) and
// starts a batch object per partition per write. A Producer reads the
// partition count once every metadataEvery, and a write allocates per
// partition, not per message.
//
// A Producer is not safe for concurrent writes: each belongs to the one
// batcher goroutine that writes its batches.
type Producer struct {
	Topic    string
	client   *kafka.Client
	tr       *kafka.Transport
	balancer kafka.Balancer

	parts   []int // 0 to n-1, what balancers choose from
	checked time.Time

	byPart [][]int32         // per partition, the indexes of its messages in the write
	leases []*deadline.Lease // per partition, what bounds its requests
	sends  []send
	wg     sync.WaitGroup
}

// requestTimeout bounds one request to the broker.
const requestTimeout = 10 * time.Second

// metadataEvery is how often a Producer reads its topic's partition count
// again: partitions are added rarely, and a failed write reads it at once.
const metadataEvery = 30 * time.Second

// maxRequestBytes keeps a produce request's record batch under the
// broker's default message.max.bytes (1 MiB): a larger batch is refused
// whole. A partition's share of a write beyond it goes in further requests,
// in order.
const maxRequestBytes = 1_000_000

// recordOverhead is what a record adds to its key and value in a batch,
// at most (lengths, offset and time deltas, header count).
const recordOverhead = 32

// Retries of one partition's request within a write; the batcher above
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
	return &Producer{
		Topic: c.Topic,
		tr:    tr,
		// No Timeout: the client would make a timer for every request.
		// Each partition's requests are bounded by its lease instead.
		client:   &kafka.Client{Addr: kafka.TCP(c.Brokers...), Transport: tr},
		balancer: Balancer(c.Partitioner),
	}
}

// Route makes the producer send each message to the partition it names
// (Message.Partition), for records whose router chose it.
func (p *Producer) Route() { p.balancer = Chosen{} }

// Close ends the requests' contexts and closes the producer's idle
// connections.
func (p *Producer) Close() error {
	for _, l := range p.leases {
		l.Release()
	}
	p.tr.CloseIdleConnections()
	return nil
}

// WriteMessages publishes msgs, keeping their order within each partition,
// and returns once every partition's request was acknowledged or one of
// them failed after its retries. A failed write may have published the
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
	p.sends = p.sends[:0]
	for part, idx := range p.byPart {
		if len(idx) > 0 {
			p.sends = append(p.sends, send{p: p, part: part, msgs: msgs, idx: idx, lease: p.leases[part]})
		}
	}
	// Side by side: a batch of lists or records spans partitions, and each
	// request is a round trip.
	for i := 1; i < len(p.sends); i++ {
		p.wg.Add(1)
		go func(s *send) {
			defer p.wg.Done()
			s.run(ctx)
		}(&p.sends[i])
	}
	p.sends[0].run(ctx)
	p.wg.Wait()
	for i := range p.sends {
		if err := p.sends[i].err; err != nil {
			p.checked = time.Time{} // the partitions may have changed
			return fmt.Errorf("produce to %s partition %d: %w", p.Topic, p.sends[i].part, err)
		}
	}
	return nil
}

// partitions reads the topic's partition count when it is due.
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
	n := 0
	for _, t := range res.Topics {
		if t.Name != p.Topic {
			continue
		}
		if t.Error != nil {
			return fmt.Errorf("partitions of %s: %w", p.Topic, t.Error)
		}
		n = len(t.Partitions)
	}
	if n == 0 {
		return fmt.Errorf("partitions of %s: %w", p.Topic, kafka.UnknownTopicOrPartition)
	}
	p.parts = p.parts[:0]
	for i := range n {
		p.parts = append(p.parts, i)
	}
	for len(p.byPart) < n {
		p.byPart = append(p.byPart, nil)
		p.leases = append(p.leases, deadline.NewLease(requestTimeout, time.Second))
	}
	p.byPart, p.leases = p.byPart[:n], p.leases[:n]
	p.checked = time.Now()
	return nil
}

// send is one partition's share of a write.
type send struct {
	p     *Producer
	part  int
	msgs  []kafka.Message
	idx   []int32
	recs  records
	lease *deadline.Lease
	err   error
}

// run sends the share in requests of at most maxRequestBytes, in order,
// retrying each with backoff.
func (s *send) run(ctx context.Context) {
	for from := 0; from < len(s.idx); {
		to, size := from, 0
		for to < len(s.idx) {
			m := &s.msgs[s.idx[to]]
			n := len(m.Key) + len(m.Value) + recordOverhead
			if to > from && size+n > maxRequestBytes {
				break
			}
			size += n
			to++
		}
		if s.err = s.request(ctx, s.idx[from:to]); s.err != nil {
			return
		}
		from = to
	}
}

func (s *send) request(ctx context.Context, idx []int32) error {
	backoff := backoffMin
	var err error
	for attempt := 1; ; attempt++ {
		s.recs = records{msgs: s.msgs, idx: idx}
		var res *kafka.ProduceResponse
		res, err = s.p.client.Produce(s.lease.Context(ctx), &kafka.ProduceRequest{Topic: s.p.Topic, Partition: s.part,
			RequiredAcks: kafka.RequireAll, Records: &s.recs})
		if err == nil && res.Error != nil {
			err = res.Error
		}
		if err == nil {
			for _, e := range res.RecordErrors {
				err = e
				break
			}
		}
		if err == nil || attempt == attempts || ctx.Err() != nil {
			return err
		}
		var ke kafka.Error
		if errors.As(err, &ke) && !ke.Temporary() {
			return err
		}
		select {
		case <-time.After(backoff):
		case <-ctx.Done():
			return err
		}
		backoff = min(2*backoff, backoffMax)
	}
}

// records reads a partition's messages as produce records, reusing one
// record and two byte readers for all of them.
type records struct {
	msgs       []kafka.Message
	idx        []int32
	i          int
	rec        kafka.Record
	key, value body
}

func (r *records) ReadRecord() (*kafka.Record, error) {
	if r.i >= len(r.idx) {
		return nil, io.EOF
	}
	m := &r.msgs[r.idx[r.i]]
	r.i++
	r.rec = kafka.Record{Time: m.Time, Headers: m.Headers}
	if m.Key != nil {
		r.key.Reset(m.Key)
		r.rec.Key = &r.key
	}
	if m.Value != nil {
		r.value.Reset(m.Value)
		r.rec.Value = &r.value
	}
	return &r.rec, nil
}

type body struct{ bytes.Reader }

func (*body) Close() error { return nil }
