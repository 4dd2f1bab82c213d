package detect

import (
	"unsafe"

	"github.com/segmentio/kafka-go"

	"everywhere/consumers"
)

// Preload brings in the detector's state of the users the messages are
// keyed by, as the contract keys pings, profiles and transactions (see
// fraud.Detector.Preload), and returns their numbers, -1 where not
// found: valid until the next call. A message keyed otherwise only
// misses.
func (p *Partition) Preload(msgs []kafka.Message) []int32 {
	p.keys = p.keys[:0]
	for i := range msgs {
		if k := msgs[i].Key; len(k) > 0 {
			p.keys = append(p.keys, unsafe.String(&k[0], len(k)))
		}
	}
	nums := p.d.Preload(p.keys)
	clear(p.keys) // no message outlives its chunk by a reference
	return nums
}

// Preload preloads the transactions' users.
func (h Sealing) Preload(msgs []kafka.Message) { _ = h.P.Preload(msgs) }

// Preloading is a handler of a topic keyed by user, such as pings, whose
// users' state the partition's detector reads as each is handled: it
// preloads them.
type Preloading struct {
	consumers.Handler
	P *Partition
	// Then, when set, gets the users' numbers from the detector's
	// preload, to bring in what another keeper holds by number.
	Then func(nums []int32)
}

// Preload preloads the messages' users.
func (h Preloading) Preload(msgs []kafka.Message) {
	nums := h.P.Preload(msgs)
	if h.Then != nil {
		h.Then(nums)
	}
}
