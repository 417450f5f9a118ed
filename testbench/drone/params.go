package drone

import (
	"math"
	"strings"
)

// MAV_PARAM_TYPE values used by the table.
const (
	paramInt8   = 2
	paramInt16  = 4
	paramInt32  = 6
	paramReal32 = 9
)

// param is one parameter: ArduPilot name, value, and MAV_PARAM_TYPE. As
// ArduPilot does, PARAM_VALUE carries the value cast to float.
type param struct {
	name  string
	value float64
	typ   uint8
}

// params is the vehicle's small parameter table, in a fixed order (the
// PARAM_VALUE index).
type params struct {
	list []param
}

// newParams returns ArduCopter's defaults for the parameters the
// simulator uses (units as ArduPilot's: cm, cm/s, ms, mAh), plus SITL's
// wind parameters.
func newParams() params {
	return params{list: []param{
		{"ARMING_CHECK", 1, paramInt32},
		{"BATT_CAPACITY", 5200, paramInt32},
		{"BATT_CRT_MAH", 520, paramReal32},
		{"BATT_FS_CRT_ACT", 1, paramInt8}, // 1 Land
		{"BATT_FS_LOW_ACT", 2, paramInt8}, // 2 RTL
		{"BATT_LOW_MAH", 1040, paramReal32},
		{"DISARM_DELAY", 10, paramInt8},
		{"FENCE_ENABLE", 1, paramInt8},
		{"LAND_ALT_LOW", 1000, paramInt16},
		{"LAND_SPEED", 50, paramInt16},
		{"PILOT_ACCEL_Z", 250, paramInt16},
		{"PILOT_SPEED_DN", 0, paramInt16}, // 0: PILOT_SPEED_UP
		{"PILOT_SPEED_UP", 250, paramInt16},
		{"RTL_ALT", 1500, paramInt32},
		{"RTL_LOIT_TIME", 5000, paramInt32},
		{"RTL_SPEED", 0, paramInt16},
		{"SIM_WIND_DIR", 180, paramReal32},
		{"SIM_WIND_SPD", 0, paramReal32},
		{"SYSID_THISMAV", 1, paramInt16},
		{"WPNAV_ACCEL", 250, paramReal32},
		{"WPNAV_ACCEL_Z", 100, paramReal32},
		{"WPNAV_RADIUS", 200, paramReal32},
		{"WPNAV_SPEED", 1000, paramReal32},
		{"WPNAV_SPEED_DN", 150, paramReal32},
		{"WPNAV_SPEED_UP", 250, paramReal32},
	}}
}

// find returns the index of name, or -1.
func (p *params) find(name string) int {
	for i := range p.list {
		if p.list[i].name == name {
			return i
		}
	}
	return -1
}

func (p *params) get(name string) float64 {
	if i := p.find(name); i >= 0 {
		return p.list[i].value
	}
	panic("drone: unknown parameter " + name) // programmer bug: names are fixed
}

// set sets a known parameter, rounding integer types as ArduPilot stores
// them, and reports whether name is known.
func (p *params) set(name string, v float64) bool {
	i := p.find(name)
	if i < 0 || math.IsNaN(v) || math.IsInf(v, 0) || math.Abs(v) > 1e7 {
		return false
	}
	if p.list[i].typ != paramReal32 {
		v = float64(int64(v + 0.5*sign(v)))
	}
	p.list[i].value = v
	return true
}

func sign(v float64) float64 {
	if v < 0 {
		return -1
	}
	return 1
}

// paramName returns the name held in a MAVLink char[16] param_id.
func paramName(id []byte) string {
	s := string(id)
	if i := strings.IndexByte(s, 0); i >= 0 {
		s = s[:i]
	}
	return s
}

// applyParams copies the parameters into the vehicle's working values.
func (v *vehicle) applyParams() {
	p := &v.params
	v.wpSpeed = p.get("WPNAV_SPEED") / 100
	v.speedUp = p.get("WPNAV_SPEED_UP") / 100
	v.speedDn = p.get("WPNAV_SPEED_DN") / 100
	v.accel = max(0.5, p.get("WPNAV_ACCEL")/100)
	v.accelZ = max(0.5, p.get("WPNAV_ACCEL_Z")/100)
	v.pilotUp = max(0.5, p.get("PILOT_SPEED_UP")/100)
	v.pilotDn = v.pilotUp // ArduCopter: PILOT_SPEED_DN 0 means PILOT_SPEED_UP
	if dn := p.get("PILOT_SPEED_DN"); dn > 0 {
		v.pilotDn = max(0.5, dn/100)
	}
	v.pilotAccel = max(0.5, p.get("PILOT_ACCEL_Z")/100)
	v.radius = max(0.5, p.get("WPNAV_RADIUS")/100)
	v.landSpeed = max(0.1, p.get("LAND_SPEED")/100)
	v.landAltLow = p.get("LAND_ALT_LOW") / 100
	v.rtlAlt = p.get("RTL_ALT") / 100
	v.rtlLoiter = p.get("RTL_LOIT_TIME") / 1000
	v.rtlSpeed = p.get("RTL_SPEED") / 100
	v.disarmDelay = p.get("DISARM_DELAY")
	v.capacityMAh = max(100, p.get("BATT_CAPACITY"))
	v.lowMAh = p.get("BATT_LOW_MAH")
	v.crtMAh = p.get("BATT_CRT_MAH")
	v.fsLowAct = int(p.get("BATT_FS_LOW_ACT"))
	v.fsCrtAct = int(p.get("BATT_FS_CRT_ACT"))
	v.fence = p.get("FENCE_ENABLE") != 0
	v.armingCheck = p.get("ARMING_CHECK") != 0
	v.windSpd = p.get("SIM_WIND_SPD")
	v.windFrom = p.get("SIM_WIND_DIR")
	if v.speedUp <= 0 {
		v.speedUp = 2.5
	}
	if v.speedDn <= 0 {
		v.speedDn = 1.5
	}
	if v.wpSpeed < 0.1 {
		v.wpSpeed = 0.1 // AC_WPNav's floor, WPNAV_WP_SPEED_MIN_CMS
	}
}
