package route

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"everywhere/pipeline/ack"
	"everywhere/pipeline/batcher"
	"everywhere/pipeline/sink"
)

// Emitter writes one source's records to the regions topic. It gathers
// them and hands them to the sink in one chunk every interval, at each
// seal, when the source goes idle and when the chunk reaches packBytes,
// so the cost of a hand-off is paid per batch and not per event. With
// each chunk it tells the partitions it sent nothing to how far the
// source has got (a watermark record): the matcher of a partition waits
// for every source, and must not wait for one that simply has nothing
// for it. When the source is idle it says so, and a partition does not
// wait for it until told otherwise (see tell).
type Emitter struct {
	ctx      context.Context
	src      int
	sink     *batcher.Batcher[*sink.Pack]
	interval time.Duration
	wake     bool // whether a source busy again tells the partitions told it was idle

	wm     int64
	sent   []int64    // per partition, the watermark it last heard
	idle   []bool     // per partition, whether it was told the source is idle
	pack   *sink.Pack // the records pending
	last   time.Time
	fresh  time.Time // when the partitions told idle last heard the watermark
	cur    *ack.Ticket
	err    error
	routed prometheus.Counter // data records handed over (watermarks aside)
}

// packBytes is how much a chunk gathers before it is handed over, the
// interval not yet up. A source catching up routes thousands of records
// in one interval (an outcome partition is read whole in milliseconds,
// and each outcome goes to every partition): a chunk of megabytes grew by
// copy after copy, each a large allocation zeroed first, and took its
// size back to the pool of packs.
const packBytes = 64 << 10

// NewEmitter returns the emitter of source src for a regions topic of
// partitions partitions; routed counts the records it hands over, once per
// chunk. With wake, a source busy again after it was idle tells every
// partition so, and they wait for it again (engine.idle_after above 0: the
// same lists matter more than their latency); without, only those it sends
// records to.
func NewEmitter(ctx context.Context, src, partitions int, out *batcher.Batcher[*sink.Pack], interval time.Duration, wake bool, routed prometheus.Counter) *Emitter {
	return &Emitter{ctx: ctx, src: src, sink: out, interval: interval, wake: wake, routed: routed,
		sent: make([]int64, partitions), idle: make([]bool, partitions), pack: sink.NewPack()}
}

// Observe moves the source's watermark to event time ts under the open
// run's ticket, and hands over what is pending when the interval is up.
func (e *Emitter) Observe(ts int64, t *ack.Ticket) {
	e.cur = t
	e.wm = max(e.wm, ts)
	if t.Replay {
		return // the watermark was told when the event was first read
	}
	// time.Since reads only the monotonic clock, half the cost of
	// time.Now, which reads the wall clock too: this runs for every
	// event routed.
	if time.Since(e.last) >= e.interval {
		e.flush(t, time.Now(), true, false)
	}
}

// Send hands over what is pending at once, without watermarks: a need must
// not wait for the interval, the regions are waiting for it.
func (e *Emitter) Send(t *ack.Ticket) { e.flush(t, e.last, false, false) }

// WM is the source's watermark.
func (e *Emitter) WM() int64 { return e.wm }

// begin starts a record for partition p: the key is copied in, and the
// caller appends the value to e.pack.Buf and calls end.
func (e *Emitter) begin(p int, key string) { e.pack.Begin(p, key) }

func (e *Emitter) end() {
	if e.cur != nil && e.cur.Replay {
		// Rebuilding the routers' state: the record was sent when its
		// event was first read.
		e.pack.Drop()
		return
	}
	p := e.pack.End()
	e.sent[p] = e.wm
	e.idle[p] = false
	if e.cur != nil && len(e.pack.Buf) >= packBytes {
		e.flush(e.cur, e.last, false, false)
	}
}

// everyPartition sends record rec, keyed by key, to every partition: what
// any region may need (outcomes, large transfers) is encoded once and
// copied.
func (e *Emitter) everyPartition(key string, rec []byte) {
	for p := range e.sent {
		e.begin(p, key)
		e.pack.Buf = append(e.pack.Buf, rec...)
		e.end()
	}
}

// Seal hands over everything pending under the run's ticket t and returns
// the first hand-off that failed since the last seal: that run must not be
// committed.
func (e *Emitter) Seal(t *ack.Ticket) error {
	e.flush(t, time.Now(), true, false)
	err := e.err
	e.err = nil
	return err
}

// Idle tells the partitions not told yet that the source has caught up,
// and those told its watermark at most every idleRefresh.
func (e *Emitter) Idle(t *ack.Ticket) { e.flush(t, time.Now(), true, true) }

// tell reports whether partition p is to hear the watermark in a flush
// that says the source is idle, or not. A partition told the source is
// idle stays so until a record goes to it, unless the emitter wakes idle
// partitions: at idle_after 0 a source is busy again at its next fetch,
// and a watermark saying so would only make the partition wait for
// records that may not come its way (see the README on event-time order).
func (e *Emitter) tell(p int, idle, refresh bool) bool {
	switch {
	case e.sent[p] == e.wm:
		return idle && !e.idle[p] // nothing new but that the source is idle
	case !e.idle[p]:
		return true
	case idle:
		return refresh
	default:
		return e.wake
	}
}

// idleRefresh is how often a partition told the source is idle hears its
// watermark again while nothing else goes to it. Its matcher does not
// wait for an idle source, so the watermark only moves the partition's
// clock (needs expiring, helpers going stale) when every source is idle:
// a tenth of a second is fine for that. Live, a source is idle after
// nearly every fetch, and telling every partition each time was a large
// part of the regions topic's records.
const idleRefresh = 100 * time.Millisecond

func (e *Emitter) flush(t *ack.Ticket, now time.Time, watermarks, idle bool) {
	if t.Replay {
		return
	}
	e.cur = t // a live run's ticket: the records below are sent
	e.last = now
	refresh := idle && now.Sub(e.fresh) >= idleRefresh
	if refresh {
		e.fresh = now
	}
	for p := range e.sent {
		if watermarks && e.tell(p, idle, refresh) {
			e.begin(p, "")
			e.pack.Buf = AppendWatermark(e.pack.Buf, e.src, e.wm, idle)
			e.end()
			e.idle[p] = idle
		}
	}
	if e.pack.Len() == 0 {
		return
	}
	pk := e.pack
	e.pack = sink.NewPack()           // the chunk owns the old one now
	e.routed.Add(float64(pk.Keyed())) // data records: only watermarks have no key
	if err := e.sink.Add(e.ctx, batcher.Chunk[*sink.Pack]{Data: pk, Rows: pk.Len(), Ticket: t}); err != nil && e.err == nil {
		e.err = err
	}
}
