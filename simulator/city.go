// Package simulator generates a synthetic city for the engine: users with
// homes, workplaces and a daily routine, helpers going available and
// unavailable, needs on a daily rhythm with their outcomes, purchases that
// follow each user's own habits (a few users are rich), transfers and
// rewards between friends, and injected fraud episodes of every contract
// pattern next to honest look-alikes. What was injected is written as
// labels, the truth the fraud detector is scored against.
//
// Generation is deterministic for a seed and runs in event time; how fast
// event time passes against the wall clock is the publisher's business.
package simulator

import (
	"math"
	"math/rand/v2"
)

// City is a place to simulate: a centre and districts where people live,
// work and go out, each a Gaussian spread around a point.
type City struct {
	Name      string
	Lat, Lng  float64
	Districts []District
	// Far is another city, for honest flights and impossible travel.
	Far struct {
		Name     string
		Lat, Lng float64
	}
}

// District is a dense part of the city.
type District struct {
	Name     string
	Lat, Lng float64
	SigmaM   float64 // spread in metres
	Weight   float64 // share of homes and workplaces
}

// Hangzhou is the default city: about 30 x 25 km around West Lake.
func Hangzhou() City {
	c := City{Name: "Hangzhou", Lat: 30.2741, Lng: 120.1551, Districts: []District{
		{"West Lake", 30.2590, 120.1480, 1500, 1},
		{"Wulin", 30.2780, 120.1640, 1200, 1.5},
		{"Qianjiang New City", 30.2460, 120.2100, 1500, 1.2},
		{"Binjiang", 30.2080, 120.2110, 2500, 1.3},
		{"Xixi", 30.2720, 120.0750, 2500, 1},
		{"Gongshu", 30.3200, 120.1500, 2500, 1},
		{"Xiasha", 30.3050, 120.3400, 3000, 0.7},
		{"Future Sci-Tech City", 30.2900, 120.0200, 3000, 0.8},
	}}
	c.Far.Name, c.Far.Lat, c.Far.Lng = "Beijing", 39.9042, 116.4074
	return c
}

// metres per degree of latitude; of longitude it scales with cos(lat).
const mPerDeg = 111_195.0

// around returns a point Gaussian-distributed around (lat, lng).
func around(r *rand.Rand, lat, lng, sigmaM float64) (float64, float64) {
	dlat := r.NormFloat64() * sigmaM / mPerDeg
	dlng := r.NormFloat64() * sigmaM / (mPerDeg * math.Cos(lat*math.Pi/180))
	return lat + dlat, lng + dlng
}

// place draws a point from the district mixture, spread by widen.
func (c *City) place(r *rand.Rand, widen float64) (float64, float64) {
	total := 0.0
	for _, d := range c.Districts {
		total += d.Weight
	}
	x := r.Float64() * total
	for _, d := range c.Districts {
		if x < d.Weight {
			return around(r, d.Lat, d.Lng, d.SigmaM*widen)
		}
		x -= d.Weight
	}
	d := c.Districts[0]
	return around(r, d.Lat, d.Lng, d.SigmaM*widen)
}
