// Package kafkaadmin answers questions about topics and groups: how many
// messages a topic holds and how far a group is behind. The report, the
// tests and the lag metric use it; it speaks only the Kafka protocol.
package kafkaadmin

import (
	"context"
	"fmt"
	"time"

	"github.com/segmentio/kafka-go"
)

func client(brokers []string) *kafka.Client {
	return &kafka.Client{Addr: kafka.TCP(brokers...), Timeout: 10 * time.Second}
}

// Partitions lists the partition ids of a topic.
func Partitions(ctx context.Context, brokers []string, topic string) ([]int, error) {
	md, err := client(brokers).Metadata(ctx, &kafka.MetadataRequest{Topics: []string{topic}})
	if err != nil {
		return nil, fmt.Errorf("metadata of %s: %w", topic, err)
	}
	for _, t := range md.Topics {
		if t.Name != topic {
			continue
		}
		if t.Error != nil {
			return nil, fmt.Errorf("metadata of %s: %w", topic, t.Error)
		}
		ids := make([]int, len(t.Partitions))
		for i, p := range t.Partitions {
			ids[i] = p.ID
		}
		return ids, nil
	}
	return nil, fmt.Errorf("topic %s not found", topic)
}

// Ends returns the first and next (end) offset of every partition.
func Ends(ctx context.Context, brokers []string, topic string) (first, end map[int]int64, err error) {
	ids, err := Partitions(ctx, brokers, topic)
	if err != nil {
		return nil, nil, err
	}
	reqs := make([]kafka.OffsetRequest, 0, 2*len(ids))
	for _, id := range ids {
		reqs = append(reqs, kafka.FirstOffsetOf(id), kafka.LastOffsetOf(id))
	}
	res, err := client(brokers).ListOffsets(ctx, &kafka.ListOffsetsRequest{Topics: map[string][]kafka.OffsetRequest{topic: reqs}})
	if err != nil {
		return nil, nil, fmt.Errorf("offsets of %s: %w", topic, err)
	}
	first, end = map[int]int64{}, map[int]int64{}
	for _, p := range res.Topics[topic] {
		if p.Error != nil {
			return nil, nil, fmt.Errorf("offsets of %s partition %d: %w", topic, p.Partition, p.Error)
		}
		first[p.Partition], end[p.Partition] = p.FirstOffset, p.LastOffset
	}
	return first, end, nil
}

// Messages is the number of messages a topic holds.
func Messages(ctx context.Context, brokers []string, topic string) (int64, error) {
	first, end, err := Ends(ctx, brokers, topic)
	if err != nil {
		return 0, err
	}
	var n int64
	for p, e := range end {
		n += e - first[p]
	}
	return n, nil
}

// GroupLag is how many messages of topics the group has not committed.
func GroupLag(ctx context.Context, brokers []string, group string, topics []string) (int64, error) {
	committed, ends, err := groupOffsets(ctx, brokers, group, topics)
	if err != nil {
		return 0, err
	}
	var lag int64
	for t, end := range ends {
		for p, e := range end {
			lag += e - committed[t][p]
		}
	}
	return lag, nil
}

// Committed is the sum over topics and partitions of the group's committed
// offsets: it moves only when the group commits.
func Committed(ctx context.Context, brokers []string, group string, topics []string) (int64, error) {
	committed, _, err := groupOffsets(ctx, brokers, group, topics)
	var sum int64
	for _, parts := range committed {
		for _, c := range parts {
			sum += c
		}
	}
	return sum, err
}

// groupOffsets returns the group's committed offsets and the partitions'
// ends. A partition the group never committed counts from its first offset.
func groupOffsets(ctx context.Context, brokers []string, group string, topics []string) (committed, ends map[string]map[int]int64, err error) {
	c := client(brokers)
	req := &kafka.OffsetFetchRequest{GroupID: group, Topics: map[string][]int{}}
	ends = map[string]map[int]int64{}
	firsts := map[string]map[int]int64{}
	for _, t := range topics {
		first, end, err := Ends(ctx, brokers, t)
		if err != nil {
			return nil, nil, err
		}
		ends[t], firsts[t] = end, first
		for p := range end {
			req.Topics[t] = append(req.Topics[t], p)
		}
	}
	res, err := c.OffsetFetch(ctx, req)
	if err != nil {
		return nil, nil, fmt.Errorf("committed offsets of %s: %w", group, err)
	}
	committed = map[string]map[int]int64{}
	for t, end := range ends {
		committed[t] = map[int]int64{}
		for p := range end {
			committed[t][p] = firsts[t][p]
		}
	}
	for t, parts := range res.Topics {
		for _, p := range parts {
			if p.CommittedOffset >= 0 && committed[t] != nil {
				committed[t][p.Partition] = p.CommittedOffset
			}
		}
	}
	return committed, ends, nil
}

// ReadAll calls fn with every message of topic that exists now, partition
// by partition, in offset order, and returns when every partition has been
// read to the end it had when ReadAll started.
func ReadAll(ctx context.Context, brokers []string, topic string, fn func(m *kafka.Message) error) error {
	first, end, err := Ends(ctx, brokers, topic)
	if err != nil {
		return err
	}
	for p, e := range end {
		if e <= first[p] {
			continue
		}
		// 1 MiB a fetch, Kafka's own default per partition. With 10 MiB
		// the dev broker built ten-megabyte responses, and under the race
		// detector it spent minutes on each: TestBadInputFlood hung here
		// reading its 100,000 dead letters.
		r := kafka.NewReader(kafka.ReaderConfig{Brokers: brokers, Topic: topic, Partition: p, MaxBytes: 1 << 20, MaxWait: 250 * time.Millisecond})
		if err := r.SetOffset(first[p]); err != nil {
			r.Close()
			return err
		}
		for {
			m, err := r.FetchMessage(ctx)
			if err != nil {
				r.Close()
				return fmt.Errorf("read %s partition %d: %w", topic, p, err)
			}
			if err := fn(&m); err != nil {
				r.Close()
				return err
			}
			if m.Offset+1 >= e {
				break
			}
		}
		r.Close()
	}
	return nil
}
