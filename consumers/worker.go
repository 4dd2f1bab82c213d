package consumers

import (
	"context"
	"errors"
	"log/slog"
	"runtime/pprof"
	"strconv"
	"time"

	"github.com/segmentio/kafka-go"

	"everywhere/events"
	"everywhere/metrics"
	"everywhere/pipeline/ack"
)

// worker processes one partition number of a topic set for one
// generation. A fetch goroutine per input fills a small channel; the
// worker hands the messages to the handlers in event-time order, waiting
// for an input only while that input has messages it has not fetched yet
// (so a replay, which has them all, always gives the same order). Every
// SealInterval, or SealEvents messages, it seals the run: the handlers'
// output and the dead letters go to the sinks under the run's ticket, and
// the commit loop commits the run's end offsets once the ticket is done.
// Runs are committed in order, so a commit never covers a message whose
// output is not durable.
type worker struct {
	g         *Group
	gen       *kafka.Generation
	set       *Set
	partition int
	inputs    []*input
	wake      chan struct{}

	dead    []DeadLetter
	commits chan commit
	done    chan struct{}
	drain   chan struct{} // closed when the worker stops: waits are bounded from then on
	timer   *time.Timer
	idle    bool // the handlers were told the worker is idle and nothing came since
	// waitedSince: since when a message at hand waits for an input that
	// has none at hand yet (zero when none waits).
	waitedSince time.Time
	// readAt: when next last read the clock; busy: the seconds spent
	// in handlers and seals, not yet counted (see tick and flushCounts);
	// waited: the worker has waited since readAt; reuses: hand-overs
	// since readAt that went by it; handled: the last thing the worker
	// did was handle a message (see tick).
	readAt  time.Time
	busy    float64
	waited  bool
	reuses  int
	handled bool
	// started is when the worker first read the clock (see clock).
	started time.Time
	// busySince: when the worker last began handing messages over after
	// being idle; hurry: it has just caught up after a backlog (see
	// Config.Backlog), and the run is to be sealed and hurried.
	busySince time.Time
	hurry     bool
	replay    *ack.Ticket
	// partial: only some topics of the set are assigned. Another member
	// holds the rest, most often one that died and has not timed out: the
	// state of a partition is built from every topic of its set, so the
	// worker waits for the rebalance that follows (see run).
	partial bool
}

// lagLookup bounds the look-up of how far behind an input starts.
const lagLookup = 5 * time.Second

func (w *worker) run(ctx context.Context) {
	log := slog.With("partition", w.partition, "topics", len(w.inputs))
	topics := make([]string, len(w.inputs))
	for i, in := range w.inputs {
		topics[i] = in.topic
	}
	// A CPU profile then splits by worker (`go tool pprof -tags`), and
	// the goroutines the worker starts inherit the label: what one
	// partition costs, such as one city's matching, shows by itself.
	pprof.SetGoroutineLabels(pprof.WithLabels(ctx, pprof.Labels("worker", topics[0]+"/"+strconv.Itoa(w.partition))))
	if w.partial {
		// Processing part of a set would build part of its state, and a
		// late message of a missing topic (a profile that completes an
		// alert) would find it wanting. A dead member times out within the
		// session timeout and the group rebalances; if the split outlasts
		// twice that, it is not that (partition counts differ?) and the
		// worker goes on with what it has rather than stall.
		select {
		case <-ctx.Done():
			return
		case <-time.After(2 * w.g.cfg.SessionTimeout):
			log.Error("still assigned only some topics of a co-partitioned set; processing them alone", "topics", topics)
		}
	}
	// Seals must not be abandoned because the generation ended: a seal hands
	// over work already taken out of the handlers. They may wait on a full
	// sink (that is the backpressure) until DrainTimeout after the end. The
	// handlers hand their output over under the same context, so that what
	// a run made before the end is taken whole: a handler whose hand-off
	// was refused fails its seal, and a run whose seal failed, with part of
	// its output already with the sinks, is not committed but may still be
	// written after the next owner has read where the tables stand.
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

	handlers, err := w.restore(ctx, sealCtx, topics, log)
	if err != nil {
		return
	}
	w.wake = make(chan struct{}, 1)
	fctx, stopFetch := context.WithCancel(ctx)
	defer stopFetch()
	for _, in := range w.inputs {
		in.h = handlers[in.topic]
		in.last, in.sealed = -1, -1
		in.ch = make(chan []kafka.Message, 1)
		in.lag = w.g.m.Lag.WithLabelValues(in.topic, strconv.Itoa(w.partition))
		in.r = newReader(w.g.fetcher, in.topic, w.partition, w.g.readerLog)
		start := in.offset
		if w.g.cfg.Restore && in.offset > 0 {
			// State is rebuilt by reading the partition again from its
			// first offset: the handlers see the same messages in the same
			// order as when they were first handled, so the state is the
			// one the last owner had, without a store of its own to keep in
			// step with the offsets. Outputs of these messages were
			// published before the commit; the replay ticket suppresses them.
			start, in.replayTo = kafka.FirstOffset, in.offset
			w.replay = ack.NewReplay()
		}
		in.r.SetOffset(start)
		// The reader knows its lag only once a message has arrived; until
		// then the merge must still wait for a partition that has some.
		// The look-up is bounded: the worker must not sit on a broker
		// slow to answer it before fetching anything.
		lctx, cancel := context.WithTimeout(ctx, lagLookup)
		if lag, err := in.r.ReadLag(lctx); err == nil {
			in.behind = lag
		} else {
			log.Warn("cannot read how far behind the partition is; not waiting for it until it delivers", "topic", in.topic, "err", err)
		}
		cancel()
		go w.fetch(fctx, in)
	}
	w.commits = make(chan commit, w.g.cfg.pendingRuns())
	w.done = make(chan struct{})
	w.drain = make(chan struct{})
	w.timer = time.NewTimer(time.Hour)
	go w.commitLoop(log)

	sealTime := w.g.m.ProcessSeconds.WithLabelValues(w.inputs[0].topic)
	t := ack.New(0)
	n := 0
	ok := true // false once a seal failed: nothing after it may be committed
	for ok && ctx.Err() == nil {
		start := time.Now()
		deadline := start.Add(w.g.cfg.SealInterval)
		for n < w.g.cfg.SealEvents {
			in := w.next(ctx, deadline, t)
			if in == nil {
				break
			}
			w.handle(in, t)
			n++
		}
		if n > 0 && ctx.Err() == nil {
			if w.hurry {
				t.Hurry()
			}
			ok = w.seal(sealCtx, t, log)
			t = ack.New(0)
			sealTime.Observe(time.Since(start).Seconds())
			n = 0
		}
		w.hurry = false
		w.flushCounts()
	}
	// The generation ended (rebalance or shutdown): seal what was handled,
	// then give the writes DrainTimeout to land and be committed. What does
	// not land in time stays uncommitted and is read again by the next owner.
	stopFetch()
	close(w.drain)
	if ok && n > 0 {
		w.seal(sealCtx, t, log)
	}
	w.flushCounts()
	for _, in := range w.inputs {
		if c, ok := in.h.(Closer); ok {
			c.Close()
		}
	}
	close(w.commits)
	select {
	case <-w.done:
	case <-time.After(w.g.cfg.DrainTimeout):
		log.Warn("stopped before every write was committed; uncommitted messages will be read again")
	}
}

// clock is the time now, read as the monotonic time since the worker
// first read it: one read of the clock where time.Now makes two (the
// wall clock's and the monotonic), 24 ns against 44, and next reads it
// at every pass but those that reuse a reading (see tick). Every use
// compares or subtracts times, which go by the monotonic reading.
func (w *worker) clock() time.Time {
	if w.started.IsZero() {
		w.started = time.Now()
	}
	return w.started.Add(time.Since(w.started))
}

// clockReuse is how many hand-overs in a row may go by one reading of the
// clock (see tick).
const clockReuse = 16

// tick returns the time for a pass of next, and whether it is a reading
// made before. The first pass of next right after a message was handled
// (handing) goes by the last reading, for up to clockReuse hand-overs in
// a row: a partition catching up hands a message over every few
// microseconds, and reading the clock for each was 2% of the engine's CPU
// in a profile of a catch-up at 1,000,000 users. next uses an earlier
// reading only to hand the next message over; a pass that would wait,
// seal or go idle reads the clock afresh, and so does the first pass after
// anything but handling a message (a seal can wait on a full sink). So an
// input's last arrival is dated at most clockReuse handlers' work early.
//
// Since the last reading the worker has been busy with what it handed
// over, unless it waited: the clock read each pass makes anyway measures
// it, with none more per message.
func (w *worker) tick(handing bool) (now time.Time, stale bool) {
	reuse := handing && w.handled && w.reuses < clockReuse && !w.readAt.IsZero()
	w.handled = false
	if reuse {
		w.reuses++
		return w.readAt, true
	}
	now = w.clock()
	if !w.waited && !w.readAt.IsZero() {
		w.busy += now.Sub(w.readAt).Seconds()
	}
	w.readAt, w.reuses, w.waited = now, 0, false
	return now, false
}

// next returns the input whose next message comes first in event time, or
// nil at the deadline or when ctx ends. It waits for an input that has no
// message at hand while that input is behind the end of its partition:
// on a loaded machine a fetch can take far longer than the fetch wait, and
// not waiting for it would hand the others over out of order, so that a
// replay would differ. Only an input whose reader reports lag while its
// fetches succeed and bring nothing for stallAfter (a partition ending in
// transaction markers, which count in the lag and are never delivered) is
// not waited for again until it delivers. An input that has caught up is
// still waited for until Config.IdleAfter after its last message, and
// the worker is idle only once none is. Runs are still sealed at their
// deadline while the worker waits, so what was handled is committed.
//
// While state is rebuilt, messages read again go first, whatever the
// event time of a new one at hand: the last owner handled every committed
// message before any other. A new message handed over amid the replay
// would meet state missing what came before it; a path that closes a
// money ring with a transfer replayed after it would have the ring found
// while that transfer is replayed, whose outputs are suppressed, and its
// alerts would be lost.
func (w *worker) next(ctx context.Context, deadline time.Time, t *ack.Ticket) *input {
	stallAfter := 4 * w.g.cfg.MaxWait
	for first := true; ; first = false {
		// Once the generation has ended, nothing more is handed over.
		// The inputs' fetches stop one by one, and an input whose fetch
		// has stopped is no longer waited for: handing over what the
		// others still hold would go past it in event time, and the
		// run's seal would tell the regions a watermark beyond records
		// this owner never sent. What is left is read again by the next
		// owner from the last commit.
		select {
		case <-ctx.Done():
			return nil
		default:
		}
		// best is the earliest head, rebuilt the earliest one still being
		// read again: a replay hands over all it reads before anything new.
		var best, rebuilt *input
		waiting, closed := false, false
		var quietAt time.Time // when the first input waited for as lately active stops being so
		now, stale := w.tick(first)
		for _, in := range w.inputs {
			if !in.has && !in.closed {
				in.closed = in.take(now)
			}
			if in.has {
				if best == nil || in.headTS < best.headTS {
					best = in
				}
				if in.head.Offset < in.replayTo && (rebuilt == nil || in.headTS < rebuilt.headTS) {
					rebuilt = in
				}
				continue
			}
			closed = closed || in.closed
			if quiet := in.arrived.Add(w.g.cfg.IdleAfter); !in.closed && !in.stalled && in.seen && now.Before(quiet) {
				// Caught up only for a moment: see Config.IdleAfter.
				waiting = true
				if quietAt.IsZero() || quiet.Before(quietAt) {
					quietAt = quiet
				}
				continue
			}
			if in.closed || in.stalled || !(in.r.Lag() > 0 || !in.seen && in.behind > 0) {
				continue
			}
			if !w.waitedSince.IsZero() && now.Sub(w.waitedSince) > stallAfter && now.Sub(in.arrived) > stallAfter && in.r.hollow() {
				in.stalled = true
				slog.Warn("partition reports lag but delivers nothing; no longer waiting for it", "topic", in.topic, "partition", w.partition, "lag", in.r.Lag())
				continue
			}
			waiting = true
		}
		if stale && (best == nil || waiting) {
			// Not a plain hand-over: waits, seals and idleness go by a
			// fresh reading.
			continue
		}
		// Idle means caught up: not an input closed because the generation
		// ended or its fetch failed. A source that said idle on its way
		// out would let the regions go on without it, and what its next
		// owner reads again from the last commit would reach them late,
		// out of event-time order.
		if best == nil && !waiting && !w.idle && !closed && ctx.Err() == nil {
			w.idle = true
			for _, in := range w.inputs {
				if h, ok := in.h.(Idler); ok {
					h.Idle(t)
				}
			}
			if b := w.g.cfg.Backlog; b > 0 && !w.busySince.IsZero() && now.Sub(w.busySince) >= b {
				w.hurry = true
				return nil
			}
		}
		if rebuilt != nil {
			best = rebuilt
		}
		if best != nil {
			if !waiting {
				w.waitedSince = time.Time{}
				if w.idle || w.busySince.IsZero() {
					w.busySince = now
				}
				return best
			}
			if w.waitedSince.IsZero() {
				w.waitedSince = now
			}
		}
		if !now.Before(deadline) || ctx.Err() != nil {
			// Nothing that can go in order now: the run is sealed, and the
			// wait goes on in the next one.
			return nil
		}
		wait := deadline.Sub(now)
		if best != nil {
			wait = min(wait, w.g.cfg.MaxWait)
		}
		if !quietAt.IsZero() {
			wait = min(wait, quietAt.Sub(now))
		}
		w.timer.Reset(wait)
		select {
		case <-w.wake:
		case <-w.timer.C:
		case <-ctx.Done():
		}
		w.waited = true
		if !w.timer.Stop() {
			select {
			case <-w.timer.C:
			default:
			}
		}
	}
}

func (w *worker) handle(in *input, t *ack.Ticket) {
	m := &in.head
	in.has = false
	w.idle = false
	w.handled = true
	defer handled(m)
	if m.Offset < in.replayTo {
		// Rebuilding state: nothing to count, seal, commit or reject (a
		// rejected message went to the dead-letter topic the first time).
		_ = in.h.Handle(m, w.replay)
		return
	}
	in.last = m.Offset
	err := in.h.Handle(m, t)
	if err == nil {
		in.ok++
		return
	}
	in.bad++
	field := ""
	var ee *events.Error
	if errors.As(err, &ee) {
		field = ee.Field
	}
	w.g.m.Rejections.WithLabelValues(in.topic, metrics.Field(field)).Inc()
	w.dead = append(w.dead, DeadLetter{
		Topic: in.topic, Partition: w.partition, Offset: m.Offset,
		Key: append([]byte(nil), m.Key...), Error: err.Error(), Payload: append([]byte(nil), m.Value...),
		SeenAt: time.Now().UTC(),
	})
}

func (w *worker) flushCounts() {
	if w.busy > 0 {
		w.g.m.Busy.WithLabelValues(w.inputs[0].topic, strconv.Itoa(w.partition)).Add(w.busy)
		w.busy = 0
	}
	for _, in := range w.inputs {
		if in.ok > 0 {
			w.g.m.EventsIn.WithLabelValues(in.topic, metrics.ResultOK).Add(in.ok)
		}
		if in.bad > 0 {
			w.g.m.EventsIn.WithLabelValues(in.topic, metrics.ResultRejected).Add(in.bad)
		}
		in.ok, in.bad = 0, 0
		in.lag.Set(float64(max(in.r.Lag(), 0)))
	}
}

// restore makes the handlers, retrying while their sinks do not answer: a
// partition must not be processed before its watermarks and state are known.
//
// The handlers are made under handCtx, which outlives ctx by the drain
// timeout (see run).
func (w *worker) restore(ctx, handCtx context.Context, topics []string, log *slog.Logger) (map[string]Handler, error) {
	backoff := 200 * time.Millisecond
	var lastLog time.Time
	for {
		hs, err := w.set.Factory(handCtx, w.partition, topics)
		if err == nil {
			return hs, nil
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
