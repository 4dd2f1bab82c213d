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

// A chunk of a run that ends a backlog is written at once, with the
// chunks taken before it, rather than at the batcher's timed write.
func TestBatcherWritesAHurriedRunAtOnce(t *testing.T) {
	r := &recorder{}
	b := New(Config{Name: "t", MaxRows: 100, MaxWait: time.Hour, Queue: 4, Backoff: time.Millisecond, MaxBackoff: time.Millisecond}, r.write, nil)
	b.Start()
	defer b.Stop(time.Second)
	before, last := ack.New(1), ack.New(2)
	if err := b.Add(context.Background(), Chunk[int]{Data: 1, Rows: 5, Ticket: before}); err != nil {
		t.Fatal(err)
	}
	before.Arm()
	select {
	case <-before.Wait():
		t.Fatal("a chunk of an ordinary run was written before the batch was full or old")
	case <-time.After(50 * time.Millisecond):
	}
	last.Hurry()
	if err := b.Add(context.Background(), Chunk[int]{Data: 2, Rows: 5, Ticket: last}); err != nil {
		t.Fatal(err)
	}
	last.Arm()
	for _, tk := range []*ack.Ticket{before, last} {
		select {
		case <-tk.Wait():
		case <-time.After(5 * time.Second):
			t.Fatalf("ticket %d not released after a hurried chunk", tk.Offset)
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.batches) != 1 || len(r.batches[0]) != 2 {
		t.Fatalf("batches %v, want one of both chunks", r.batches)
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

// TestBatcherWaitKeepsItsPhase: whenever a batch begins, its timed write
// falls on the batcher's phase of the MaxWait period, between half and
// one and a half MaxWait later; without a phase it waits MaxWait.
func TestBatcherWaitKeepsItsPhase(t *testing.T) {
	const maxWait, phase = time.Second, 300 * time.Millisecond
	b := New(Config{Name: "t", MaxWait: maxWait, Phase: phase}, (&recorder{}).write, nil)
	flat := New(Config{Name: "t", MaxWait: maxWait}, (&recorder{}).write, nil)
	start := time.Unix(1_700_000_000, 0)
	for step := range 2000 {
		now := start.Add(time.Duration(step) * 1237 * time.Microsecond)
		w := b.wait(now)
		if w < maxWait/2 || w > maxWait*3/2 {
			t.Fatalf("a batch begun at %s waits %s; want %s to %s", now, w, maxWait/2, maxWait*3/2)
		}
		if at := now.Add(w).UnixNano() % int64(maxWait); at != int64(phase) {
			t.Fatalf("a batch begun at %s is written %s into the period; want %s", now, time.Duration(at), phase)
		}
		if w := flat.wait(now); w != maxWait {
			t.Fatalf("without a phase a batch waits %s; want %s", w, maxWait)
		}
	}
}

// TestBatcherWritesOnItsPhase: chunks that come at any moment are written
// when the clock reaches the batcher's phase.
func TestBatcherWritesOnItsPhase(t *testing.T) {
	const maxWait, phase = 400 * time.Millisecond, 100 * time.Millisecond
	var mu sync.Mutex
	var at []time.Time
	b := New(Config{Name: "t", MaxRows: 1000, MaxWait: maxWait, Phase: phase, Queue: 4, Backoff: time.Millisecond, MaxBackoff: time.Millisecond},
		func(context.Context, []int) error {
			mu.Lock()
			defer mu.Unlock()
			at = append(at, time.Now())
			return nil
		}, nil)
	b.Start()
	defer b.Stop(time.Second)
	for i := range 3 {
		if err := b.Add(context.Background(), Chunk[int]{Data: i, Rows: 1}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(maxWait*3/2 + 50*time.Millisecond + time.Duration(i)*130*time.Millisecond)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(at) != 3 {
		t.Fatalf("%d writes; want 3", len(at))
	}
	for _, w := range at {
		off := time.Duration(w.UnixNano()%int64(maxWait)) - phase
		if off < 0 || off > 80*time.Millisecond {
			t.Fatalf("written %s past the phase point; want within 80ms after it", off)
		}
	}
}

// waits records what a Batcher reports of the waits for room in its queue.
type waits struct {
	mu    sync.Mutex
	count int
	total time.Duration
}

func (*waits) Wrote(string, int, time.Duration) {}
func (*waits) Failed(string, error)             {}
func (w *waits) Waited(_ string, d time.Duration) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.count++
	w.total += d
}

// TestBatcherCountsWaitsForRoom: an Add that finds the queue full waits
// until the writer takes a chunk, and that wait is reported; Adds that
// find room report nothing.
func TestBatcherCountsWaitsForRoom(t *testing.T) {
	release := make(chan struct{})
	writing := make(chan struct{}, 1)
	write := func(context.Context, []int) error {
		select {
		case writing <- struct{}{}:
		default:
		}
		<-release
		return nil
	}
	w := &waits{}
	b := New(Config{Name: "t", MaxRows: 1, Queue: 1, Backoff: time.Millisecond, MaxBackoff: time.Millisecond}, write, w)
	b.Start()
	defer b.Stop(time.Second)
	defer close(release)
	ctx := context.Background()
	// The first chunk goes to the writer, which holds it; the second fills
	// the queue.
	if err := b.Add(ctx, Chunk[int]{Data: 1, Rows: 1}); err != nil {
		t.Fatal(err)
	}
	<-writing
	if err := b.Add(ctx, Chunk[int]{Data: 2, Rows: 1}); err != nil {
		t.Fatal(err)
	}
	w.mu.Lock()
	if w.count != 0 {
		t.Fatalf("%d waits reported for Adds that found room", w.count)
	}
	w.mu.Unlock()
	done := make(chan error)
	go func() { done <- b.Add(ctx, Chunk[int]{Data: 3, Rows: 1}) }()
	const held = 30 * time.Millisecond
	select {
	case err := <-done:
		t.Fatalf("Add into a full queue returned at once (%v)", err)
	case <-time.After(held):
	}
	release <- struct{}{} // the first write ends; the writer takes chunk 2
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.count != 1 || w.total < held {
		t.Fatalf("reported %d waits of %v in all, want one of at least %v", w.count, w.total, held)
	}
}

// A barrier returns only once every chunk added before it is written,
// those of a write being retried included, and writes nothing itself:
// a partition's next owner reads where its tables stand after it.
func TestBarrierWaitsForWhatWasQueuedBeforeIt(t *testing.T) {
	r := &recorder{fail: 3} // the first writes fail, as with a sink that is down
	b := New(Config{Name: "t", MaxRows: 100, MaxWait: time.Hour, Queue: 4, Backoff: 20 * time.Millisecond, MaxBackoff: 20 * time.Millisecond}, r.write, nil)
	b.Start()
	defer b.Stop(time.Second)
	old := ack.New(1) // a stopped owner's run: never armed, its seal cut short
	for i := range 2 {
		if err := b.Add(context.Background(), Chunk[int]{Data: i, Rows: 5, Ticket: old}); err != nil {
			t.Fatal(err)
		}
	}
	start := time.Now()
	if err := b.Barrier(context.Background()); err != nil {
		t.Fatal(err)
	}
	if waited := time.Since(start); waited < 50*time.Millisecond {
		t.Fatalf("barrier returned after %v, before three failed writes had been retried", waited)
	}
	r.mu.Lock()
	got := r.batches
	r.mu.Unlock()
	if len(got) != 1 || len(got[0]) != 2 {
		t.Fatalf("at the barrier the sink holds %v, want the two chunks queued before it, in one write", got)
	}
	// With nothing queued, a barrier writes nothing and returns at once.
	if err := b.Barrier(context.Background()); err != nil {
		t.Fatal(err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.batches) != 1 {
		t.Fatalf("a barrier alone wrote %v", r.batches[1:])
	}
}

// A barrier gives up when its caller's context ends or the batcher stops,
// and does not wait for a write that cannot land.
func TestBarrierEndsWithItsContext(t *testing.T) {
	r := &recorder{fail: 1 << 30}
	b := New(Config{Name: "t", MaxRows: 100, MaxWait: time.Hour, Queue: 4, Backoff: time.Millisecond, MaxBackoff: time.Millisecond}, r.write, nil)
	b.Start()
	if err := b.Add(context.Background(), Chunk[int]{Data: 1, Rows: 1}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := b.Barrier(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("barrier over a sink that is down: %v, want its context's end", err)
	}
	go b.Stop(50 * time.Millisecond)
	if err := b.Barrier(context.Background()); !errors.Is(err, ErrStopped) {
		t.Fatalf("barrier on a stopping batcher: %v, want ErrStopped", err)
	}
}
