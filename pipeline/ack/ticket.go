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
