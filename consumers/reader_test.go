package consumers

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"everywhere/devbroker"
)

// testBroker starts a dev broker holding topics of the partitions given,
// closed when the test ends, and returns its address.
func testBroker(t *testing.T, partitions int, topics ...string) string {
	t.Helper()
	b, err := devbroker.Start("127.0.0.1:0", partitions, topics, "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	return b.Addrs()[0]
}

func testReader(t *testing.T, addr, topic string, partition int, offset int64) *reader {
	f := newFetcher(&kafka.Transport{}, []string{addr}, Config{MinBytes: 1, MaxBytes: 1 << 20, MaxWait: 100 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	go f.run(ctx)
	r := newReader(f, topic, partition, t.Logf)
	r.SetOffset(offset)
	return r
}

// readN fetches until n messages have come, handing each on.
func readN(t *testing.T, r *reader, n int) []kafka.Message {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var out []kafka.Message
	for len(out) < n {
		msgs, err := r.fetch(ctx)
		if err != nil {
			t.Fatalf("after %d of %d messages: %v", len(out), n, err)
		}
		for i := range msgs {
			out = append(out, msgs[i])
			r.delivered(&msgs[i])
		}
	}
	return out
}

// TestReaderReadsEveryMessageInOrder: from the first offset, from one in
// the middle of a record batch, and with values larger than a slab, every
// message comes once, in order, whole, and the lag ends at 0.
func TestReaderReadsEveryMessageInOrder(t *testing.T) {
	addr := testBroker(t, 2, "t")
	w := &kafka.Writer{Addr: kafka.TCP(addr), Topic: "t", Balancer: &kafka.Hash{}, RequiredAcks: kafka.RequireAll, BatchSize: 500, BatchTimeout: time.Millisecond}
	defer w.Close()
	var msgs []kafka.Message
	for i := range 2000 {
		v := fmt.Appendf(nil, "value-%d", i)
		if i%500 == 7 {
			v = append(v, make([]byte, slabSize+1)...) // outgrows a slab
		}
		msgs = append(msgs, kafka.Message{Partition: 1, Key: fmt.Appendf(nil, "key-%d", i), Value: v})
	}
	w.Balancer = balanceTo(1)
	if err := w.WriteMessages(context.Background(), msgs...); err != nil {
		t.Fatal(err)
	}

	r := testReader(t, addr, "t", 1, kafka.FirstOffset)
	if lag, err := r.ReadLag(context.Background()); err != nil || lag != 2000 {
		t.Fatalf("ReadLag from the first offset = %d, %v; want 2000", lag, err)
	}
	got := readN(t, r, 2000)
	for i, m := range got {
		if m.Offset != int64(i) || string(m.Key) != string(msgs[i].Key) || string(m.Value) != string(msgs[i].Value) {
			t.Fatalf("message %d: offset %d key %s value of %d bytes; want key %s value of %d bytes",
				i, m.Offset, m.Key, len(m.Value), msgs[i].Key, len(msgs[i].Value))
		}
	}
	if r.Lag() != 0 {
		t.Fatalf("lag after reading everything = %d", r.Lag())
	}

	mid := testReader(t, addr, "t", 1, 1234)
	if lag, _ := mid.ReadLag(context.Background()); lag != 2000-1234 {
		t.Fatalf("ReadLag from 1234 = %d", lag)
	}
	if m := readN(t, mid, 1)[0]; m.Offset != 1234 || string(m.Key) != "key-1234" {
		t.Fatalf("first message from offset 1234: %d %s", m.Offset, m.Key)
	}
}

type balanceTo int

func (p balanceTo) Balance(kafka.Message, ...int) int { return int(p) }

// TestReaderWaitsOutABrokerThatIsGone: fetches fail while the broker is
// down; the reader retries, does not call the partition hollow (nothing is
// known of it), and returns only when its context ends.
func TestReaderWaitsOutABrokerThatIsGone(t *testing.T) {
	b, err := devbroker.Start("127.0.0.1:0", 1, []string{"t"}, "")
	if err != nil {
		t.Fatal(err)
	}
	addr := b.Addrs()[0]
	r := testReader(t, addr, "t", 0, kafka.FirstOffset)
	b.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	start := time.Now()
	if _, err := r.fetch(ctx); err == nil {
		t.Fatal("a fetch from a closed broker returned messages")
	}
	if time.Since(start) < time.Second {
		t.Fatalf("the reader gave up after %s, before its context ended", time.Since(start))
	}
	if r.hollow() {
		t.Fatal("failed fetches taken for a partition that delivers nothing")
	}
}
