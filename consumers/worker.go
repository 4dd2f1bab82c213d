package consumers

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strconv"
	"time"

	"github.com/segmentio/kafka-go"

	"everywhere/events"
	"everywhere/metrics"
	"everywhere/pipeline/ack"
	"everywhere/pipeline/batcher"
)

// worker processes one assigned partition for one generation: it fetches,
// hands each message to the handler, and every SealInterval (or SealEvents
// messages) seals the run: the handler's output and the dead letters go to
// the sinks under one ticket, and a commit loop commits the run's end offset
// once the ticket is done. Tickets are committed in order, so a commit never
// covers a message whose output is not durable.
type worker struct {
	g         *Group
	gen       *kafka.Generation
	topic     string
	partition int
	offset    int64

	h         Handler
	dead      []DeadLetter
	okCount   float64
	badCount  float64
	tickets   chan *ack.Ticket
	committed chan struct{}
	drain     chan struct{} // closed when the worker stops: waits are bounded from then on
}

func (w *worker) run(ctx context.Context) {
	log := slog.With("topic", w.topic, "partition", w.partition)
	factory := w.g.factories[w.topic]
	h, err := w.restore(ctx, factory, log)
	if err != nil {
		return
	}
	w.h = h
	r := kafka.NewReader(kafka.ReaderConfig{
		Brokers:       w.g.cfg.Brokers,
		Topic:         w.topic,
		Partition:     w.partition,
		MinBytes:      w.g.cfg.MinBytes,
		MaxBytes:      w.g.cfg.MaxBytes,
		MaxWait:       w.g.cfg.MaxWait,
		QueueCapacity: 4096,
		ErrorLogger:   kafka.LoggerFunc(throttledKafkaLog()),
	})
	defer r.Close()
	if err := r.SetOffset(w.offset); err != nil {
		log.Error("cannot position reader", "offset", w.offset, "err", err)
		return
	}
	w.tickets = make(chan *ack.Ticket, 8)
	w.committed = make(chan struct{})
	w.drain = make(chan struct{})
	go w.commitLoop(log)

	lag := w.g.m.Lag.WithLabelValues(w.topic, strconv.Itoa(w.partition))
	events := w.g.m.EventsIn.WithLabelValues(w.topic, metrics.ResultOK)
	rejected := w.g.m.EventsIn.WithLabelValues(w.topic, metrics.ResultRejected)
	sealTime := w.g.m.ProcessSeconds.WithLabelValues(w.topic)
	// Seals must not be abandoned because the generation ended: a seal hands
	// over work already taken out of the handler. They may wait on a full
	// sink (that is the backpressure) until DrainTimeout after the end.
	sealCtx, cancelSeals := context.WithCancel(context.Background())
	defer cancelSeals()
	stopped := make(chan struct{})
	defer close(stopped)
	go func() {
		select {
		case <-ctx.Done():
		case <-stopped:
			return
		}
		select {
		case <-time.After(w.g.cfg.DrainTimeout):
			cancelSeals()
		case <-stopped:
		}
	}()

	var (
		n    int
		last int64 = -1
		ok         = true // false once a seal failed: nothing after it may be committed
	)
	for ok && ctx.Err() == nil {
		start := time.Now()
		fctx, cancel := context.WithDeadline(ctx, start.Add(w.g.cfg.SealInterval))
		for n < w.g.cfg.SealEvents {
			m, err := r.FetchMessage(fctx)
			if err != nil {
				if !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, context.Canceled) &&
					!errors.Is(err, io.EOF) && !errors.Is(err, kafka.ErrGenerationEnded) {
					log.Warn("fetch failed", "err", err)
				}
				break
			}
			w.handle(&m)
			n++
			last = m.Offset
		}
		cancel()
		if n > 0 && ctx.Err() == nil {
			ok = w.seal(sealCtx, last, log)
			sealTime.Observe(time.Since(start).Seconds())
			n = 0
		}
		events.Add(w.okCount)
		rejected.Add(w.badCount)
		w.okCount, w.badCount = 0, 0
		lag.Set(float64(r.Lag()))
	}
	// The generation ended (rebalance or shutdown): seal what was handled,
	// then give the writes DrainTimeout to land and be committed. What does
	// not land in time stays uncommitted and is read again by the next owner.
	close(w.drain)
	if ok && n > 0 {
		w.seal(sealCtx, last, log)
	}
	close(w.tickets)
	select {
	case <-w.committed:
	case <-time.After(w.g.cfg.DrainTimeout):
		log.Warn("stopped before every write was committed; uncommitted messages will be read again")
	}
}

// restore makes the handler, retrying while its sinks do not answer: a
// partition must not be processed before its watermarks are known.
func (w *worker) restore(ctx context.Context, factory Factory, log *slog.Logger) (Handler, error) {
	backoff := 200 * time.Millisecond
	var lastLog time.Time
	for {
		h, err := factory(ctx, w.topic, w.partition)
		if err == nil {
			return h, nil
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if time.Since(lastLog) > 10*time.Second {
			log.Warn("cannot restore partition state, retrying", "err", err)
			lastLog = time.Now()
		}
		select {
		case <-time.After(backoff):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		backoff = min(2*backoff, 10*time.Second)
	}
}

func (w *worker) handle(m *kafka.Message) {
	err := w.h.Handle(m)
	if err == nil {
		w.okCount++
		return
	}
	w.badCount++
	field := ""
	var ee *events.Error
	if errors.As(err, &ee) {
		field = ee.Field
	}
	w.g.m.Rejections.WithLabelValues(w.topic, metrics.Field(field)).Inc()
	w.dead = append(w.dead, DeadLetter{
		Topic: w.topic, Partition: w.partition, Offset: m.Offset,
		Key: append([]byte(nil), m.Key...), Error: err.Error(), Payload: append([]byte(nil), m.Value...),
		SeenAt: time.Now().UTC(),
	})
}

// seal hands the run to the sinks and queues its ticket for commit. It
// reports false when the sinks cannot take it (shutdown).
func (w *worker) seal(ctx context.Context, last int64, log *slog.Logger) bool {
	t := ack.New(last + 1)
	if err := w.h.Seal(ctx, t, last); err != nil {
		log.Warn("seal abandoned", "err", err)
		return false
	}
	if len(w.dead) > 0 {
		for _, b := range w.g.deadLetters {
			if err := b.Add(ctx, batcher.Chunk[[]DeadLetter]{Data: w.dead, Rows: len(w.dead), Ticket: t}); err != nil {
				log.Warn("seal abandoned", "err", err)
				return false
			}
		}
		w.g.m.DeadLetters.WithLabelValues(w.topic).Add(float64(len(w.dead)))
		w.dead = nil // the sinks own the slice now
	}
	t.Arm()
	select {
	case w.tickets <- t:
		return true
	case <-ctx.Done():
		return false
	}
}

// commitLoop commits each ticket's offset, in order, once it is done.
func (w *worker) commitLoop(log *slog.Logger) {
	defer close(w.committed)
	commits := w.g.m.Commits.WithLabelValues(w.topic)
	for t := range w.tickets {
		select {
		case <-t.Wait():
		case <-w.drain:
			// Stopping: wait for this ticket only as long as the drain allows.
			select {
			case <-t.Wait():
			case <-time.After(w.g.cfg.DrainTimeout):
				return
			}
		}
		if err := w.gen.CommitOffsets(map[string]map[int]int64{w.topic: {w.partition: t.Offset}}); err != nil {
			// A later commit covers this one; a lost commit only means
			// re-reading, which the sinks absorb.
			log.Warn("offset commit failed", "offset", t.Offset, "err", err)
			continue
		}
		commits.Inc()
	}
}
