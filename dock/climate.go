package dock

import "time"

// stepThermostat switches heater and fan with hysteresis on the inside
// temperature fed through SetWeather. With no reading, or one older than
// WeatherStaleAfter, both are off: no heating blind.
func (c *Controller) stepThermostat(now time.Time, ext externals) {
	t := ext.insideC
	if t == nil || now.Sub(ext.insideAt) > c.opts.WeatherStaleAfter {
		c.heater, c.fan = false, false
		return
	}
	switch {
	case *t < c.opts.HeaterOnC:
		c.heater = true
	case *t > c.opts.HeaterOffC:
		c.heater = false
	}
	switch {
	case *t > c.opts.FanOnC:
		c.fan = true
	case *t < c.opts.FanOffC:
		c.fan = false
	}
}

// stepStrobe flashes the strobe (StrobePeriod, half on) whenever the lid or
// the arms move and while a sortie is active.
func (c *Controller) stepStrobe(now time.Time, ext externals) {
	active := c.lid != nil || c.arms != nil || (ext.sortie != nil && !ext.sortie.Phase.Terminal())
	if !active {
		c.strobeActive, c.strobeOn = false, false
		return
	}
	if !c.strobeActive {
		c.strobeActive, c.strobeOrigin = true, now
	}
	c.strobeOn = now.Sub(c.strobeOrigin)%c.opts.StrobePeriod < c.opts.StrobePeriod/2
}
