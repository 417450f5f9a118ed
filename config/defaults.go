package config

import "time"

// This file is the one place defaults live; README.md lists them for
// people. A default applies where the key is absent from the file. Three
// mechanisms, in this order:
//
//  1. Default() is the starting point the file is decoded over, so a key
//     that is present wins even when its value is zero (temp_min_c: 0).
//  2. An element created while decoding (a bus, a register, a schedule, an
//     optional section such as tls) starts from its setDefaults.
//  3. applyDerived fills values that depend on other values (client_id and
//     topic_prefix from id) or on the signal kind, where 0 / "" means "use
//     the default".

// Default values that other packages may want to show or compare against.
const (
	DefaultStateDir    = "/var/lib/dock-agent"
	DefaultVehicleBaud = 57600
	DefaultBusBaud     = 9600
	DefaultDebounce    = 20 * time.Millisecond
	DefaultGeofenceM   = 5000.0
)

// Default returns a Config holding every default and nothing a dock must
// say itself (id, position, brokers, vehicle url, signals, weather
// station). Use it as the base of a generated config.
func Default() *Config {
	return &Config{
		StateDir: DefaultStateDir,
		MQTT: MQTT{
			Keepalive:               30 * time.Second,
			ConnectTimeout:          10 * time.Second,
			TelemetryRateHz:         2,
			StateInterval:           60 * time.Second,
			TelemetryDockedInterval: 10 * time.Second,
			MAVLinkBridge:           false,
			OutboxMaxEvents:         100000,
			DedupeWindow:            24 * time.Hour,
		},
		Vehicle: Vehicle{
			SystemID:         245,
			ComponentID:      191, // MAV_COMP_ID_ONBOARD_COMPUTER
			TargetSystem:     0,
			HeartbeatTimeout: 3 * time.Second,
			StreamRates: map[string]float64{
				"GLOBAL_POSITION_INT": 5,
				"ATTITUDE":            5,
				"SYS_STATUS":          2,
				"GPS_RAW_INT":         2,
				"VFR_HUD":             4,
				"BATTERY_STATUS":      1,
				"EXTENDED_SYS_STATE":  1,
				"HOME_POSITION":       0.5,
				"MISSION_CURRENT":     1,
				// The EKF's position estimate gates every launch
				// (ArduPilot refuses to arm without it).
				"EKF_STATUS_REPORT": 1,
			},
			// What readiness and the docked telemetry read (battery, GPS,
			// EKF, landed state, position: the 1 s readiness tick and a
			// 10 s telemetry message): 7 msgs/s with the heartbeat
			// instead of 23. Attitude, VFR_HUD and the mission item wait
			// for a sortie.
			DockedStreamRates: map[string]float64{
				"GLOBAL_POSITION_INT": 1,
				"SYS_STATUS":          1,
				"GPS_RAW_INT":         1,
				"BATTERY_STATUS":      1,
				"EXTENDED_SYS_STATE":  1,
				"EKF_STATUS_REPORT":   1,
				"HOME_POSITION":       0.2,
			},
		},
		Actuators: Actuators{
			LidTimeout:  25 * time.Second,
			ArmsTimeout: 8 * time.Second,
			LidTravel:   12 * time.Second,
			ArmsTravel:  4 * time.Second,
			// dock.ControllerOptions' default.
			LimitLeaveTimeout: 2 * time.Second,
		},
		Weather: Weather{
			Unit:         1,
			Function:     3,
			PollInterval: time.Second,
			StaleAfter:   5 * time.Second,
		},
		Climate: Climate{
			HeaterOnBelowC: 5,
			FanOnAboveC:    35,
			HysteresisC:    2,
		},
		Limits: Limits{
			WindMPS:           12,
			GustMPS:           15,
			BlockOnRain:       true,
			TempMinC:          -10,
			TempMaxC:          45,
			BatteryReservePct: 25,
			MinSats:           8,
			MaxHDOP:           2,
			HeartbeatMaxAge:   3 * time.Second,
			ClearanceAltM:     15,
			MaxAltM:           120,
		},
		Flight: Flight{
			CruiseSpeedMPS: 15,
			ClimbMPS:       5,
			PatrolAltM:     60,
			LaunchTime:     15 * time.Second,
			DefaultLoiter:  120 * time.Second,
			AlertWindow:    90 * time.Second,
			HoverPctPerMin: 3,
			CruisePctPerKm: 2,
			ChargeTarget:   "ready",
		},
		Log: Log{Level: "info", Format: "auto"},
	}
}

// defaulter is implemented by the elements the decoder creates (map and
// slice elements, optional sections); the decoder calls setDefaults on a
// new element before decoding the file's keys into it.
type defaulter interface{ setDefaults() }

func (b *Bus) setDefaults() {
	*b = Bus{
		Baud:         DefaultBusBaud,
		Parity:       "N",
		StopBits:     1,
		Timeout:      200 * time.Millisecond,
		Retries:      2,
		PollInterval: 50 * time.Millisecond,
	}
}

func (r *Register) setDefaults() { *r = Register{Type: "u16", Scale: 1} }

func (s *Schedule) setDefaults() { *s = Schedule{TimeZone: "Local", Grace: 5 * time.Minute} }

func (s *CommandSigning) setDefaults() { *s = CommandSigning{Window: 30 * time.Second} }

func (t *TLog) setDefaults() { *t = TLog{MaxBytes: 64 << 20, Keep: 20} }

// applyDerived fills the defaults that depend on other values.
func applyDerived(c *Config) {
	if c.MQTT.ClientID == "" && c.ID != "" {
		c.MQTT.ClientID = "dock-agent-" + c.ID
	}
	if c.MQTT.TopicPrefix == "" && c.ID != "" {
		c.MQTT.TopicPrefix = "dock/" + c.ID + "/"
	}
	if c.Vehicle.Baud == 0 && isSerialPath(c.Vehicle.URL) {
		c.Vehicle.Baud = DefaultVehicleBaud
	}
	if c.Weather.Device != "" && c.Weather.Baud == 0 {
		c.Weather.Baud = DefaultBusBaud
	}
	for name, b := range c.Signals {
		if k, _ := SignalKindOf(name); k == SignalInput && b.Debounce == 0 {
			b.Debounce = DefaultDebounce
			c.Signals[name] = b
		}
	}
	if c.Limits.Geofence.RadiusM == 0 && len(c.Limits.Geofence.Polygon) == 0 {
		c.Limits.Geofence.RadiusM = DefaultGeofenceM
	}
}
