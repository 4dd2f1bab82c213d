// Package batcher turns many small chunks of output into few large writes.
//
// Partition workers hand chunks to a Batcher; it writes them in one call
// when it holds MaxRows rows or its oldest chunk is MaxWait old, or at once
// when a chunk's ticket ends a backlog (ack.Ticket.Hurry), and releases
// each chunk's ticket only after the write succeeded. A failed write is
// retried with backoff, in order, and while it is retried the queue fills and
// Add blocks: a slow or absent sink slows the workers down (backpressure,
// bounded memory) instead of failing them or losing data.
package batcher

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"everywhere/pipeline/ack"
)

// Chunk is a piece of output for one write: Data with Rows rows, whose
// Ticket is released once it is durable.
type Chunk[T any] struct {
	Data   T
	Rows   int
	Ticket *ack.Ticket
	// barrier: no data, only a ticket released once everything taken
	// before it is written (see Barrier).
	barrier bool
}

// Config tunes a Batcher.
type Config struct {
	Name    string // the sink, in logs and metrics
	MaxRows int    // write when this many rows are held
	// MaxWait: write when the oldest chunk is this old. 0 writes as soon
	// as the previous write is done, with whatever queued meanwhile: no
	// wait at low load, and batches that grow with the load.
	MaxWait time.Duration
	// Phase, with MaxWait, places timed writes at one point of each
	// MaxWait period of the clock (Phase past a multiple of MaxWait): the
	// oldest chunk then waits between half and one and a half MaxWait,
	// MaxWait on average. Batchers given different phases write at
	// different moments even when their first chunks come together, as
	// every table's do when the partitions seal.
	Phase      time.Duration
	Queue      int           // chunks waiting beyond the current batch
	Backoff    time.Duration // first pause after a failed write
	MaxBackoff time.Duration // longest pause
}

// Observer receives what a Batcher does, for metrics.
type Observer interface {
	Wrote(sink string, rows int, took time.Duration)
	Failed(sink string, err error)
	// Waited: an Add found the queue full and waited d for room.
	Waited(sink string, d time.Duration)
}

// WriteFunc writes a batch; it must either write all of it or fail.
type WriteFunc[T any] func(ctx context.Context, batch []T) error

// ErrStopped is returned by Add after Stop.
var ErrStopped = errors.New("batcher stopped")

// Batcher batches chunks for one sink. Start it with Start and end it with
// Stop; Add may be called from many goroutines.
type Batcher[T any] struct {
	cfg     Config
	write   WriteFunc[T]
	obs     Observer
	in      chan Chunk[T]
	stop    chan struct{}
	wg      sync.WaitGroup
	healthy atomic.Bool
	stopped atomic.Bool
	hard    context.CancelFunc
	hardCtx context.Context
}

// New returns a batcher; call Start before Add.
func New[T any](cfg Config, write WriteFunc[T], obs Observer) *Batcher[T] {
	b := &Batcher[T]{cfg: cfg, write: write, obs: obs, in: make(chan Chunk[T], cfg.Queue), stop: make(chan struct{})}
	b.hardCtx, b.hard = context.WithCancel(context.Background())
	b.healthy.Store(true)
	return b
}

// Start runs the writer loop.
func (b *Batcher[T]) Start() {
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		b.loop()
	}()
}

// Add queues a chunk, blocking while the queue is full. It fails only when
// ctx ends or the batcher is stopped; the chunk's ticket is then never
// released, so its offsets are not committed and will be read again.
func (b *Batcher[T]) Add(ctx context.Context, c Chunk[T]) error {
	if b.stopped.Load() {
		return ErrStopped
	}
	// Once its context has ended a caller's chunks are all refused. A
	// select with both cases ready picks one at random, so without this a
	// chunk could be taken after an earlier one was refused, leaving a gap
	// in what the sink receives: for the regions topic, a source's
	// watermark past records that were never sent, so that their resend
	// by the partition's next owner arrives late.
	if err := ctx.Err(); err != nil {
		return err
	}
	if c.Ticket != nil {
		c.Ticket.Add()
	}
	select {
	case b.in <- c:
		return nil
	default:
	}
	// The queue is full: the caller waits for the writer, and the wait,
	// backpressure a reader of the metrics should see, is counted. Only
	// here: the clock is not read for an Add that finds room.
	if b.obs != nil {
		start := time.Now()
		defer func() { b.obs.Waited(b.cfg.Name, time.Since(start)) }()
	}
	select {
	case b.in <- c:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-b.stop:
		return ErrStopped
	}
}

// Barrier returns once every chunk added before it has been written, so
// that a reader of the sink's store then finds them. A partition's next
// owner in this process calls it before it reads where a table stands:
// a write its last owner left queued or failing when it stopped would
// otherwise land after that read and be counted again. The batcher
// writes in order, so a marker written after those chunks shows they
// are. Barrier waits while a write is retried (a sink that is down
// holds the reader up too, as the read would fail), and fails only when
// ctx ends or the batcher is stopped.
func (b *Batcher[T]) Barrier(ctx context.Context) error {
	t := ack.New(0)
	t.Hurry() // write what is queued now, not at the next timed write
	if err := b.Add(ctx, Chunk[T]{Ticket: t, barrier: true}); err != nil {
		return err
	}
	t.Arm()
	select {
	case <-t.Wait():
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-b.stop:
		return ErrStopped
	}
}

// Healthy reports whether the last write succeeded.
func (b *Batcher[T]) Healthy() bool { return b.healthy.Load() }

// Stop writes what is queued, retrying failed writes until timeout, then
// gives up on the rest (their tickets stay pending) and returns.
func (b *Batcher[T]) Stop(timeout time.Duration) {
	if b.stopped.Swap(true) {
		return
	}
	close(b.stop)
	timer := time.AfterFunc(timeout, b.hard)
	defer timer.Stop()
	b.wg.Wait()
	b.hard()
}

func (b *Batcher[T]) loop() {
	var (
		batch   []T
		tickets []*ack.Ticket
		rows    int
		timer   = time.NewTimer(time.Hour)
		armed   bool
		hurried bool // a chunk of the batch ends a backlog
	)
	timer.Stop()
	flush := func() {
		if len(batch) == 0 && len(tickets) == 0 {
			return
		}
		if len(batch) == 0 || b.flush(batch, rows) { // barriers alone: nothing to write
			for _, t := range tickets {
				if t != nil {
					t.Done()
				}
			}
		}
		clear(batch)
		batch, tickets, rows, hurried = batch[:0], tickets[:0], 0, false
		if armed {
			timer.Stop()
			armed = false
		}
	}
	take := func(c Chunk[T]) {
		if !c.barrier {
			batch = append(batch, c.Data)
		}
		tickets = append(tickets, c.Ticket)
		rows += c.Rows
		hurried = hurried || c.Ticket != nil && c.Ticket.Hurried()
		if !armed {
			timer.Reset(b.wait(time.Now()))
			armed = true
		}
		if rows >= b.cfg.MaxRows {
			flush()
		}
	}
	for {
		select {
		case c := <-b.in:
			take(c)
			if b.cfg.MaxWait == 0 || hurried {
				for drained := false; !drained && rows < b.cfg.MaxRows; {
					select {
					case c := <-b.in:
						take(c)
					default:
						drained = true
					}
				}
				flush()
			}
		case <-timer.C:
			armed = false
			flush()
		case <-b.stop:
			for {
				select {
				case c := <-b.in:
					take(c)
					continue
				default:
				}
				break
			}
			flush()
			return
		}
	}
}

// wait is how long a batch begun at now waits for its timed write:
// MaxWait, moved to the nearest point of the batcher's phase.
func (b *Batcher[T]) wait(now time.Time) time.Duration {
	w := int64(b.cfg.MaxWait)
	if w <= 0 || b.cfg.Phase <= 0 {
		return b.cfg.MaxWait
	}
	past := (now.UnixNano() + w - int64(b.cfg.Phase)) % w // how far the due time is past a phase point
	if past < 0 {
		past += w
	}
	if past > w/2 {
		return time.Duration(2*w - past) // on to the next phase point
	}
	return time.Duration(w - past) // back to the last one
}

// flush writes until it succeeds or the batcher is stopped hard; it reports
// whether the batch was written.
func (b *Batcher[T]) flush(batch []T, rows int) bool {
	backoff := b.cfg.Backoff
	var lastLog time.Time
	for attempt := 0; ; attempt++ {
		start := time.Now()
		err := b.write(b.hardCtx, batch)
		if err == nil {
			b.healthy.Store(true)
			if b.obs != nil {
				b.obs.Wrote(b.cfg.Name, rows, time.Since(start))
			}
			if attempt > 0 {
				slog.Info("write recovered", "sink", b.cfg.Name, "attempts", attempt+1)
			}
			return true
		}
		b.healthy.Store(false)
		if b.obs != nil {
			b.obs.Failed(b.cfg.Name, err)
		}
		if b.hardCtx.Err() != nil {
			slog.Error("write abandoned at shutdown; its offsets stay uncommitted and will be read again", "sink", b.cfg.Name, "rows", rows, "err", err)
			return false
		}
		// Throttled: a sink that is down for a minute logs a few lines, not thousands.
		if time.Since(lastLog) > 10*time.Second {
			slog.Warn("write failed, retrying", "sink", b.cfg.Name, "rows", rows, "attempt", attempt+1, "backoff", backoff, "err", clip(err.Error()))
			lastLog = time.Now()
		}
		select {
		case <-time.After(backoff):
		case <-b.hardCtx.Done():
		}
		backoff = min(backoff*2, b.cfg.MaxBackoff)
	}
}

// clip keeps a logged error to one readable line: a producer's error can
// repeat the same reason for each of thousands of messages.
func clip(s string) string {
	const most = 600
	if len(s) <= most {
		return s
	}
	return s[:most] + fmt.Sprintf("... (%d bytes)", len(s))
}
