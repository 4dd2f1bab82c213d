package integration

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"regexp"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"everywhere/kafkaadmin"
	"everywhere/simulator"
)

// requiredField is a field each input's contract requires, by topic.
var requiredField = [simulator.NumTopics]string{`"user_id"`, `"user_id"`, `"txn_id"`, `"need_id"`, `"need_id"`}

var tsField = regexp.MustCompile(`"ts":(\d+)`)

// spoil turns a valid message into one the contract rejects, in one of
// several ways upstream code goes wrong. Each way is invalid by
// construction, not by asking the engine's decoder.
func spoil(r *rand.Rand, topic simulator.Topic, valid []byte) []byte {
	switch r.IntN(7) {
	case 0: // random bytes that cannot start JSON
		b := make([]byte, 1+r.IntN(200))
		for i := range b {
			b[i] = byte(r.IntN(256))
		}
		b[0] = '#'
		return b
	case 1: // cut short: an object without its closing brace
		return append([]byte(nil), valid[:1+r.IntN(len(valid)-1)]...)
	case 2: // the required id renamed away
		return bytes.Replace(valid, []byte(requiredField[topic]), []byte(`"nothing"`), 1)
	case 3: // time in seconds
		return tsField.ReplaceAllFunc(valid, func(m []byte) []byte {
			var ms int64
			fmt.Sscanf(string(m), `"ts":%d`, &ms)
			return fmt.Appendf(nil, `"ts":%d`, ms/1000)
		})
	case 4: // time of the wrong type
		return tsField.ReplaceAll(valid, []byte(`"ts":"yesterday"`))
	case 5: // JSON, not an object
		return []byte([]string{`[1,2,3]`, `"ping"`, `null`, `42`, `true`}[r.IntN(5)])
	default: // an object of nothing
		return []byte(`{}`)
	}
}

// TestBadInputFlood publishes 100,000 malformed messages mixed with as
// many valid ones over every input topic: every bad one must reach the
// dead-letter topic with a reason and its exact bytes, every valid one
// must be processed (counted by the engine and in ClickHouse), and the
// engine must stay up with bounded memory.
func TestBadInputFlood(t *testing.T) {
	if testing.Short() {
		t.Skip("publishes 200,000 messages")
	}
	n := heavy(100_000, 1_000_000)
	e := newEnv(t, 4)
	en := e.startEngine()
	lc := simulator.DefaultLoad()
	lc.Users, lc.Events = 5_000, n
	load := simulator.NewLoad(lc)
	r := rand.New(rand.NewPCG(11, 12))
	writers := map[simulator.Topic]*kafka.Writer{}
	topics := publishConfig(e, 0).Topics
	for tp := range simulator.NumTopics {
		writers[tp] = &kafka.Writer{Addr: kafka.TCP(e.brokers...), Topic: topics[tp], Balancer: kafka.Murmur2Balancer{Consistent: true},
			RequiredAcks: kafka.RequireAll, BatchSize: 1000, BatchTimeout: time.Millisecond}
		defer writers[tp].Close()
	}
	var (
		batches   [simulator.NumTopics][]kafka.Message
		badSent   = map[string]int{} // payload -> times sent
		validPerT [simulator.NumTopics]int
		m         simulator.Message
	)
	for load.Next(&m) {
		validPerT[m.Topic]++
		bad := spoil(r, m.Topic, m.Value)
		badSent[string(bad)]++
		batches[m.Topic] = append(batches[m.Topic],
			kafka.Message{Key: []byte(m.Key), Value: m.Value},
			kafka.Message{Key: fmt.Appendf(nil, "bad%d", r.IntN(1000)), Value: bad})
	}
	ctx := context.Background()
	for tp, msgs := range batches {
		if err := writers[simulator.Topic(tp)].WriteMessages(ctx, msgs...); err != nil {
			t.Fatal(err)
		}
	}

	inputs := e.topics.Inputs()
	e.drainedAs(heavy(3*time.Minute, 20*time.Minute), "everywhere", inputs)
	if en.cmd.ProcessState != nil {
		t.Fatalf("the engine exited: %v", en.cmd.ProcessState)
	}
	text := en.metrics(t)
	var okIn, rejected float64
	for _, topic := range inputs {
		okIn += metric(text, fmt.Sprintf(`everywhere_events_in_total{result="ok",topic="%s"}`, topic))
		rejected += metric(text, fmt.Sprintf(`everywhere_events_in_total{result="rejected",topic="%s"}`, topic))
	}
	if okIn != float64(n) || rejected != float64(n) {
		t.Errorf("the engine counted %.0f valid and %.0f rejected, want %d of each", okIn, rejected, n)
	}

	// Every bad message, byte for byte, with a reason.
	got := map[string]int{}
	count := 0
	err := kafkaadmin.ReadAll(ctx, e.brokers, e.topics.DeadLetter, func(msg *kafka.Message) error {
		var d struct {
			Error         string `json:"error"`
			Payload       string `json:"payload"`
			PayloadBase64 string `json:"payload_base64"`
		}
		if err := json.Unmarshal(msg.Value, &d); err != nil {
			return fmt.Errorf("dead letter %q: %w", msg.Value, err)
		}
		if d.Error == "" {
			return fmt.Errorf("dead letter without a reason: %s", msg.Value)
		}
		payload := d.Payload
		if d.PayloadBase64 != "" {
			b, err := base64.StdEncoding.DecodeString(d.PayloadBase64)
			if err != nil {
				return err
			}
			payload = string(b)
		}
		got[payload]++
		count++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if count != n {
		t.Errorf("%d dead letters, want %d", count, n)
	}
	for payload, sent := range badSent {
		if got[payload] != sent {
			t.Fatalf("bad message %q sent %d times, %d in the dead-letter topic", payload, sent, got[payload])
		}
	}

	// Every valid message processed: the aggregates hold them all.
	wait(t, heavy(time.Minute, 5*time.Minute), "the valid pings and transactions in ClickHouse", func() bool {
		return e.queryUint("SELECT sum(pings) FROM ping_cell_minute") == uint64(validPerT[simulator.Pings]) &&
			e.queryUint("SELECT sum(txns) FROM txn_cell_minute") == uint64(validPerT[simulator.Transactions])
	})
	rss := peakRSS(t, en.cmd.Process.Pid)
	t.Logf("peak RSS %d MiB", rss>>20)
	if limit := floodRSSLimit(); rss > limit {
		t.Errorf("peak RSS %d MiB after the flood, want under %d MiB", rss>>20, limit>>20)
	}
}

// floodRSSLimit bounds the engine's peak RSS through the flood: 1 GiB,
// twice that for an engine built with the race detector (as make test
// builds it), whose shadow memory the RSS counts beside the heap. Built
// plainly the engine peaked at 337 to 370 MiB; with the race detector at
// 751 to 1,111 MiB, of which the Go runtime held about 315, so that 1 GiB
// failed now and then with nothing grown.
func floodRSSLimit() int64 {
	if raceBuild {
		return 2 << 30
	}
	return 1 << 30
}
