// Package aggregate turns input events into the ClickHouse aggregates: per
// H3 cell and minute, and per user and day. Each partition worker owns one
// handler per topic and sums in plain maps (the pings' distinct users go
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
