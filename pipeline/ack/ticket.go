// Package ack tracks when everything derived from a run of Kafka messages
// is durable, so that their offset can be committed and not before.
package ack

import "sync/atomic"

// Ticket stands for one sealed run of a partition's messages. Each chunk of
// output derived from the run holds the ticket (Add) and releases it once
// written (Done); the ticket is done when its creator has armed it and every
// chunk is written. Offset is what to commit then: the next offset to read.
type Ticket struct {
	Offset int64
	// Replay marks the ticket of messages read again to rebuild state:
	// everything derived from them was published before, so handlers
	// update their state and hand nothing to a sink.
	Replay  bool
	pending atomic.Int64
	done    chan struct{}
	hurried atomic.Bool
}

// New returns an unarmed ticket for the run that ends before offset.
func New(offset int64) *Ticket {
	t := &Ticket{Offset: offset, done: make(chan struct{})}
	t.pending.Store(1) // the creator's hold, released by Arm
	return t
}

// NewReplay returns the ticket handlers see while state is rebuilt.
func NewReplay() *Ticket {
	t := New(0)
	t.Replay = true
	return t
}

// Add records one more chunk that must be written before the ticket is done.
func (t *Ticket) Add() { t.pending.Add(1) }

// Done records that one chunk is durable.
func (t *Ticket) Done() {
	if t.pending.Add(-1) == 0 {
		close(t.done)
	}
}

// Arm says no more chunks will be added.
func (t *Ticket) Arm() { t.Done() }

// Hurry marks the run as the end of a backlog: its partition has caught
// up after working through one, and a sink that takes a chunk of the run
// writes it, and what it holds with it, at once rather than at its next
// timed write, so that what was read is committed as soon as it is
// handled. Called before the run's chunks are handed over at its seal:
// a sink that holds chunks of the run handed over earlier, and takes
// none at the seal, writes them at its timed write as before.
func (t *Ticket) Hurry() { t.hurried.Store(true) }

// Hurried reports whether the run ends a backlog (see Hurry).
func (t *Ticket) Hurried() bool { return t.hurried.Load() }

// Wait is closed when the ticket is done.
func (t *Ticket) Wait() <-chan struct{} { return t.done }

// IsDone reports whether the ticket is done, without blocking.
func (t *Ticket) IsDone() bool {
	select {
	case <-t.done:
		return true
	default:
		return false
	}
}
