package consumers

import (
	"errors"

	"github.com/segmentio/kafka-go"
)

// committer sends the offset commits of every worker of a group, one
// request at a time, and folds the commits that ask meanwhile into the
// next request.
//
// Why one at a time: kafka-go's Generation sends every commit over its one
// connection to the group coordinator, and a goroutine waiting there for
// its answer spins while another's answer is at the head of the
// connection (Conn.waitResponse takes the read lock, sets the deadline,
// peeks at the answer's id, lets the lock go and tries again). While
// catching up, dozens of workers seal runs and commit many times a
// second: a CPU profile of a catch-up at 1,000,000 users found 3.6% of
// the engine's CPU in that loop. With one request in flight there is
// nothing to spin on, and one request carries every partition's offsets,
// one round trip where there were many.
type committer struct {
	asks     chan commitAsk
	stop     chan struct{} // closed when the group stops: asks fail from then on
	requests int           // sent, for the tests; only run touches it
}

// commitAsk is one worker's commit: its offsets, in its generation, and
// where the answer goes (the worker's own channel, with room for one).
type commitAsk struct {
	gen     *kafka.Generation
	offsets map[string]map[int]int64
	answer  chan error
}

// errStopped answers a commit asked after the group stopped.
var errStopped = errors.New("consumer group stopped")

// newCommitter starts a committer; stop it with close(c.stop) once no
// worker is left to ask (a worker's commit loop can outlast its worker
// by a drain timeout: its asks then fail with errStopped).
func newCommitter() *committer {
	c := &committer{asks: make(chan commitAsk), stop: make(chan struct{})}
	go c.run()
	return c
}

// commit commits offsets in gen and returns when they are committed, or
// the commit failed.
func (c *committer) commit(gen *kafka.Generation, offsets map[string]map[int]int64, answer chan error) error {
	select {
	case <-c.stop: // first: the select below picks at random among ready cases
		return errStopped
	default:
	}
	select {
	case c.asks <- commitAsk{gen: gen, offsets: offsets, answer: answer}:
	case <-c.stop:
		return errStopped
	}
	select {
	case err := <-answer:
		return err
	case <-c.stop:
		return errStopped
	}
}

// run sends the commits: each request carries the ask it waited for and
// every ask of the same generation that came while the previous request
// was in flight. Asks of another generation (one that ended and one that
// began) never share a request.
func (c *committer) run() {
	var batch []commitAsk
	var held *commitAsk // an ask of another generation, for the next request
	for {
		batch = batch[:0]
		if held != nil {
			batch, held = append(batch, *held), nil
		} else {
			select {
			case a := <-c.asks:
				batch = append(batch, a)
			case <-c.stop:
				return
			}
		}
	gather:
		for held == nil {
			select {
			case a := <-c.asks:
				if a.gen != batch[0].gen {
					held = &a
					break gather
				}
				batch = append(batch, a)
			default:
				break gather
			}
		}
		offsets := batch[0].offsets
		if len(batch) > 1 {
			// A fresh map: each worker still reads its own after the answer.
			offsets = map[string]map[int]int64{}
			for _, a := range batch {
				for topic, parts := range a.offsets {
					if offsets[topic] == nil {
						offsets[topic] = map[int]int64{}
					}
					for p, off := range parts {
						offsets[topic][p] = off
					}
				}
			}
		}
		err := batch[0].gen.CommitOffsets(offsets)
		c.requests++
		for _, a := range batch {
			a.answer <- err
		}
	}
}
