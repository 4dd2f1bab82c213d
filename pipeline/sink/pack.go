package sink

import (
	"context"
	"sync"

	"github.com/segmentio/kafka-go"
)

// Pack is a chunk of Kafka messages made one after another, their keys
// and values back to back in one buffer. The regions routers and the
// matchers hand over hundreds of small chunks a second, each costing two
// allocations when made afresh; packs come from a pool and go back to it
// once written (ProducePacks), so a steady stream of them allocates
// nothing.
type Pack struct {
	// Buf holds the keys and values; the value of the message begun last
	// is appended to it.
	Buf  []byte
	at   []packed
	msgs []kafka.Message
}

// packed is where one message lies in Buf.
type packed struct{ partition, key, value, end int }

var packs = sync.Pool{New: func() any { return new(Pack) }}

// NewPack returns an empty pack.
func NewPack() *Pack { return packs.Get().(*Pack) }

// Release empties p and returns it to the pool: neither p nor its
// messages may be used after.
func (p *Pack) Release() {
	clear(p.msgs) // no message outlives the pack by a reference
	p.Buf, p.at, p.msgs = p.Buf[:0], p.at[:0], p.msgs[:0]
	packs.Put(p)
}

// Begin starts a message to partition with key, none when empty: the
// caller appends its value to Buf, then calls End or Drop.
func (p *Pack) Begin(partition int, key string) {
	k := len(p.Buf)
	p.Buf = append(p.Buf, key...)
	p.at = append(p.at, packed{partition: partition, key: k, value: len(p.Buf)})
}

// End closes the message begun last and returns its partition.
func (p *Pack) End() int {
	last := &p.at[len(p.at)-1]
	last.end = len(p.Buf)
	return last.partition
}

// Drop takes back the message begun last.
func (p *Pack) Drop() {
	last := p.at[len(p.at)-1]
	p.Buf = p.Buf[:last.key]
	p.at = p.at[:len(p.at)-1]
}

// Len is the number of messages.
func (p *Pack) Len() int { return len(p.at) }

// Keyed is the number of messages with a key.
func (p *Pack) Keyed() int {
	n := 0
	for _, a := range p.at {
		if a.value > a.key {
			n++
		}
	}
	return n
}

// Messages returns the messages, valid until the pack is released.
func (p *Pack) Messages() []kafka.Message {
	p.msgs = p.msgs[:0]
	for _, a := range p.at {
		m := kafka.Message{Partition: a.partition, Value: p.Buf[a.value:a.end:a.end]}
		if a.value > a.key {
			m.Key = p.Buf[a.key:a.value:a.value]
		}
		p.msgs = append(p.msgs, m)
	}
	return p.msgs
}

// ProducePacks returns a write function that publishes the messages of a
// batch of packs in one synchronous call, and releases the packs once
// they are written. A failed write keeps them: the batcher tries the same
// batch again.
func ProducePacks(w *Producer) func(ctx context.Context, batch []*Pack) error {
	var msgs []kafka.Message
	return func(ctx context.Context, batch []*Pack) error {
		msgs = msgs[:0]
		for _, p := range batch {
			msgs = append(msgs, p.Messages()...)
		}
		if len(msgs) > 0 {
			if err := w.WriteMessages(ctx, msgs...); err != nil {
				return err
			}
		}
		clear(msgs)
		for _, p := range batch {
			p.Release()
		}
		return nil
	}
}
