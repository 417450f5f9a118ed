package route

import "math"

// EarthRadiusM is the mean Earth radius in metres used by the spherical
// geodesy helpers (IUGG mean radius R1). On the scale of a dock's patrol
// area (a few km) the spherical model is within 0.5 % of WGS-84.
const EarthRadiusM = 6371008.8

// Point is a position in decimal degrees (WGS-84 latitude and longitude).
type Point struct {
	Lat float64 `json:"lat"`
	Lon float64 `json:"lon"`
}

// Valid reports whether p is a finite latitude in [-90, 90] and longitude in
// [-180, 180].
func (p Point) Valid() bool {
	return !math.IsNaN(p.Lat) && !math.IsNaN(p.Lon) &&
		p.Lat >= -90 && p.Lat <= 90 && p.Lon >= -180 && p.Lon <= 180
}

func rad(deg float64) float64 { return deg * math.Pi / 180 }
func deg(r float64) float64   { return r * 180 / math.Pi }

// Distance returns the great-circle (haversine) distance from a to b in
// metres.
func Distance(a, b Point) float64 {
	φ1, φ2 := rad(a.Lat), rad(b.Lat)
	dφ, dλ := φ2-φ1, rad(b.Lon-a.Lon)
	h := math.Sin(dφ/2)*math.Sin(dφ/2) + math.Cos(φ1)*math.Cos(φ2)*math.Sin(dλ/2)*math.Sin(dλ/2)
	h = math.Min(1, math.Max(0, h))
	return 2 * EarthRadiusM * math.Asin(math.Sqrt(h))
}

// Bearing returns the initial great-circle bearing from a to b in degrees
// clockwise from true north, in [0, 360). It is 0 when a and b coincide.
func Bearing(a, b Point) float64 {
	φ1, φ2 := rad(a.Lat), rad(b.Lat)
	dλ := rad(b.Lon - a.Lon)
	y := math.Sin(dλ) * math.Cos(φ2)
	x := math.Cos(φ1)*math.Sin(φ2) - math.Sin(φ1)*math.Cos(φ2)*math.Cos(dλ)
	return normDeg(deg(math.Atan2(y, x)))
}

// Destination returns the point reached from p by travelling distM metres
// along the great circle with initial bearing bearingDeg (clockwise from
// north). Longitudes are normalised to [-180, 180).
func Destination(p Point, bearingDeg, distM float64) Point {
	δ := distM / EarthRadiusM
	θ := rad(bearingDeg)
	φ1, λ1 := rad(p.Lat), rad(p.Lon)
	sinφ2 := math.Sin(φ1)*math.Cos(δ) + math.Cos(φ1)*math.Sin(δ)*math.Cos(θ)
	sinφ2 = math.Min(1, math.Max(-1, sinφ2))
	φ2 := math.Asin(sinφ2)
	λ2 := λ1 + math.Atan2(math.Sin(θ)*math.Sin(δ)*math.Cos(φ1), math.Cos(δ)-math.Sin(φ1)*sinφ2)
	return Point{Lat: deg(φ2), Lon: normLon(deg(λ2))}
}

// Offset returns the local east and north offsets in metres of p from
// origin on the tangent plane at origin (equirectangular projection). It is
// accurate to well under a metre within 10 km of origin, away from the
// poles.
func Offset(origin, p Point) (eastM, northM float64) {
	dLon := normLon(p.Lon - origin.Lon)
	eastM = rad(dLon) * EarthRadiusM * math.Cos(rad(origin.Lat))
	northM = rad(p.Lat-origin.Lat) * EarthRadiusM
	return eastM, northM
}

// FromOffset is the inverse of Offset: the point eastM and northM metres
// from origin. At the poles, where east is undefined, only northM applies.
func FromOffset(origin Point, eastM, northM float64) Point {
	lat := origin.Lat + deg(northM/EarthRadiusM)
	c := math.Cos(rad(origin.Lat))
	lon := origin.Lon
	if c > 1e-12 {
		lon = normLon(origin.Lon + deg(eastM/(EarthRadiusM*c)))
	}
	return Point{Lat: lat, Lon: lon}
}

func normDeg(d float64) float64 {
	d = math.Mod(d, 360)
	if d < 0 {
		d += 360
	}
	return d
}

func normLon(d float64) float64 {
	if d >= -180 && d < 180 {
		return d
	}
	return normDeg(d+180) - 180
}
