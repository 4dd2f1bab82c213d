package consumers

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/segmentio/kafka-go"
)

// The brokers may list partitions in any order, and members may come in
// any order: every member must still hold the same partition numbers of
// topics with the same partition count, and every partition one member.
func TestCoPartitionedKeepsSetsTogether(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	topics := map[string]int{"pings": 8, "transactions": 8, "fraud.paths": 8, "needs": 8, "match.regions": 5}
	for trial := range 200 {
		var parts []kafka.Partition
		for topic, n := range topics {
			for p := range n {
				parts = append(parts, kafka.Partition{Topic: topic, ID: p})
			}
		}
		r.Shuffle(len(parts), func(i, j int) { parts[i], parts[j] = parts[j], parts[i] })
		var members []kafka.GroupMember
		for i := range 1 + trial%5 {
			m := kafka.GroupMember{ID: fmt.Sprintf("m%d-%d", i, r.IntN(100))}
			for topic := range topics {
				m.Topics = append(m.Topics, topic)
			}
			r.Shuffle(len(m.Topics), func(i, j int) { m.Topics[i], m.Topics[j] = m.Topics[j], m.Topics[i] })
			members = append(members, m)
		}
		got := CoPartitioned{}.AssignGroups(members, parts)
		owners := map[string]int{}
		for id, byTopic := range got {
			for topic, ps := range byTopic {
				for _, p := range ps {
					owners[fmt.Sprint(topic, p)]++
				}
				if topics[topic] == 8 && !slices.Equal(ps, byTopic["pings"]) {
					t.Fatalf("trial %d: %s holds %s %v but pings %v", trial, id, topic, ps, byTopic["pings"])
				}
			}
		}
		if len(owners) != len(parts) {
			t.Fatalf("trial %d: %d of %d partitions assigned", trial, len(owners), len(parts))
		}
		for tp, n := range owners {
			if n != 1 {
				t.Fatalf("trial %d: %s assigned %d times", trial, tp, n)
			}
		}
	}
}

// kafka-go's range balancer splits a set when partitions come unordered,
// which is why CoPartitioned exists: if this fails, kafka-go orders them
// now and CoPartitioned can go.
func TestRangeBalancerSplitsUnorderedPartitions(t *testing.T) {
	members := []kafka.GroupMember{{ID: "a", Topics: []string{"x", "y"}}, {ID: "b", Topics: []string{"x", "y"}}}
	parts := []kafka.Partition{{Topic: "x", ID: 0}, {Topic: "x", ID: 1}, {Topic: "y", ID: 1}, {Topic: "y", ID: 0}}
	if got := (kafka.RangeGroupBalancer{}).AssignGroups(members, parts); slices.Equal(got["a"]["x"], got["a"]["y"]) {
		t.Errorf("kafka-go's range balancer kept the set together: %v", got)
	}
	if got := (CoPartitioned{}).AssignGroups(members, parts); !slices.Equal(got["a"]["x"], got["a"]["y"]) {
		t.Errorf("CoPartitioned split the set: %v", got)
	}
}
