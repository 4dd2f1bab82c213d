package batcher

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"everywhere/pipeline/ack"
)

type recorder struct {
	mu      sync.Mutex
	batches [][]int
	fail    int
}

func (r *recorder) write(_ context.Context, batch []int) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fail > 0 {
		r.fail--
		return errors.New("sink down")
	}
	r.batches = append(r.batches, append([]int(nil), batch...))
	return nil
}

func TestBatcherWritesOnSizeAndReleasesTicketsAfter(t *testing.T) {
	r := &recorder{}
	b := New(Config{Name: "t", MaxRows: 10, MaxWait: time.Hour, Queue: 4, Backoff: time.Millisecond, MaxBackoff: time.Millisecond}, r.write, nil)
	b.Start()
	defer b.Stop(time.Second)
	tk := ack.New(1)
	for i := 0; i < 2; i++ {
		if err := b.Add(context.Background(), Chunk[int]{Data: i, Rows: 5, Ticket: tk}); err != nil {
			t.Fatal(err)
		}
	}
	tk.Arm()
	select {
	case <-tk.Wait():
	case <-time.After(5 * time.Second):
		t.Fatal("ticket not released after a full batch")
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.batches) != 1 || len(r.batches[0]) != 2 {
		t.Fatalf("batches %v, want one of two chunks", r.batches)
	}
}

func TestBatcherRetriesAndKeepsTicketUntilWritten(t *testing.T) {
	r := &recorder{fail: 3}
	b := New(Config{Name: "t", MaxRows: 100, MaxWait: 5 * time.Millisecond, Queue: 4, Backoff: 20 * time.Millisecond, MaxBackoff: 20 * time.Millisecond}, r.write, nil)
	b.Start()
	defer b.Stop(time.Second)
	tk := ack.New(1)
	if err := b.Add(context.Background(), Chunk[int]{Data: 7, Rows: 1, Ticket: tk}); err != nil {
		t.Fatal(err)
	}
	tk.Arm()
	time.Sleep(30 * time.Millisecond)
	if tk.IsDone() {
		t.Fatal("ticket released while the sink was failing")
	}
	if b.Healthy() {
		t.Fatal("healthy while failing")
	}
	select {
	case <-tk.Wait():
	case <-time.After(5 * time.Second):
		t.Fatal("ticket not released after the sink came back")
	}
	if !b.Healthy() {
		t.Fatal("not healthy after recovery")
	}
}

func TestBatcherStopGivesUpOnDeadSinkWithoutReleasing(t *testing.T) {
	r := &recorder{fail: 1 << 30}
	b := New(Config{Name: "t", MaxRows: 100, MaxWait: time.Millisecond, Queue: 1, Backoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond}, r.write, nil)
	b.Start()
	tk := ack.New(1)
	_ = b.Add(context.Background(), Chunk[int]{Data: 1, Rows: 1, Ticket: tk})
	tk.Arm()
	start := time.Now()
	b.Stop(50 * time.Millisecond)
	if time.Since(start) > 2*time.Second {
		t.Fatal("Stop did not honour its timeout")
	}
	if tk.IsDone() {
		t.Fatal("ticket released although nothing was written")
	}
	if err := b.Add(context.Background(), Chunk[int]{Data: 2, Rows: 1}); !errors.Is(err, ErrStopped) {
		t.Fatalf("Add after Stop = %v", err)
	}
}

// TestBatcherRefusesEveryChunkAfterItsContextEnds: with room in the queue
// and the caller's context ended, both cases of a select are ready and Go
// picks one at random. Add must refuse every time, or a chunk could be
// taken after an earlier one was refused, leaving a gap in the sink.
func TestBatcherRefusesEveryChunkAfterItsContextEnds(t *testing.T) {
	r := &recorder{}
	b := New(Config{Name: "t", MaxRows: 1000, MaxWait: time.Hour, Queue: 256, Backoff: time.Millisecond, MaxBackoff: time.Millisecond}, r.write, nil)
	b.Start()
	defer b.Stop(time.Second)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for i := range 200 {
		if err := b.Add(ctx, Chunk[int]{Data: i, Rows: 1}); err == nil {
			t.Fatalf("chunk %d taken after its context ended", i)
		}
	}
}
