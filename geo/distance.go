package geo

import "math"

// EarthRadiusM is the mean Earth radius, as ClickHouse's greatCircleDistance
// and H3 use it.
const EarthRadiusM = 6371008.8

// DistanceM is the great-circle distance in metres (haversine).
func DistanceM(lat1, lng1, lat2, lng2 float64) float64 {
	p1, p2 := lat1*degToRad, lat2*degToRad
	dp := p2 - p1
	dl := (lng2 - lng1) * degToRad
	a := math.Sin(dp/2)*math.Sin(dp/2) + math.Cos(p1)*math.Cos(p2)*math.Sin(dl/2)*math.Sin(dl/2)
	return 2 * EarthRadiusM * math.Asin(math.Min(1, math.Sqrt(a)))
}
