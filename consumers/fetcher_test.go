package consumers

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kfake"
)

func startFetcher(t *testing.T, addr string, maxBytes int, maxWait, linger time.Duration) *fetcher {
	f := newFetcher(&kafka.Transport{}, []string{addr}, Config{MinBytes: 1, MaxBytes: maxBytes, MaxWait: maxWait, FetchLinger: linger})
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	go f.run(ctx)
	return f
}

// TestFetcherGathersPartitionsIntoOneRequest: while a fetch waits on an
// empty partition, the asks of two other partitions go out together in a
// second request, and each gets its own answer: one its messages, the
// other its error (an offset past the end), which does not spoil the
// first.
func TestFetcherGathersPartitionsIntoOneRequest(t *testing.T) {
	addr := testBroker(t, 3, "a", "b")
	w := &kafka.Writer{Addr: kafka.TCP(addr), Topic: "b", Balancer: balanceTo(2), RequiredAcks: kafka.RequireAll, BatchTimeout: time.Millisecond}
	defer w.Close()
	if err := w.WriteMessages(context.Background(), kafka.Message{Value: []byte("x")}, kafka.Message{Value: []byte("y")}); err != nil {
		t.Fatal(err)
	}

	f := startFetcher(t, addr, 1<<20, 2*time.Second, 200*time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	waiting := make(chan error, 1)
	go func() { // partition 0 of a is empty: this fetch waits its full MaxWait
		_, err := f.fetch(ctx, "a", 0, 0)
		waiting <- err
	}()
	for f.requests.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	type answer struct {
		n   int
		err error
	}
	var wg sync.WaitGroup
	answers := make([]answer, 2)
	for i, part := range []struct {
		id     int
		offset int64
	}{{2, 0}, {1, 1000}} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p, err := f.fetch(ctx, "b", part.id, part.offset)
			if p != nil {
				msgs, _, rerr := readBatches(p.records, "b", part.id, part.offset, p.highWatermark, 1<<20, nil)
				answers[i].n, err = len(msgs), cmp.Or(err, rerr)
			}
			answers[i].err = err
		}()
		time.Sleep(10 * time.Millisecond) // the second asks while the first lingers
	}
	wg.Wait()
	if got := f.requests.Load(); got != 2 {
		t.Fatalf("%d requests for a waiting fetch and two gathered asks; want 2", got)
	}
	if answers[0].err != nil || answers[0].n != 2 {
		t.Fatalf("partition 2 of b from offset 0: %d messages, %v; want 2, nil", answers[0].n, answers[0].err)
	}
	if !errors.Is(answers[1].err, kafka.OffsetOutOfRange) {
		t.Fatalf("partition 1 of b from offset 1000: %v; want %v", answers[1].err, kafka.OffsetOutOfRange)
	}
	if err := <-waiting; err != nil {
		t.Fatalf("the fetch of an empty partition: %v", err)
	}
}

// TestFetcherHoldsAsksThatFindNothing: two asks go out in one request,
// and one partition brings messages while the other is empty. The empty
// one's reader is not answered: its ask waits in the next fetch, and gets
// the message written later, well before fetch_max_wait. An ask that
// finds nothing for fetch_max_wait gets its empty answer then.
func TestFetcherHoldsAsksThatFindNothing(t *testing.T) {
	addr := testBroker(t, 3, "a", "b")
	write := func(topic string, part int) {
		w := &kafka.Writer{Addr: kafka.TCP(addr), Topic: topic, Balancer: balanceTo(part), RequiredAcks: kafka.RequireAll, BatchTimeout: time.Millisecond}
		defer w.Close()
		if err := w.WriteMessages(context.Background(), kafka.Message{Value: []byte(topic)}); err != nil {
			t.Fatal(err)
		}
	}
	write("b", 1)

	const maxWait = 3 * time.Second
	f := startFetcher(t, addr, 1<<20, maxWait, 200*time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	type answer struct {
		n     int
		after time.Duration
		err   error
	}
	ask := func(topic string, part int) chan answer {
		ch := make(chan answer, 1)
		start := time.Now()
		go func() {
			p, err := f.fetch(ctx, topic, part, 0)
			a := answer{after: time.Since(start), err: err}
			if p != nil {
				msgs, _, rerr := readBatches(p.records, topic, part, 0, p.highWatermark, 1<<20, nil)
				a.n, a.err = len(msgs), cmp.Or(err, rerr)
				p.release()
			}
			ch <- a
		}()
		return ch
	}
	idle := ask("a", 2) // in flight alone: the next two asks linger and go out together
	for f.requests.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	empty, full := ask("a", 0), ask("b", 1)
	if a := <-full; a.err != nil || a.n != 1 {
		t.Fatalf("partition 1 of b: %d messages, %v; want 1, nil", a.n, a.err)
	}
	if got := f.requests.Load(); got != 2 {
		t.Fatalf("%d requests; want the two asks gathered into a second", got)
	}
	select {
	case a := <-empty:
		t.Fatalf("partition 0 of a, empty, answered with %d messages after %s (%v); want its ask held", a.n, a.after, a.err)
	case <-time.After(100 * time.Millisecond):
	}
	write("a", 0)
	if a := <-empty; a.err != nil || a.n != 1 || a.after >= maxWait {
		t.Fatalf("partition 0 of a: %d messages after %s, %v; want the one written, before %s", a.n, a.after, a.err, maxWait)
	}
	if a := <-idle; a.err != nil || a.n != 0 || a.after < maxWait {
		t.Fatalf("partition 2 of a: %d messages after %s, %v; want an empty answer after %s", a.n, a.after, a.err, maxWait)
	}
}

// TestFetcherFeedsManyReaders: readers of every partition of two topics,
// fetching at once through one fetcher, each read their own partition's
// messages in order, with fewer requests than fetches.
func TestFetcherFeedsManyReaders(t *testing.T) {
	const parts, per = 8, 3000
	addr := testBroker(t, parts, "a", "b")
	for _, topic := range []string{"a", "b"} {
		w := &kafka.Writer{Addr: kafka.TCP(addr), Topic: topic, Balancer: &kafka.RoundRobin{}, RequiredAcks: kafka.RequireAll, BatchSize: 100, BatchTimeout: time.Millisecond}
		var msgs []kafka.Message
		for i := range parts * per {
			msgs = append(msgs, kafka.Message{Value: fmt.Appendf(nil, "%s-%d", topic, i)})
		}
		if err := w.WriteMessages(context.Background(), msgs...); err != nil {
			t.Fatal(err)
		}
		w.Close()
	}
	// Small fetches, a batch or two each: many fetches per partition.
	f := startFetcher(t, addr, 4<<10, 100*time.Millisecond, time.Millisecond)
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		values = map[string]int{}
	)
	for _, topic := range []string{"a", "b"} {
		for p := range parts {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := newReader(f, topic, p, t.Logf)
				got := readN(t, r, per)
				for i, m := range got {
					if m.Offset != int64(i) || m.Partition != p || m.Topic != topic {
						t.Errorf("%s/%d: message %d is %s/%d at %d", topic, p, i, m.Topic, m.Partition, m.Offset)
						return
					}
				}
				mu.Lock()
				defer mu.Unlock()
				for _, m := range got {
					values[string(m.Value)]++
				}
			}()
		}
	}
	wg.Wait()
	// Read only now, after every fetch: a value still pointing into a
	// response buffer since reused would have changed.
	for _, topic := range []string{"a", "b"} {
		for i := range parts * per {
			if v := fmt.Sprintf("%s-%d", topic, i); values[v] != 1 {
				t.Fatalf("value %s read %d times, want once", v, values[v])
			}
		}
	}
	// Fetched one by one, there would be as many requests as fetches;
	// here about two fetches go in each, and the bound leaves room.
	if req, asks := f.requests.Load(), f.asked.Load(); req*4 > asks*3 {
		t.Fatalf("%d requests for %d fetches; want them gathered, at most three quarters as many", req, asks)
	}
}

// TestFetcherFollowsLeaders: on a cluster of three brokers, each fetch
// goes to the one broker leading all its partitions, and when the leaders
// move midway the readers find them again and lose nothing.
func TestFetcherFollowsLeaders(t *testing.T) {
	const parts, per = 6, 1000
	c, err := kfake.NewCluster(kfake.NumBrokers(3), kfake.SeedTopics(parts, "t"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	addrs := c.ListenAddrs()
	leaders := map[int32]bool{}
	for p := range int32(parts) {
		leaders[c.LeaderFor("t", p)] = true
	}
	if len(leaders) < 2 {
		t.Fatalf("the partitions' leaders are %v; want them spread over the brokers", leaders)
	}
	w := &kafka.Writer{Addr: kafka.TCP(addrs...), Topic: "t", Balancer: &kafka.RoundRobin{}, RequiredAcks: kafka.RequireAll, BatchSize: 100, BatchTimeout: time.Millisecond}
	defer w.Close()
	write := func(from int) {
		var msgs []kafka.Message
		for i := range parts * per / 2 {
			msgs = append(msgs, kafka.Message{Value: fmt.Appendf(nil, "%d", from+i)})
		}
		if err := w.WriteMessages(context.Background(), msgs...); err != nil {
			t.Fatal(err)
		}
	}
	write(0)
	f := newFetcher(&kafka.Transport{}, addrs, Config{MinBytes: 1, MaxBytes: 4 << 10, MaxWait: 100 * time.Millisecond, FetchLinger: time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go f.run(ctx)
	readers := make([]*reader, parts)
	for p := range parts {
		readers[p] = newReader(f, "t", p, t.Logf)
		readers[p].SetOffset(0)
	}
	readAll := func(from int) {
		var wg sync.WaitGroup
		for p, r := range readers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i, m := range readN(t, r, per/2) {
					if m.Offset != int64(from+i) {
						t.Errorf("partition %d: message %d at offset %d; want %d", p, i, m.Offset, from+i)
						return
					}
				}
			}()
		}
		wg.Wait()
	}
	readAll(0)
	c.ShufflePartitionLeaders()
	write(parts * per / 2)
	readAll(per / 2)
}

// TestFetcherBoundsARequest: one leader's asks are split so that no
// request can bring back more than maxRequestBytes, and none is lost; an
// ask whose reader stopped waiting is dropped.
func TestFetcherBoundsARequest(t *testing.T) {
	f := &fetcher{maxBytes: 16 << 20, leaders: map[topicPartition]int32{}}
	var asks []*ask
	for p := range int32(8) {
		f.leaders[topicPartition{"t", p}] = 1
		asks = append(asks, &ask{ctx: context.Background(), topic: "t", part: p})
	}
	gone, cancel := context.WithCancel(context.Background())
	cancel()
	asks = append(asks, &ask{ctx: gone, topic: "t", part: 0})
	seen := map[int32]bool{}
	for _, g := range f.byLeader(context.Background(), asks) {
		if len(g)*f.maxBytes > maxRequestBytes {
			t.Fatalf("a request of %d partitions of %d bytes each", len(g), f.maxBytes)
		}
		for _, a := range g {
			if a.ctx.Err() != nil || seen[a.part] {
				t.Fatalf("partition %d sent twice, or for a reader gone", a.part)
			}
			seen[a.part] = true
		}
	}
	if len(seen) != 8 {
		t.Fatalf("%d of 8 partitions sent", len(seen))
	}
}
