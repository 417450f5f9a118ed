// Package circle computes the dock's response circles: the areas a drone
// launched now can reach within 1, 3 and 5 minutes, and the ETA to any
// point.
//
// The drone needs Launch (lid, arms, arming, take-off) and the climb to
// patrol altitude before it flies horizontally; the flight time left of t
// is t' = t - launch - climb. In still air it reaches a circle of radius
// airspeed*t'. In a steady wind w the air mass moves w*t' meanwhile, so the
// reachable area is a circle of the same radius whose centre has drifted
// downwind by w*t'. The ETA to a target at offset d solves |d - w*t'| =
// a*t' exactly (a quadratic in t').
//
// LaunchEstimator turns measured launch times into the launch time used
// here (a high quantile of the recent launches, the configured value until
// enough were measured).
//
// circle imports dock/route for positions, wind and geodesy; it must not
// import package dock (dock imports circle).
package circle
