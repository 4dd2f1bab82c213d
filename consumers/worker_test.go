package consumers

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"everywhere/pipeline/ack"
)

// feed is an input of a worker whose fetch has already delivered msgs:
// messages at the offsets given, with the event times given, and nothing
// after them.
func feed(topic string, replayTo int64, offsets, times []int64) *input {
	in := &input{topic: topic, replayTo: replayTo, ch: make(chan kafka.Message, len(offsets))}
	for i, off := range offsets {
		in.ch <- kafka.Message{Topic: topic, Offset: off, Value: fmt.Appendf(nil, `{"ts":%d}`, times[i])}
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
