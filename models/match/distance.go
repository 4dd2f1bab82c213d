package match

import (
	"math"

	"everywhere/events"
	"everywhere/geo"
)

// dist is the equirectangular distance from the need, exact to a metre at
// the scale of a search radius and several times cheaper than haversine.
func (x *Index) dist(n *events.Need, lat, lng float64) float64 {
	return flatDistM(n.Lat, n.Lng, x.cosLat, lat, lng)
}

// CosLat is the cosine of a latitude in degrees, which distances from a
// need scale longitudes by; a caller who asks about one need many times
// computes it once.
func CosLat(lat float64) float64 { return math.Cos(lat * math.Pi / 180) }

// flatDistM is the distance in metres from (nlat, nlng), whose latitude's
// cosine is cosLat, to (lat, lng), in a flat projection around the first
// point: exact to well under 1% within a need's radius.
func flatDistM(nlat, nlng, cosLat, lat, lng float64) float64 {
	return math.Sqrt(flatDist2M(nlat, nlng, cosLat, lat, lng))
}

// flatDist2M is the square of flatDistM, for a comparison that needs no
// root. It multiplies as filter does, one factor per axis: a helper
// found by a query and the same helper scored by Suggest must have the
// same distance to the last bit, or two helpers tied in score rank by
// how each was found rather than by id.
func flatDist2M(nlat, nlng, cosLat, lat, lng float64) float64 {
	const mPerDeg = geo.EarthRadiusM * math.Pi / 180
	dy := (lat - nlat) * mPerDeg
	dx := (lng - nlng) * (mPerDeg * cosLat)
	return dx*dx + dy*dy
}
