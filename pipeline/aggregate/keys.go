// Package aggregate turns input events into the ClickHouse aggregates: per
// H3 cell and minute, and per user and day. Each partition worker owns one
// handler per topic and sums in plain maps (the pings, four events in
// five, in an index of their own, see cellIndex, and their distinct users
// straight to columns, see Pings.seen); a seal turns them into columnar
// chunks, so the per-event cost is a decode, a cell lookup and a map
// update, with no locks.
package aggregate

import (
	"time"

	"everywhere/geo"
)

// cellMinute keys the per-cell, per-minute tables.
type cellMinute struct {
	cell   uint64
	minute int64 // Unix minutes
}

// cellIndex numbers a run's cellMinute keys, for a table of rows by
// number: one lookup per ping, which adds the key if it is new. A Go map
// of the 16-byte key hashed it with the runtime's generic hash and probed
// a group, 2.3% of a catch-up's CPU; here a key is mixed in a few
// multiplications and probed in place. Linear probing, at most half
// full.
type cellIndex struct {
	slots []cellSlot
	n     int
}

// cellSlot is a place of cellIndex: a key and its number plus one, 0 for
// an empty place.
type cellSlot struct {
	k   cellMinute
	num int32
}

// at returns the number of k, giving it next if it has none (added).
func (x *cellIndex) at(k cellMinute, next int32) (num int32, added bool) {
	if 2*(x.n+1) > len(x.slots) {
		x.grow()
	}
	mask := uint64(len(x.slots) - 1)
	for i := x.hash(k) & mask; ; i = (i + 1) & mask {
		s := &x.slots[i]
		if s.num == 0 {
			*s = cellSlot{k, next + 1}
			x.n++
			return next, true
		}
		if s.k == k {
			return s.num - 1, false
		}
	}
}

func (x *cellIndex) hash(k cellMinute) uint64 {
	return mix64(k.cell ^ uint64(k.minute)*0x9e3779b97f4a7c15)
}

// grow doubles the places and puts every key back.
func (x *cellIndex) grow() {
	old := x.slots
	x.slots = make([]cellSlot, max(256, 2*len(old)))
	mask := uint64(len(x.slots) - 1)
	for _, s := range old {
		if s.num == 0 {
			continue
		}
		i := x.hash(s.k) & mask
		for x.slots[i].num != 0 {
			i = (i + 1) & mask
		}
		x.slots[i] = s
	}
}

// reset forgets every key, keeping the room.
func (x *cellIndex) reset() {
	clear(x.slots)
	x.n = 0
}

func minuteOf(ts int64) int64 { return ts / 60_000 }

// minuteTime is minute m as a DateTime column takes it: Unix seconds. A
// column of int64 holds no pointers, where one of time.Time does (its
// location), so the collector passes over it.
func minuteTime(m int64) int64 { return m * 60 }

func dayOf(ts int64) int64 { return ts / 86_400_000 }

func dayTime(d int64) time.Time { return time.Unix(d*86_400, 0).UTC() }

// userHash is FNV-1a of a user id: deterministic across processes and
// restarts, which the distinct-user aggregates rely on.
func userHash(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}

// cell is the aggregate cell of a place: the ancestor at Resolution of
// its cell at PlaceResolution, which it also returns. A ping's place cell
// routes it to matching too, so it is computed once; needs and
// transactions are placed the same way so that every table agrees on
// which cell a place is in (H3's children overhang their parent a little,
// so an ancestor is not always the cell a direct lookup would give).
//
// loc is the calling handler's own locator (see locator): a call into C
// per event was the largest single cost of a ping.
func (e *Env) cell(loc *geo.Locator, lat, lng float64) (agg, place uint64) {
	place = loc.Locate(lat, lng)
	return geo.Parent(place, e.Resolution), place
}

// locator returns a locator of place cells for one handler.
func (e *Env) locator() *geo.Locator {
	if e.Guesses != nil {
		return e.Guesses.Locator()
	}
	return geo.NewLocator(max(e.PlaceResolution, e.Resolution))
}
