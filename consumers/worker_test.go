package consumers

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"everywhere/pipeline/ack"
)

// feed is an input of a worker whose fetch has already delivered msgs:
// messages at the offsets given, with the event times given, in chunks
// of up to three, and nothing after them.
func feed(topic string, replayTo int64, offsets, times []int64) *input {
	in := &input{topic: topic, replayTo: replayTo, ch: make(chan []kafka.Message, len(offsets))}
	var chunk []kafka.Message
	for i, off := range offsets {
		chunk = append(chunk, kafka.Message{Topic: topic, Offset: off, Value: fmt.Appendf(nil, `{"ts":%d}`, times[i])})
		if len(chunk) == 3 || i == len(offsets)-1 {
			in.ch <- chunk
			chunk = nil
		}
	}
	close(in.ch)
	return in
}

func testWorker(inputs ...*input) *worker {
	return &worker{g: &Group{cfg: Config{MaxWait: 10 * time.Millisecond}}, inputs: inputs,
		wake: make(chan struct{}, 1), timer: time.NewTimer(time.Hour)}
}

// order is what next hands over until it has nothing, as topic:offset.
func order(ctx context.Context, w *worker) []string {
	var got []string
	t := ack.New(0)
	for {
		in := w.next(ctx, time.Now().Add(50*time.Millisecond), t)
		if in == nil {
			return got
		}
		in.has = false
		got = append(got, fmt.Sprintf("%s:%d", in.topic, in.head.Offset))
	}
}

// A replay must hand over every message read again before any new one,
// even one earlier in event time: the last owner handled them all first.
// Here the money paths were committed up to offset 1 and the transactions
// up to offset 3; path 1 is new, and comes between the transactions in
// event time. Handed over amid the replay, a path that closes a ring with
// transaction 2 would have the ring found while transaction 2 is replayed,
// and its alerts suppressed.
func TestReplayHandsOverEverythingReadAgainFirst(t *testing.T) {
	txns := feed("transactions", 3, []int64{0, 1, 2, 3}, []int64{10, 20, 30, 40})
	paths := feed("paths", 1, []int64{0, 1}, []int64{5, 15})
	got := order(context.Background(), testWorker(txns, paths))
	want := []string{"paths:0", "transactions:0", "transactions:1", "transactions:2", "paths:1", "transactions:3"}
	if !slices.Equal(got, want) {
		t.Fatalf("handed over %v, want %v", got, want)
	}
}

// Without a replay the order is event time.
func TestNextHandsOverInEventTimeOrder(t *testing.T) {
	txns := feed("transactions", 0, []int64{7, 8, 9}, []int64{10, 20, 30})
	paths := feed("paths", 0, []int64{4, 5}, []int64{5, 25})
	got := order(context.Background(), testWorker(txns, paths))
	want := []string{"paths:4", "transactions:7", "transactions:8", "paths:5", "transactions:9"}
	if !slices.Equal(got, want) {
		t.Fatalf("handed over %v, want %v", got, want)
	}
}

// Once the generation has ended nothing is handed over, though the inputs
// still hold messages: an input whose fetch stopped first would be gone
// past in event time, and the next owner reads them all again anyway.
func TestNextHandsNothingOverOnceTheGenerationEnds(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	txns := feed("transactions", 0, []int64{0, 1}, []int64{10, 20})
	if got := order(ctx, testWorker(txns)); len(got) != 0 {
		t.Fatalf("handed over %v after the generation ended", got)
	}
}

// idler counts the times it is told the worker is idle.
type idler struct{ told int }

func (h *idler) Handle(*kafka.Message, *ack.Ticket) error       { return nil }
func (h *idler) Seal(context.Context, *ack.Ticket, int64) error { return nil }
func (h *idler) Idle(*ack.Ticket)                               { h.told++ }

// A worker waits for an input that has caught up until IdleAfter after
// its last message: a message of another input later in event time is
// not handed over meanwhile, and the worker says it is idle only once
// every input has been silent that long.
func TestCaughtUpInputsAreWaitedForIdleAfter(t *testing.T) {
	for _, after := range []time.Duration{0, 300 * time.Millisecond} {
		h := &idler{}
		pings := &input{topic: "pings", ch: make(chan []kafka.Message, 4), r: &reader{}, h: h}
		txns := &input{topic: "transactions", ch: make(chan []kafka.Message, 4), r: &reader{}, h: &idler{}}
		w := testWorker(pings, txns)
		w.g.cfg.IdleAfter = after
		tk := ack.New(0)
		step := func() *input { return w.next(context.Background(), time.Now().Add(20*time.Millisecond), tk) }
		send := func(in *input, off, ts int64) {
			in.ch <- []kafka.Message{{Topic: in.topic, Offset: off, Value: fmt.Appendf(nil, `{"ts":%d}`, ts)}}
		}

		sent := time.Now()
		send(txns, 0, 10)
		if got := step(); got != txns {
			t.Fatalf("idle after %v: the transaction was not handed over", after)
		}
		w.handle(txns, tk)
		send(pings, 0, 30)
		got := step()
		if after == 0 && got != pings {
			t.Fatal("idle after 0: the ping was not handed over at once")
		}
		if after > 0 {
			// The transactions are waited for: the one at 20 arrives
			// in time and goes first.
			if got != nil {
				t.Fatalf("idle after %v: %s handed over while the transactions were still waited for", after, got.topic)
			}
			send(txns, 1, 20)
			if got = step(); got != txns {
				t.Fatalf("idle after %v: the late transaction did not go first", after)
			}
			w.handle(txns, tk)
			for got = step(); got == nil && time.Since(sent) < 10*time.Second; got = step() {
			}
			if got != pings || time.Since(sent) < after {
				t.Fatalf("idle after %v: the ping came %v after the first message", after, time.Since(sent))
			}
		}
		w.handle(pings, tk)
		for h.told == 0 && time.Since(sent) < 10*time.Second {
			if step() != nil {
				t.Fatalf("idle after %v: handed over a message never sent", after)
			}
		}
		if h.told != 1 || time.Since(sent) < after {
			t.Fatalf("idle after %v: told idle %d times, %v after the first message", after, h.told, time.Since(sent))
		}
	}
}

// A worker that handed messages over without a break for Config.Backlog
// and then catches up hands nothing more over and asks for its run to be
// sealed and hurried at once, telling its handlers it is idle; one that
// catches up sooner waits for the run's deadline as before, and so does
// one already idle.
func TestCatchingUpAfterABacklogHurries(t *testing.T) {
	const backlog = 50 * time.Millisecond
	for _, busy := range []time.Duration{0, 2 * backlog} {
		h := &idler{}
		in := &input{topic: "pings", ch: make(chan []kafka.Message, 4), r: &reader{}, h: h}
		w := testWorker(in)
		w.g.cfg.Backlog = backlog
		tk := ack.New(0)
		send := func(off int64) {
			in.ch <- []kafka.Message{{Topic: in.topic, Offset: off, Value: fmt.Appendf(nil, `{"ts":%d}`, off)}}
		}
		send(0)
		if got := w.next(context.Background(), time.Now().Add(time.Second), tk); got != in {
			t.Fatalf("busy %v: the first message was not handed over", busy)
		}
		w.handle(in, tk)
		time.Sleep(busy) // handling it, while the next one arrives
		send(1)
		if got := w.next(context.Background(), time.Now().Add(time.Second), tk); got != in {
			t.Fatalf("busy %v: the second message was not handed over", busy)
		}
		w.handle(in, tk)
		const deadline = 300 * time.Millisecond
		start := time.Now()
		if got := w.next(context.Background(), start.Add(deadline), tk); got != nil {
			t.Fatalf("busy %v: handed over a message never sent", busy)
		}
		waited := time.Since(start)
		if h.told != 1 {
			t.Fatalf("busy %v: told idle %d times", busy, h.told)
		}
		if hurried := busy >= backlog; w.hurry != hurried || hurried && waited >= deadline || !hurried && waited < deadline {
			t.Fatalf("busy %v: hurry %v after waiting %v for a deadline %v away", busy, w.hurry, waited, deadline)
		}
		w.hurry = false // the run loop's part
		start = time.Now()
		if got := w.next(context.Background(), start.Add(deadline/3), tk); got != nil || w.hurry || time.Since(start) < deadline/3 {
			t.Fatalf("busy %v: idle already, the worker hurried again or did not wait", busy)
		}
		// A message after a long silence is no backlog: the busy time
		// counts from it.
		time.Sleep(2 * backlog)
		send(2)
		if got := w.next(context.Background(), time.Now().Add(time.Second), tk); got != in {
			t.Fatalf("busy %v: the message after the silence was not handed over", busy)
		}
		w.handle(in, tk)
		if got := w.next(context.Background(), time.Now().Add(deadline/3), tk); got != nil || w.hurry {
			t.Fatalf("busy %v: hurried after one message that followed a silence", busy)
		}
	}
}

// A worker seals up to Config.PendingRuns runs whose writes are not done
// yet and goes on reading; the next seal waits for the oldest to be
// committed. The default is eight.
func TestSealQueuesPendingRunsThenWaits(t *testing.T) {
	for _, c := range []struct{ pending, want int }{{0, 8}, {3, 3}, {30, 30}} {
		w := testWorker(&input{topic: "pings", h: &idler{}, last: -1, sealed: -1})
		w.g.cfg.PendingRuns = c.pending
		w.commits = make(chan commit, w.g.cfg.pendingRuns())
		seal := func(wait time.Duration) bool {
			w.inputs[0].last++
			ctx, cancel := context.WithTimeout(context.Background(), wait)
			defer cancel()
			return w.seal(ctx, ack.New(0), slog.Default())
		}
		for i := range c.want {
			if !seal(time.Second) {
				t.Fatalf("PendingRuns %d: seal %d of %d waited", c.pending, i+1, c.want)
			}
		}
		if seal(50 * time.Millisecond) {
			t.Fatalf("PendingRuns %d: seal %d did not wait for a commit", c.pending, c.want+1)
		}
	}
}

// The time a worker spends on what it handed over counts as busy, and
// the time it waits for messages does not.
func TestBusyCountsHandlingNotWaiting(t *testing.T) {
	in := feed("pings", 0, []int64{0}, []int64{1})
	w := testWorker(in)
	tk := ack.New(0)
	if got := w.next(context.Background(), time.Now().Add(time.Second), tk); got != in {
		t.Fatal("the message at hand was not handed over")
	}
	in.has = false
	const handling, waiting = 30 * time.Millisecond, 300 * time.Millisecond
	time.Sleep(handling) // the handler at work
	if got := w.next(context.Background(), time.Now().Add(waiting), tk); got != nil {
		t.Fatal("handed over a message there is none of")
	}
	w.next(context.Background(), time.Now(), tk) // the seal took no time
	if busy := time.Duration(w.busy * float64(time.Second)); busy < handling || busy > handling+waiting*2/3 {
		t.Fatalf("busy %v after handling for %v and waiting %v", busy, handling, waiting)
	}
}

// preloader records what it is handed to preload, and checks that each
// message it handles was preloaded first.
type preloader struct {
	t         *testing.T
	preloaded map[int64]int
	groups    []int
}

func (h *preloader) Preload(msgs []kafka.Message) {
	h.groups = append(h.groups, len(msgs))
	for _, m := range msgs {
		h.preloaded[m.Offset]++
	}
}

func (h *preloader) Handle(m *kafka.Message, _ *ack.Ticket) error {
	if h.preloaded[m.Offset] != 1 {
		h.t.Fatalf("offset %d handled after %d preloads", m.Offset, h.preloaded[m.Offset])
	}
	return nil
}
func (h *preloader) Seal(context.Context, *ack.Ticket, int64) error { return nil }

// A Preloader is handed every message once, in groups of up to
// preloadGroup within a chunk, before the messages are handled.
func TestPreloaderSeesEachMessageBeforeItsHandle(t *testing.T) {
	h := &preloader{t: t, preloaded: map[int64]int{}}
	in := &input{topic: "pings", ch: make(chan []kafka.Message, 4), h: h}
	off := int64(0)
	for _, n := range []int{preloadGroup*2 + 5, 3, preloadGroup} {
		var chunk []kafka.Message
		for range n {
			chunk = append(chunk, kafka.Message{Offset: off, Value: fmt.Appendf(nil, `{"ts":%d}`, off)})
			off++
		}
		in.ch <- chunk
	}
	close(in.ch)
	w := testWorker(in)
	tk := ack.New(0)
	for {
		got := w.next(context.Background(), time.Now().Add(50*time.Millisecond), tk)
		if got == nil {
			break
		}
		w.handle(got, tk)
	}
	if len(h.preloaded) != int(off) {
		t.Fatalf("%d of %d messages preloaded", len(h.preloaded), off)
	}
	want := []int{preloadGroup, preloadGroup, 5, 3, preloadGroup}
	if !slices.Equal(h.groups, want) {
		t.Fatalf("preloaded in groups of %v, want %v", h.groups, want)
	}
}

// A pass of next right after a message was handled goes by the last
// reading of the clock, up to clockReuse in a row; a later pass, or one
// after anything else, reads it again, and the time between readings
// counts as busy unless the worker waited.
func TestWorkerReadsTheClockOncePerHandOversInARow(t *testing.T) {
	w := testWorker()
	first, stale := w.tick(true)
	if stale {
		t.Fatal("the first reading was a reused one")
	}
	for i := range clockReuse {
		w.handled = true
		if now, stale := w.tick(true); !stale || now != first {
			t.Fatalf("hand-over %d after a reading read the clock again", i+1)
		}
	}
	w.handled = true
	time.Sleep(5 * time.Millisecond)
	if now, stale := w.tick(true); stale || now.Sub(first) < 5*time.Millisecond {
		t.Fatalf("hand-over %d after a reading went by it", clockReuse+1)
	}
	if w.busy < 0.005 {
		t.Fatalf("busy %vs after 5 ms of handling", w.busy)
	}
	if _, stale := w.tick(true); stale {
		t.Fatal("a pass after no handling went by the last reading")
	}
	w.handled = true
	if _, stale := w.tick(false); stale {
		t.Fatal("a pass after a wait went by the last reading")
	}
	busy := w.busy
	w.waited = true
	time.Sleep(5 * time.Millisecond)
	if w.tick(false); w.busy != busy {
		t.Fatalf("waiting counted as busy: %vs, then %vs", busy, w.busy)
	}
}
