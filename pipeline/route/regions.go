// Package route re-keys matching input by region. Pings, profiles,
// outcomes and alerts arrive keyed by user, and needs by need id; matching
// needs a need and every helper who could serve it in one place. A region
// is a coarse H3 cell: a need goes to the partition of its region, and a
// helper to the partition of every region within the largest radius a need
// may have, so the partition of a need's region sees every helper who can
// reach it. Each record carries its source's event-time watermark, so the
// matcher can merge the sources in event-time order (see package matching).
package route

import (
	"math"
	"strconv"

	"github.com/segmentio/kafka-go"

	"everywhere/geo"
)

// ReachResolution is the resolution at which the regions a helper reaches
// are worked out once and cached: cells of about 0.7 km2, a few thousand
// in a city, each worked out in about 4 µs by a router the first time
// one of its helpers is there. A helper's reach is widened by at most a
// cell's size: 606 m from its centre to any place whose finest cell
// descends from it (TestReachCellBound).
//
// The finer the cell, the fewer helpers go to partitions none of whose
// needs can reach them. A helper of the benchmarks' city reaches 1.57
// partitions on average by its exact place; 1.64 by its cell at
// resolution 8, and 2.08 at 6 (36 km2 and a widening of 4.5 km), which
// the routers used before. An engine upgraded from 6 stops telling those
// extra partitions of a helper: each keeps the helper's last state, which
// no need there can reach, and which goes stale like any helper's that
// stops pinging.
const (
	ReachResolution = 8
	reachCellM      = 650
)

// Regions maps places to regions and regions to partitions of the regions
// topic. It is owned by one goroutine.
type Regions struct {
	res        int
	maxRadiusM float64
	parts      []int
	balancer   kafka.Murmur2Balancer
	reach      map[uint64]uint64 // ReachResolution cell → partitions reached
	// outlines are the corners of the regions reachOf has looked at: a
	// few dozen regions around a city, and each outline, worked out by a
	// call into H3's C, was three quarters of reachOf's cost.
	outlines map[uint64][][2]float64
}

// NewRegions returns the regions of H3 resolution res spread over
// partitions partitions, for needs of at most maxRadiusM. partitions is at
// most 64.
func NewRegions(res int, maxRadiusM float64, partitions int) *Regions {
	r := &Regions{res: res, maxRadiusM: maxRadiusM, reach: map[uint64]uint64{}, outlines: map[uint64][][2]float64{}}
	for p := range partitions {
		r.parts = append(r.parts, p)
	}
	return r
}

// Partitions is the partition count of the regions topic.
func (r *Regions) Partitions() int { return len(r.parts) }

// Of returns the region of a place and its partition.
func (r *Regions) Of(lat, lng float64) (region uint64, partition int) {
	region = geo.Cell(lat, lng, r.res)
	return region, r.partition(region)
}

// partition hashes the region's id as a Kafka producer would hash it as a
// key, so the layout is the same whoever writes it.
func (r *Regions) partition(region uint64) int {
	var key [16]byte
	return r.balancer.Balance(kafka.Message{Key: strconv.AppendUint(key[:0], region, 16)}, r.parts...)
}

// Reach returns the set of partitions (bit p for partition p) holding a
// region within maxRadiusM of a place, given as its cell at any
// resolution from ReachResolution up.
func (r *Regions) Reach(cell uint64) uint64 {
	c := geo.Parent(cell, ReachResolution)
	if m, ok := r.reach[c]; ok {
		return m
	}
	clat, clng := geo.Centre(c)
	m := r.reachOf(clat, clng, r.maxRadiusM+reachCellM)
	r.reach[c] = m
	return m
}

// reachOf finds the regions with a point within d of (lat, lng): walking
// rings of regions outwards until a whole ring lies beyond d, and taking
// each region whose outline comes within d.
func (r *Regions) reachOf(lat, lng, d float64) uint64 {
	home := geo.Cell(lat, lng, r.res)
	mask := uint64(1) << r.partition(home)
	for k := 1; ; k++ {
		any := false
		for _, c := range geo.Ring(home, k) {
			if distanceTo(lat, lng, r.outline(c)) <= d {
				mask |= 1 << r.partition(c)
				any = true
			}
		}
		if !any {
			return mask
		}
	}
}

// outline returns the corners of region c's outline.
func (r *Regions) outline(c uint64) [][2]float64 {
	b, ok := r.outlines[c]
	if !ok {
		b = geo.AppendBoundary(nil, c)
		r.outlines[c] = b
	}
	return b
}

// distanceTo is the distance from a point outside a cell to the cell's
// outline b, in a local flat projection (exact to well under 1% at the
// size of a region).
func distanceTo(lat, lng float64, b [][2]float64) float64 {
	const mPerDeg = geo.EarthRadiusM * math.Pi / 180
	cos := math.Cos(lat * math.Pi / 180)
	xy := func(p [2]float64) (float64, float64) {
		dlng := p[1] - lng
		if dlng > 180 {
			dlng -= 360
		} else if dlng < -180 {
			dlng += 360
		}
		return dlng * mPerDeg * cos, (p[0] - lat) * mPerDeg
	}
	best := math.Inf(1)
	for i := range b {
		ax, ay := xy(b[i])
		bx, by := xy(b[(i+1)%len(b)])
		best = math.Min(best, segmentDistance(ax, ay, bx, by))
	}
	return best
}

// segmentDistance is the distance from the origin to segment a-b.
func segmentDistance(ax, ay, bx, by float64) float64 {
	dx, dy := bx-ax, by-ay
	t := 0.0
	if l := dx*dx + dy*dy; l > 0 {
		t = math.Max(0, math.Min(1, -(ax*dx+ay*dy)/l))
	}
	x, y := ax+t*dx, ay+t*dy
	return math.Sqrt(x*x + y*y)
}
