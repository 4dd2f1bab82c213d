package consumers

import (
	"slices"

	"github.com/segmentio/kafka-go"
)

// CoPartitioned assigns partitions by range, as Kafka's range assignor
// does: the members of each topic in id order take runs of its partitions
// in number order. Members then hold the same partition numbers of every
// topic with the same partition count, which a co-partitioned set needs.
// kafka-go's RangeGroupBalancer takes partitions in the order the broker
// lists them, which the protocol leaves open (the dev broker lists them
// in any order), and so can split a set between members for as long as
// the generation lasts.
type CoPartitioned struct{}

// ProtocolName is the range assignor's: the assignment is the same.
func (CoPartitioned) ProtocolName() string { return "range" }

// UserData is empty: the assignment needs nothing from the members.
func (CoPartitioned) UserData() ([]byte, error) { return nil, nil }

// AssignGroups assigns every partition of every subscribed topic once.
func (CoPartitioned) AssignGroups(members []kafka.GroupMember, partitions []kafka.Partition) kafka.GroupMemberAssignments {
	parts := map[string][]int{}
	for _, p := range partitions {
		parts[p.Topic] = append(parts[p.Topic], p.ID)
	}
	subscribers := map[string][]string{}
	out := kafka.GroupMemberAssignments{}
	for _, m := range members {
		out[m.ID] = map[string][]int{}
		for _, topic := range m.Topics {
			subscribers[topic] = append(subscribers[topic], m.ID)
		}
	}
	for topic, ids := range subscribers {
		slices.Sort(ids)
		ps := parts[topic]
		slices.Sort(ps)
		for i, id := range ids {
			if run := ps[i*len(ps)/len(ids) : (i+1)*len(ps)/len(ids)]; len(run) > 0 {
				out[id][topic] = slices.Clone(run)
			}
		}
	}
	return out
}
