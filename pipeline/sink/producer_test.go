package sink

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kfake"

	"everywhere/devbroker"
)

// readAll reads every message of each partition of topic, in order.
func readAll(t *testing.T, addr, topic string, partitions int) [][]kafka.Message {
	t.Helper()
	out := make([][]kafka.Message, partitions)
	for p := range partitions {
		conn, err := kafka.DialLeader(context.Background(), "tcp", addr, topic, p)
		if err != nil {
			t.Fatal(err)
		}
		last, err := conn.ReadLastOffset()
		if err != nil {
			t.Fatal(err)
		}
		r := kafka.NewReader(kafka.ReaderConfig{Brokers: []string{addr}, Topic: topic, Partition: p, MaxWait: 50 * time.Millisecond})
		for int64(len(out[p])) < last {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			m, err := r.ReadMessage(ctx)
			cancel()
			if err != nil {
				t.Fatalf("partition %d after %d of %d: %v", p, len(out[p]), last, err)
			}
			out[p] = append(out[p], m)
		}
		r.Close()
		conn.Close()
	}
	return out
}

// TestProducerPartitionsAsTheWriterDoes: keyed messages land where
// kafka.Writer with the same partitioner puts them, in the order given,
// across several writes; routed ones in the partition they name; and a
// partition's share larger than one request goes whole, in order.
func TestProducerPartitionsAsTheWriterDoes(t *testing.T) {
	const parts = 4
	b, err := devbroker.Start("127.0.0.1:0", parts, []string{"ours", "theirs", "routed", "large"}, "")
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	addr := b.Addrs()[0]
	ctx := context.Background()

	var msgs []kafka.Message
	for i := range 300 {
		msgs = append(msgs, kafka.Message{Key: fmt.Appendf(nil, "user-%d", i%37), Value: fmt.Appendf(nil, "v%d", i)})
	}
	ours := NewProducer(ProducerConfig{Brokers: []string{addr}, Topic: "ours", Partitioner: "murmur2"})
	defer ours.Close()
	for i := 0; i < len(msgs); i += 100 {
		if err := ours.WriteMessages(ctx, msgs[i:i+100]...); err != nil {
			t.Fatal(err)
		}
	}
	w := &kafka.Writer{Addr: kafka.TCP(addr), Topic: "theirs", Balancer: Balancer("murmur2"), RequiredAcks: kafka.RequireAll, BatchTimeout: time.Millisecond}
	if err := w.WriteMessages(ctx, msgs...); err != nil {
		t.Fatal(err)
	}
	w.Close()
	got, want := readAll(t, addr, "ours", parts), readAll(t, addr, "theirs", parts)
	for p := range parts {
		if len(got[p]) != len(want[p]) {
			t.Fatalf("partition %d holds %d messages, kafka.Writer put %d there", p, len(got[p]), len(want[p]))
		}
		for i := range got[p] {
			if string(got[p][i].Key) != string(want[p][i].Key) || string(got[p][i].Value) != string(want[p][i].Value) {
				t.Fatalf("partition %d message %d: %s=%s, kafka.Writer %s=%s", p, i, got[p][i].Key, got[p][i].Value, want[p][i].Key, want[p][i].Value)
			}
		}
	}

	routed := NewProducer(ProducerConfig{Brokers: []string{addr}, Topic: "routed"})
	routed.Route()
	defer routed.Close()
	var rm []kafka.Message
	for i := range 40 {
		rm = append(rm, kafka.Message{Partition: i % parts, Value: fmt.Appendf(nil, "%d", i)})
	}
	if err := routed.WriteMessages(ctx, rm...); err != nil {
		t.Fatal(err)
	}
	for p, ms := range readAll(t, addr, "routed", parts) {
		if len(ms) != 10 {
			t.Fatalf("routed partition %d holds %d messages, want 10", p, len(ms))
		}
		for i, m := range ms {
			if want := fmt.Sprint(i*parts + p); string(m.Value) != want {
				t.Fatalf("routed partition %d message %d = %s, want %s", p, i, m.Value, want)
			}
		}
	}

	large := NewProducer(ProducerConfig{Brokers: []string{addr}, Topic: "large"})
	large.Route()
	defer large.Close()
	big := strings.Repeat("x", 100_000)
	var lm []kafka.Message
	for i := range 25 { // 2.5 MB to partition 1: three requests
		lm = append(lm, kafka.Message{Partition: 1, Value: fmt.Appendf(nil, "%02d%s", i, big)})
	}
	if err := large.WriteMessages(ctx, lm...); err != nil {
		t.Fatal(err)
	}
	ls := readAll(t, addr, "large", parts)[1]
	if len(ls) != len(lm) {
		t.Fatalf("partition 1 holds %d large messages, want %d", len(ls), len(lm))
	}
	for i, m := range ls {
		if string(m.Value[:2]) != fmt.Sprintf("%02d", i) {
			t.Fatalf("large message %d is %s", i, m.Value[:2])
		}
	}
}

// TestProducerFailsWithoutBroker: a write to a broker that is gone returns
// an error (the batcher above retries it) instead of hanging.
func TestProducerFailsWithoutBroker(t *testing.T) {
	b, err := devbroker.Start("127.0.0.1:0", 2, []string{"t"}, "")
	if err != nil {
		t.Fatal(err)
	}
	addr := b.Addrs()[0]
	p := NewProducer(ProducerConfig{Brokers: []string{addr}, Topic: "t"})
	defer p.Close()
	if err := p.WriteMessages(context.Background(), kafka.Message{Key: []byte("k"), Value: []byte("v")}); err != nil {
		t.Fatal(err)
	}
	b.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := p.WriteMessages(ctx, kafka.Message{Key: []byte("k"), Value: []byte("v")}); err == nil {
		t.Fatal("a write to a closed broker succeeded")
	}
}

// TestProducerSendsToEachLeader: with partitions led by three brokers, a
// write goes to each leader in a request of its own (a request naming
// partitions of two leaders is refused), and every partition gets its
// messages in order.
func TestProducerSendsToEachLeader(t *testing.T) {
	const parts = 6
	c, err := kfake.NewCluster(kfake.NumBrokers(3), kfake.SeedTopics(parts, "spread"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	addrs := c.ListenAddrs()
	leaders := map[int]bool{}
	for p := range parts {
		conn, err := kafka.DialLeader(context.Background(), "tcp", addrs[0], "spread", p)
		if err != nil {
			t.Fatal(err)
		}
		leaders[conn.Broker().ID] = true
		conn.Close()
	}
	if len(leaders) < 2 {
		t.Fatalf("the partitions have %d leader(s); the test needs several", len(leaders))
	}
	p := NewProducer(ProducerConfig{Brokers: addrs[:1], Topic: "spread"})
	p.Route()
	defer p.Close()
	var msgs []kafka.Message
	for i := range 120 {
		msgs = append(msgs, kafka.Message{Partition: i % parts, Value: fmt.Appendf(nil, "%d", i)})
	}
	for i := 0; i < len(msgs); i += 40 {
		if err := p.WriteMessages(context.Background(), msgs[i:i+40]...); err != nil {
			t.Fatal(err)
		}
	}
	for part, ms := range readAll(t, addrs[0], "spread", parts) {
		if len(ms) != 120/parts {
			t.Fatalf("partition %d holds %d messages, want %d", part, len(ms), 120/parts)
		}
		for i, m := range ms {
			if want := fmt.Sprint(i*parts + part); string(m.Value) != want {
				t.Fatalf("partition %d message %d = %s, want %s", part, i, m.Value, want)
			}
		}
	}
}
