package simulator

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/segmentio/kafka-go"

	"everywhere/pipeline/sink"
)

// PublishConfig says where and how fast to publish.
type PublishConfig struct {
	Brokers []string
	Topics  [NumTopics]string // full topic names, by Topic
	// Partitioner maps keys to partitions: murmur2 (the default, the Java
	// client's), crc32 or fnv1a; it must be the engine's kafka.partitioner.
	Partitioner string
	// Speed is simulated seconds per wall-clock second; 0 is as fast as
	// the broker takes it.
	Speed float64
	// Progress receives a line every two seconds; nil for none.
	Progress io.Writer
}

// Stats is what a run published.
type Stats struct {
	Messages [NumTopics]int
	Elapsed  time.Duration
	LastTS   int64
}

// Total is the number of messages published.
func (s Stats) Total() int {
	n := 0
	for _, c := range s.Messages {
		n += c
	}
	return n
}

// Stream is what Publish publishes: messages in event-time order.
type Stream interface {
	Next(*Message) bool
	// Start is the event time of the first message.
	Start() time.Time
}

// pace is the least a paced stream sleeps after a write: the messages
// due meanwhile go together, as a live producer's linger gathers them,
// rather than in a write of their own each.
const pace = 5 * time.Millisecond

// Publish runs the stream to its end (or until ctx ends), publishing
// every message to its topic keyed as the contract says. Writes wait for
// all in-sync replicas.
//
// It writes with the engine's sink.Producer, one request per topic and
// leader, rather than a kafka.Writer: the Writer allocates room for a
// whole batch (BatchSize messages) for every partition a write touches,
// and a paced stream writes a few messages at a time: at 20,000 events a
// second that took a fifth of the load generator's CPU, on the cores the
// engine under measurement shares, and at 60,000 it fell behind its
// schedule.
func Publish(ctx context.Context, s Stream, c PublishConfig) (Stats, error) {
	var writers [NumTopics]*sink.Producer
	for t := range NumTopics {
		writers[t] = sink.NewProducer(sink.ProducerConfig{Brokers: c.Brokers, Topic: c.Topics[t], Partitioner: c.Partitioner})
	}
	defer func() {
		for _, w := range writers {
			w.Close()
		}
	}()
	var (
		st       Stats
		batches  [NumTopics][]kafka.Message
		m        Message
		start    = time.Now()
		simStart = s.Start().UnixMilli()
		lastLog  = start
		lastN    int
	)
	flush := func() error {
		for t := range NumTopics {
			if len(batches[t]) == 0 {
				continue
			}
			if err := writers[t].WriteMessages(ctx, batches[t]...); err != nil {
				return fmt.Errorf("publish to %s: %w", c.Topics[t], err)
			}
			st.Messages[t] += len(batches[t])
			batches[t] = batches[t][:0]
		}
		return nil
	}
	pending := 0
	for s.Next(&m) {
		if ctx.Err() != nil {
			break
		}
		batches[m.Topic] = append(batches[m.Topic], kafka.Message{Key: []byte(m.Key), Value: m.Value})
		pending++
		st.LastTS = m.TS
		if c.Speed > 0 {
			due := start.Add(time.Duration(float64(m.TS-simStart) / c.Speed * float64(time.Millisecond)))
			if wait := time.Until(due); wait > 0 {
				if err := flush(); err != nil {
					return st, err
				}
				pending = 0
				select {
				case <-time.After(max(wait, pace)):
				case <-ctx.Done():
				}
			}
		}
		// Small flushes keep the topics close together in event time, as
		// live producers are.
		if pending >= 2_000 {
			if err := flush(); err != nil {
				return st, err
			}
			pending = 0
		}
		if c.Progress != nil && time.Since(lastLog) >= 2*time.Second {
			n := st.Total()
			fmt.Fprintf(c.Progress, "simulate: %d events, %.0f events/s, event time %s\n",
				n, float64(n-lastN)/time.Since(lastLog).Seconds(), time.UnixMilli(m.TS).In(s.Start().Location()).Format("2006-01-02 15:04"))
			lastLog, lastN = time.Now(), n
		}
	}
	if err := flush(); err != nil {
		return st, err
	}
	st.Elapsed = time.Since(start)
	if c.Progress != nil {
		fmt.Fprintf(c.Progress, "simulate: done, %d events in %s (%.0f events/s)\n", st.Total(), st.Elapsed.Round(time.Millisecond), float64(st.Total())/st.Elapsed.Seconds())
	}
	return st, ctx.Err()
}
