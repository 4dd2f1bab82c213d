package consumers

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
)

// TestCommitterFoldsConcurrentCommits commits from sixteen goroutines at
// once, as a catch-up's workers do, and reads back what the group
// coordinator holds: each partition's last offset, in fewer requests than
// there were commits.
func TestCommitterFoldsConcurrentCommits(t *testing.T) {
	const parts, rounds = 16, 40
	addr := testBroker(t, parts, "t")
	cg, err := kafka.NewConsumerGroup(kafka.ConsumerGroupConfig{ID: "g", Brokers: []string{addr}, Topics: []string{"t"}})
	if err != nil {
		t.Fatal(err)
	}
	defer cg.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	gen, err := cg.Next(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(gen.Assignments["t"]); n != parts {
		t.Fatalf("assigned %d partitions, want %d", n, parts)
	}

	c := newCommitter()
	var wg sync.WaitGroup
	for p := range parts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			answer := make(chan error, 1)
			for i := 1; i <= rounds; i++ {
				if err := c.commit(gen, map[string]map[int]int64{"t": {p: int64(100*p + i)}}, answer); err != nil {
					t.Errorf("partition %d, commit %d: %v", p, i, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(c.stop)
	if err := c.commit(gen, map[string]map[int]int64{"t": {0: 1}}, make(chan error, 1)); !errors.Is(err, errStopped) {
		t.Fatalf("a commit after the stop: %v, want errStopped", err)
	}
	if c.requests >= parts*rounds {
		t.Errorf("%d requests for %d commits asked at once: none was folded", c.requests, parts*rounds)
	}
	t.Logf("%d requests for %d commits", c.requests, parts*rounds)

	asked := make([]int, parts)
	for p := range asked {
		asked[p] = p
	}
	got, err := (&kafka.Client{Addr: kafka.TCP(addr)}).OffsetFetch(ctx, &kafka.OffsetFetchRequest{GroupID: "g", Topics: map[string][]int{"t": asked}})
	if err != nil {
		t.Fatal(err)
	}
	for _, po := range got.Topics["t"] {
		if want := int64(100*po.Partition + rounds); po.CommittedOffset != want || po.Error != nil {
			t.Errorf("partition %d: committed %d (%v), want %d", po.Partition, po.CommittedOffset, po.Error, want)
		}
	}
	if len(got.Topics["t"]) != parts {
		t.Errorf("offsets of %d partitions, want %d", len(got.Topics["t"]), parts)
	}
}
