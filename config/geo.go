package config

import "math"

const earthRadiusM = 6371008.8

// distanceM is the great-circle distance in metres (haversine).
func distanceM(lat1, lon1, lat2, lon2 float64) float64 {
	rad := math.Pi / 180
	dLat := (lat2 - lat1) * rad
	dLon := (lon2 - lon1) * rad
	a := math.Sin(dLat/2)*math.Sin(dLat/2) +
		math.Cos(lat1*rad)*math.Cos(lat2*rad)*math.Sin(dLon/2)*math.Sin(dLon/2)
	return 2 * earthRadiusM * math.Asin(math.Min(1, math.Sqrt(a)))
}

// Contains reports whether lat, lon lies inside the geofence around the
// dock at home: within RadiusM of it, or inside Polygon (even-odd rule,
// treating lat/lon as plane coordinates, fine at city scale).
func (g Geofence) Contains(home Position, lat, lon float64) bool {
	if len(g.Polygon) >= 3 {
		return inPolygon(g.Polygon, lat, lon)
	}
	return distanceM(home.Lat, home.Lon, lat, lon) <= g.RadiusM
}

func inPolygon(poly [][2]float64, lat, lon float64) bool {
	in := false
	for i, j := 0, len(poly)-1; i < len(poly); j, i = i, i+1 {
		yi, xi := poly[i][0], poly[i][1]
		yj, xj := poly[j][0], poly[j][1]
		if (yi > lat) != (yj > lat) && lon < (xj-xi)*(lat-yi)/(yj-yi)+xi {
			in = !in
		}
	}
	return in
}
