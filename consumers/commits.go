package consumers

import (
	"context"
	"log/slog"
	"time"

	"everywhere/pipeline/ack"
	"everywhere/pipeline/batcher"
)

// commit is a sealed run: its offsets, to commit once its ticket is done.
type commit struct {
	t       *ack.Ticket
	offsets map[string]map[int]int64
}

// seal hands the run to the sinks and queues its commit. It reports false
// when the sinks cannot take it (shutdown).
func (w *worker) seal(ctx context.Context, t *ack.Ticket, log *slog.Logger) bool {
	offsets := map[string]map[int]int64{}
	for _, in := range w.inputs {
		if in.last == in.sealed {
			continue
		}
		if err := in.h.Seal(ctx, t, in.last); err != nil {
			log.Warn("seal abandoned", "topic", in.topic, "err", err)
			return false
		}
		next := in.last + 1
		if h, ok := in.h.(Holder); ok {
			if held := h.Held(); held >= 0 && held < next {
				next = held
			}
		}
		offsets[in.topic] = map[int]int64{w.partition: next}
		in.sealed = in.last
	}
	if len(w.dead) > 0 {
		for _, b := range w.g.deadLetters {
			if err := b.Add(ctx, batcher.Chunk[[]DeadLetter]{Data: w.dead, Rows: len(w.dead), Ticket: t}); err != nil {
				log.Warn("seal abandoned", "err", err)
				return false
			}
		}
		for _, d := range w.dead {
			w.g.m.DeadLetters.WithLabelValues(d.Topic).Inc()
		}
		w.dead = nil // the sinks own the slice now
	}
	t.Arm()
	select {
	case w.commits <- commit{t: t, offsets: offsets}:
		return true
	case <-ctx.Done():
		return false
	}
}

// commitLoop commits each run's offsets, in order, once its ticket is done.
// Runs that are already durable by the time one is committed go in the
// same commit: while catching up, a partition seals many runs a second
// and a commit is a round trip to the group coordinator.
func (w *worker) commitLoop(log *slog.Logger) {
	defer close(w.done)
	answer := make(chan error, 1) // the committer's answers
	var next *commit
	for {
		c, ok := next, true
		next = nil
		if c == nil {
			var r commit
			if r, ok = <-w.commits; !ok {
				return
			}
			c = &r
		}
		select {
		case <-c.t.Wait():
		case <-w.drain:
			// Stopping: wait for this run only as long as the drain allows.
			select {
			case <-c.t.Wait():
			case <-time.After(w.g.cfg.DrainTimeout):
				return
			}
		}
		offsets := c.offsets
		for more := true; more; {
			select {
			case r, ok := <-w.commits:
				switch {
				case !ok:
					more = false
				case r.t.IsDone():
					offsets = mergeOffsets(offsets, r.offsets)
				default:
					next, more = &r, false
				}
			default:
				more = false
			}
		}
		if len(offsets) == 0 {
			continue
		}
		if err := w.g.committer.commit(w.gen, offsets, answer); err != nil {
			// A later commit covers this one; a lost commit only means
			// re-reading, which the sinks absorb.
			log.Warn("offset commit failed", "err", err)
			continue
		}
		for topic := range offsets {
			w.g.m.Commits.WithLabelValues(topic).Inc()
		}
	}
}

// mergeOffsets folds a later run's offsets into an earlier run's: offsets
// only move forward, so the later one wins.
func mergeOffsets(into, later map[string]map[int]int64) map[string]map[int]int64 {
	if len(into) == 0 {
		return later
	}
	for topic, parts := range later {
		if into[topic] == nil {
			into[topic] = map[int]int64{}
		}
		for p, off := range parts {
			into[topic][p] = off
		}
	}
	return into
}
