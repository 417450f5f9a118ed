package config

import (
	"log/slog"
	"time"
)

// MaxBridgeBatch bounds mqtt.mavlink_bridge_batch: 64 frames of at most
// 280 bytes keep a `mavlink/out` message under 18 KB.
const MaxBridgeBatch = 64

// Config is one dock, as described by its YAML file. Load and Parse return
// it with the defaults of defaults.go applied and everything validated. To
// generate a file, start from Default, set fields, then Marshal or
// WriteFile: every field has a yaml tag, and Parse(Marshal(c)) gives c back.
//
// Other packages never take a whole Config: cmd/agent/app builds each
// package's own Options from it.
type Config struct {
	// ID names the dock in MQTT topics: lower-case letters, digits, '-' and
	// '_', at most 64 characters. Required.
	ID string `yaml:"id"`
	// Position is the surveyed dock position (home of every sortie). Required.
	Position Position `yaml:"position"`
	// StateDir holds the durable outbox and sortie store.
	StateDir string  `yaml:"state_dir"`
	MQTT     MQTT    `yaml:"mqtt"`
	Vehicle  Vehicle `yaml:"vehicle"`
	// Buses are the named RS-485 lines (Modbus RTU I/O modules, weather
	// station) that signals and the weather station refer to by name.
	Buses map[string]Bus `yaml:"buses,omitempty"`
	// Signals binds each dock signal (see Signals for the names) to a GPIO
	// line or a Modbus coil / discrete input.
	Signals   map[string]Binding `yaml:"signals"`
	Actuators Actuators          `yaml:"actuators"`
	Weather   Weather            `yaml:"weather"`
	Climate   Climate            `yaml:"climate"`
	Limits    Limits             `yaml:"limits"`
	Flight    Flight             `yaml:"flight"`
	// Routes are the patrol routes by name ([a-z0-9_-]).
	Routes    map[string]Route `yaml:"routes,omitempty"`
	Schedules []Schedule       `yaml:"schedules,omitempty"`
	Metrics   Metrics          `yaml:"metrics"`
	HTTP      HTTP             `yaml:"http,omitempty"`
	Log       Log              `yaml:"log"`

	// files is what Load found out about the files the config names
	// (secret files missing under AllowMissingSecrets); Summary prints it.
	files []fileNote
}

// Position is a WGS84 position. AltM is metres above mean sea level.
type Position struct {
	Lat  float64 `yaml:"lat"`
	Lon  float64 `yaml:"lon"`
	AltM float64 `yaml:"alt_m"`
	// PadRadiusM is how far from Lat/Lon a vehicle on the ground still
	// stands on the landing pad: "docked" and "landed" need it, home is
	// taken from the vehicle only within it. Default 5 m.
	PadRadiusM float64 `yaml:"pad_radius_m,omitempty"`
}

// MQTT is the connection to the command centre's broker.
type MQTT struct {
	// Brokers are tried in order: tcp://, mqtt://, ssl://, tls://,
	// mqtts://, tcps://, ws:// or wss:// URLs (all but ws and wss need a
	// port; ParseBrokerURL is the one table of schemes). At least one.
	Brokers  []string `yaml:"brokers"`
	ClientID string   `yaml:"client_id"`
	// TLS is nil for plain connections; ssl://, tls:// and wss:// use the
	// system roots when it is nil.
	TLS      *TLS   `yaml:"tls,omitempty"`
	Username string `yaml:"username,omitempty"`
	// Password inline; prefer PasswordFile, which keeps it out of the YAML.
	// Not both.
	Password     Secret `yaml:"password,omitempty"`
	PasswordFile string `yaml:"password_file,omitempty"`
	// TopicPrefix ends with '/' and holds no wildcards.
	TopicPrefix    string        `yaml:"topic_prefix"`
	Keepalive      time.Duration `yaml:"keepalive"`
	ConnectTimeout time.Duration `yaml:"connect_timeout"`
	// TelemetryRateHz is the rate of the telemetry topic, 0.1..10 Hz.
	TelemetryRateHz float64 `yaml:"telemetry_rate_hz"`
	// StateInterval is the keep-alive period of the retained state: a
	// state that changed goes out at once, an unchanged one this often.
	StateInterval time.Duration `yaml:"state_interval"`
	// TelemetryDockedInterval is the telemetry period while the vehicle
	// sits docked and disarmed (a metered link need not carry 2 Hz of a
	// drone that does not move); set it to the telemetry period to keep
	// the full rate.
	TelemetryDockedInterval time.Duration `yaml:"telemetry_docked_interval"`
	// CommandSigning, when set, requires an HMAC on every command.
	CommandSigning *CommandSigning `yaml:"command_signing,omitempty"`
	// MAVLinkBridge also publishes raw MAVLink frames over MQTT.
	MAVLinkBridge bool `yaml:"mavlink_bridge"`
	// MAVLinkBridgeInbound is what frames published on `mavlink/in` may
	// carry to the vehicle; the zero value is the read-only default (see
	// Inbound). Only with MAVLinkBridge.
	MAVLinkBridgeInbound Inbound `yaml:"mavlink_bridge_inbound,omitempty"`
	// MAVLinkBridgeBatch, when above 1, lets one `mavlink/out` message
	// carry up to this many frames back to back: the frames of one read of
	// the vehicle link leave in one publish instead of one each (broker
	// and network cost per message, not per byte). 0 or 1: one frame a
	// message, the v1 contract's default. Only with MAVLinkBridge.
	MAVLinkBridgeBatch int `yaml:"mavlink_bridge_batch,omitempty"`
	// OutboxMaxEvents bounds the durable event outbox.
	OutboxMaxEvents int `yaml:"outbox_max_events"`
	// DedupeWindow is how long command ids are remembered, so a repeated id
	// is answered again and not executed twice.
	DedupeWindow time.Duration `yaml:"dedupe_window"`

	// passwordFromFile is the content of PasswordFile read by Load. A
	// pointer, so that fmt's %+v (which prints unexported fields raw) shows
	// an address and not the password.
	passwordFromFile *Secret
}

// PasswordSecret returns the broker password: Password, or the content of
// PasswordFile as read by Load (empty when neither is set, or when the file
// was missing under AllowMissingSecrets).
func (m MQTT) PasswordSecret() Secret {
	if m.Password != "" || m.passwordFromFile == nil {
		return m.Password
	}
	return *m.passwordFromFile
}

// TLS are the files of a TLS connection; relative paths are resolved
// against the config file's directory. CertFile and KeyFile go together.
type TLS struct {
	CAFile             string `yaml:"ca_file,omitempty"`
	CertFile           string `yaml:"cert_file,omitempty"`
	KeyFile            string `yaml:"key_file,omitempty"`
	ServerName         string `yaml:"server_name,omitempty"`
	InsecureSkipVerify bool   `yaml:"insecure_skip_verify,omitempty"`
}

// CommandSigning is the optional HMAC-SHA256 signature on MQTT commands.
type CommandSigning struct {
	// KeyFile holds the shared key, at least 16 bytes after decoding: hex,
	// base64 of 32 bytes or raw bytes, as DecodeKey tells them apart.
	// Required; mode 0600.
	KeyFile string `yaml:"key_file"`
	// Window is how far a command's timestamp may be from our clock.
	Window time.Duration `yaml:"window"`

	key     *Secret // a pointer for the reason given at MQTT.passwordFromFile
	keyForm KeyForm
}

// KeyForm returns how the key file was written, once Load read it.
func (s CommandSigning) KeyForm() KeyForm { return s.keyForm }

// Key returns the key read from KeyFile by Load (empty if not read).
func (s CommandSigning) Key() Secret {
	if s.key == nil {
		return ""
	}
	return *s.key
}

// Vehicle is the MAVLink link to the drone.
type Vehicle struct {
	// URL is one of: a serial device path (/dev/ttyAMA0, /dev/serial/by-id/...);
	// udp://host:port (we send to host:port and hear its replies, e.g. SITL
	// or a companion router); udpin://[host]:port (we listen, the vehicle
	// sends to us); tcp://host:port (we connect). See Link. Required.
	URL string `yaml:"url"`
	// Baud is the serial rate (serial only; default 57600). Standard rates
	// only, see BaudRates.
	Baud int `yaml:"baud,omitempty"`
	// SystemID and ComponentID are ours (a companion computer: system 1..255,
	// component MAV_COMP_ID_ONBOARD_COMPUTER = 191).
	SystemID    int `yaml:"system_id"`
	ComponentID int `yaml:"component_id"`
	// TargetSystem is the autopilot's system id; 0 takes the first
	// autopilot heard.
	TargetSystem int `yaml:"target_system"`
	// Signing is MAVLink 2 message signing; nil is off.
	Signing          *Signing      `yaml:"signing,omitempty"`
	HeartbeatTimeout time.Duration `yaml:"heartbeat_timeout"`
	// StreamRates are requested message rates by MAVLink message name, in
	// Hz; 0 leaves a message unrequested. Entries in the file are added to
	// (or override) the defaults.
	StreamRates map[string]float64 `yaml:"stream_rates"`
	// DockedStreamRates are the rates asked for instead while the drone
	// rests on the pad: no sortie, disarmed, on the ground. Entries in the
	// file are added to (or override) the defaults; a message with a rate
	// in StreamRates and none here is turned off while docked. A sortie
	// asks for StreamRates again before anything else (docs/vehicle-link.md).
	DockedStreamRates map[string]float64 `yaml:"docked_stream_rates"`
	// Forward relays the link to ground stations (QGroundControl).
	Forward []Forward `yaml:"forward,omitempty"`
	// TLog records the link as a .tlog; nil is off.
	TLog *TLog `yaml:"tlog,omitempty"`
}

// Signing is MAVLink 2 signing (the MAVLink signing protocol).
type Signing struct {
	// KeyFile holds the 32-byte secret key as 64 hex digits, base64 or
	// the 32 bytes themselves (DecodeKey). Mode 0600.
	KeyFile string `yaml:"key_file"`
	// LinkID is our link id in the signature, 0..255.
	LinkID int `yaml:"link_id"`
	// Require rejects unsigned frames from the vehicle.
	Require bool `yaml:"require"`

	key     *[32]byte // a pointer for the reason given at MQTT.passwordFromFile
	keyForm KeyForm
}

// KeyForm returns how the key file was written, once Load read it.
func (s Signing) KeyForm() KeyForm { return s.keyForm }

// Key returns the 32-byte key read from KeyFile by Load (nil if not read).
func (s Signing) Key() []byte {
	if s.key == nil {
		return nil
	}
	k := *s.key
	return k[:]
}

// Forward is one ground-station endpoint the vehicle link is relayed to.
type Forward struct {
	// URL is udp://host:port (we send to the ground station) or
	// udpin://[host]:port (the ground station sends to us first).
	URL string `yaml:"url"`
	// AllowMsgIDs, when not empty, forwards only these message ids to the
	// ground station; BlockMsgIDs never forwards these.
	AllowMsgIDs []int `yaml:"allow_msg_ids,omitempty,flow"`
	BlockMsgIDs []int `yaml:"block_msg_ids,omitempty,flow"`
	// SysIDs, when not empty, forwards only frames from these system ids.
	SysIDs []int `yaml:"sysids,omitempty,flow"`
	// Inbound is what the ground station may send to the vehicle; the zero
	// value is the read-only default (see Inbound). The filter above
	// (allow_msg_ids, block_msg_ids, sysids) applies to its frames first.
	Inbound Inbound `yaml:"inbound,omitempty"`
}

// Inbound is what a source outside the agent (a ground station, the MQTT
// bridge) may send to the vehicle. Every source may always send the
// read-only default: HEARTBEAT, telemetry requests (REQUEST_DATA_STREAM,
// COMMAND_LONG/INT with MAV_CMD_SET_MESSAGE_INTERVAL, REQUEST_MESSAGE ...),
// parameter and mission reads, TIMESYNC. The lists add to it; the agent
// still refuses a frame that would arm, take off, change mode, start or
// upload a mission or move the vehicle unless the dock lets the vehicle
// arm at that moment (docs/vehicle-link.md, "Inbound policy").
type Inbound struct {
	// AllowMsgIDs are further message ids the source may send (e.g. 23
	// PARAM_SET, 11 SET_MODE, 44 MISSION_COUNT). COMMAND_LONG (76) and
	// COMMAND_INT (75) are allowed by their command: use AllowCommands.
	AllowMsgIDs []int `yaml:"allow_msg_ids,omitempty,flow"`
	// AllowCommands are further MAV_CMD numbers the source may send in
	// COMMAND_LONG or COMMAND_INT (e.g. 400 COMPONENT_ARM_DISARM, 176
	// DO_SET_MODE, 300 MISSION_START).
	AllowCommands []int `yaml:"allow_commands,omitempty,flow"`
}

// TLog is the .tlog recorder of the vehicle link.
type TLog struct {
	Dir string `yaml:"dir"`
	// MaxBytes is the size at which a file is rotated.
	MaxBytes int64 `yaml:"max_bytes"`
	// Keep is the number of files kept.
	Keep int `yaml:"keep"`
}

// Bus is one RS-485 serial line shared by Modbus RTU devices.
type Bus struct {
	Device string `yaml:"device"`
	Baud   int    `yaml:"baud"`
	// Parity is "N", "E" or "O".
	Parity string `yaml:"parity"`
	// StopBits is 1 or 2.
	StopBits int `yaml:"stop_bits"`
	// Timeout is the wait for a reply to one request.
	Timeout time.Duration `yaml:"timeout"`
	// Retries is how often a failed request is repeated.
	Retries int `yaml:"retries"`
	// PollInterval is the period of reading the bus's inputs.
	PollInterval time.Duration `yaml:"poll_interval"`
	// IdlePollInterval, when set, is the period of reading the I/O
	// modules' inputs on this bus while the dock rests: no motor output
	// energised (nor within IdleAfterMotion of one) and no sortie active.
	// 0 (the default) reads every PollInterval always. With the e-stop on
	// a module of this bus it must leave the press seen within
	// EStopDetect (docs/hardware.md).
	IdlePollInterval time.Duration `yaml:"idle_poll_interval,omitempty"`
}

// EStopDetect is how soon after a press of an e-stop on a polled Modbus
// input the agent must have read it: one poll interval plus one read of
// the module's inputs on the wire (Bus.InputReadTime).
const EStopDetect = 50 * time.Millisecond

// IdleAfterMotion is how long the I/O modules keep their fast poll after
// the last motor output went off: a motion sent back waits out the
// reverse pause (300 ms) and is judged on readings taken since, and a
// debounced switch settles within 20 ms.
const IdleAfterMotion = 2 * time.Second

// InputReadTime is how long reading n discrete inputs of one module takes
// on the wire at the bus's settings: the request (8 bytes) and the reply
// (5 bytes and one per 8 inputs), each after the RTU silence (3.5
// characters, 1.75 ms above 19200 bit/s). The module's own turnaround is
// not in it.
func (b Bus) InputReadTime(n int) time.Duration {
	baud := b.Baud
	if baud <= 0 {
		baud = DefaultBusBaud
	}
	bits := 1 + 8 + max(1, b.StopBits) // start, data, stop
	if b.Parity != "" && b.Parity != "N" {
		bits++
	}
	chars := 8 + 5 + (n+7)/8
	if baud > 19200 {
		return time.Duration(int64(time.Second)*int64(chars*bits)/int64(baud)) + 2*1750*time.Microsecond
	}
	// In tenths of a bit: the characters and two silences of 3.5.
	return time.Duration(int64(time.Second) * int64(10*chars*bits+2*35*bits) / int64(10*baud))
}

// Binding says where a dock signal is wired: exactly one of GPIO or Modbus.
type Binding struct {
	// GPIO is a periph.io pin name of the board ("GPIO17").
	GPIO   string     `yaml:"gpio,omitempty"`
	Modbus *ModbusRef `yaml:"modbus,omitempty"`
	// ActiveLow inverts the line: low (or coil off) means true.
	ActiveLow bool `yaml:"active_low,omitempty"`
	// Debounce applies to inputs only (0 means the default, 20ms).
	Debounce time.Duration `yaml:"debounce,omitempty"`
}

// ModbusRef is a coil (outputs) or discrete input (inputs) of a Modbus RTU
// I/O module on a named bus. Exactly one of Coil and Input is set.
type ModbusRef struct {
	Bus string `yaml:"bus"`
	// Unit is the module's Modbus address, 1..247.
	Unit  int  `yaml:"unit"`
	Coil  *int `yaml:"coil,omitempty"`
	Input *int `yaml:"input,omitempty"`
}

// Actuators are the motion timeouts and nominal travel times. A motion
// that takes longer than its timeout is cut and the dock enters fault
// (invariant 6, DESIGN.md §4).
type Actuators struct {
	LidTimeout  time.Duration `yaml:"lid_timeout"`
	ArmsTimeout time.Duration `yaml:"arms_timeout"`
	// LidTravel and ArmsTravel are the nominal full-travel times, used to
	// plan launches and to reopen the lid in time for a return.
	LidTravel  time.Duration `yaml:"lid_travel"`
	ArmsTravel time.Duration `yaml:"arms_travel"`
	// LimitLeaveTimeout is how long the limit switch a part starts from
	// may stay closed after its motor was switched on before the part is
	// taken as stuck (lid.limit_stuck, arms.limit_stuck). It covers the
	// output write and the input poll as well as the first millimetres
	// of travel. Default 2s; capped at half the motion's timeout.
	LimitLeaveTimeout time.Duration `yaml:"limit_leave_timeout,omitempty"`
}

// Weather is the Modbus RTU weather station: on a named Bus, or on its own
// Device at Baud (8N1).
type Weather struct {
	Bus    string `yaml:"bus,omitempty"`
	Device string `yaml:"device,omitempty"`
	Baud   int    `yaml:"baud,omitempty"`
	// Unit is the station's Modbus address, 1..247.
	Unit int `yaml:"unit"`
	// Function is 3 (read holding registers) or 4 (read input registers).
	Function     int           `yaml:"function"`
	PollInterval time.Duration `yaml:"poll_interval"`
	// StaleAfter is the age at which a reading is reported stale.
	StaleAfter time.Duration    `yaml:"stale_after"`
	Registers  WeatherRegisters `yaml:"registers"`
}

// WeatherRegisters maps each reading to its register. WindMPS is
// required; a nil register is a reading the station does not have.
type WeatherRegisters struct {
	WindMPS     *Register `yaml:"wind_mps,omitempty"`
	GustMPS     *Register `yaml:"gust_mps,omitempty"`
	DirDeg      *Register `yaml:"dir_deg,omitempty"`
	TempC       *Register `yaml:"temp_c,omitempty"`
	HumidityPct *Register `yaml:"humidity_pct,omitempty"`
	// Rain is true when the scaled value is above 0.
	Rain *Register `yaml:"rain,omitempty"`
	// InsideTempC is a sensor inside the dock for the climate control.
	InsideTempC *Register `yaml:"inside_temp,omitempty"`
}

// Register is one reading: value = raw*Scale + Offset.
type Register struct {
	// Register is the address of the (first) register, 0..65535.
	Register int `yaml:"register"`
	// Type is u16, s16, u32, s32 or f32 (32-bit types span two registers).
	Type   string  `yaml:"type"`
	Scale  float64 `yaml:"scale"`
	Offset float64 `yaml:"offset"`
	// WordOrder of 32-bit types: "high_first" (default) or "low_first".
	WordOrder string `yaml:"word_order,omitempty"`
}

// Climate switches the heater and fan by the inside (else outside)
// temperature.
type Climate struct {
	HeaterOnBelowC float64 `yaml:"heater_on_below_c"`
	FanOnAboveC    float64 `yaml:"fan_on_above_c"`
	HysteresisC    float64 `yaml:"hysteresis_c"`
}

// Limits are the preflight gates and in-flight limits.
type Limits struct {
	WindMPS     float64 `yaml:"wind_mps"`
	GustMPS     float64 `yaml:"gust_mps"`
	BlockOnRain bool    `yaml:"block_on_rain"`
	TempMinC    float64 `yaml:"temp_min_c"`
	TempMaxC    float64 `yaml:"temp_max_c"`
	// BatteryReservePct is what must be left on landing.
	BatteryReservePct float64       `yaml:"battery_reserve_pct"`
	MinSats           int           `yaml:"min_sats"`
	MaxHDOP           float64       `yaml:"max_hdop"`
	HeartbeatMaxAge   time.Duration `yaml:"heartbeat_max_age"`
	// ClearanceAltM is the height above the dock beyond which the lid may
	// close behind the vehicle (invariant 1).
	ClearanceAltM float64  `yaml:"clearance_alt_m"`
	Geofence      Geofence `yaml:"geofence"`
	// MaxAltM is the highest altitude above home any waypoint may have.
	MaxAltM float64 `yaml:"max_alt_m"`
}

// Geofence is either a circle of RadiusM around the dock or a Polygon of
// [lat, lon] vertices (at least 3), not both.
type Geofence struct {
	RadiusM float64      `yaml:"radius_m,omitempty"`
	Polygon [][2]float64 `yaml:"polygon,omitempty,flow"`
}

// Flight are the figures the response circles, ETAs and battery estimates
// are computed from.
type Flight struct {
	CruiseSpeedMPS float64 `yaml:"cruise_speed_mps"`
	ClimbMPS       float64 `yaml:"climb_mps"`
	// PatrolAltM is the altitude above home of waypoints that give none.
	PatrolAltM float64 `yaml:"patrol_alt_m"`
	// LaunchTime is from command to take-off, for the response circles.
	LaunchTime    time.Duration `yaml:"launch_time"`
	DefaultLoiter time.Duration `yaml:"default_loiter"`
	// AlertWindow is how long an `alert` keeps the dock open and the
	// vehicle prepared waiting for its dispatch before securing again.
	AlertWindow time.Duration `yaml:"alert_window"`
	// HoverPctPerMin and CruisePctPerKm are the battery model: percent of
	// charge per minute hovering and per km at cruise speed in still air.
	HoverPctPerMin float64 `yaml:"hover_pct_per_min"`
	CruisePctPerKm float64 `yaml:"cruise_pct_per_km"`
	// BatteryWh is the pack's energy, for reports only (0 unknown).
	BatteryWh float64 `yaml:"battery_wh,omitempty"`
	// ChargeTarget is "ready" (hold 90-95 %) or "storage" (hold 55-60 %).
	ChargeTarget string `yaml:"charge_target"`
}

// Route is a patrol route: Waypoints, or a QGroundControl PlanFile (which
// the route package reads), not both.
type Route struct {
	Waypoints []Waypoint `yaml:"waypoints,omitempty"`
	PlanFile  string     `yaml:"plan_file,omitempty"`
}

// Waypoint is one point of a route. AltM is above home (0 means
// flight.patrol_alt_m); SpeedMPS 0 means flight.cruise_speed_mps; Hold is
// the time spent at the point.
type Waypoint struct {
	Lat      float64       `yaml:"lat"`
	Lon      float64       `yaml:"lon"`
	AltM     float64       `yaml:"alt_m,omitempty"`
	SpeedMPS float64       `yaml:"speed_mps,omitempty"`
	Hold     time.Duration `yaml:"hold,omitempty"`
}

// Schedule flies Route at times given by exactly one of Cron, Every or At.
type Schedule struct {
	Name  string `yaml:"name"`
	Route string `yaml:"route"`
	// Cron is a 5-field expression (minute hour day-of-month month
	// day-of-week) in TimeZone; the scheduler parses it fully.
	Cron string `yaml:"cron,omitempty"`
	// Every repeats the sortie; Between ("20:00-05:00", may cross
	// midnight) restricts it to a daily window, the first at its start.
	Every   time.Duration `yaml:"every,omitempty"`
	Between string        `yaml:"between,omitempty"`
	// At are single sorties at fixed times (RFC 3339).
	At []time.Time `yaml:"at,omitempty"`
	// TimeZone is an IANA zone name ("Asia/Shanghai") or "Local" (the
	// default): the system's zone by name (LocalZone), UTC when it names none.
	TimeZone string `yaml:"time_zone"`
	// Active limits the schedule to a date range; nil is always.
	Active *Active `yaml:"active,omitempty"`
	// Grace is how late a sortie may still start; later it is reported as
	// schedule.missed, never flown late.
	Grace time.Duration `yaml:"grace"`
}

// Active is an inclusive date range in the schedule's zone: each bound is a
// date (2026-12-05, the whole day) or an RFC 3339 time. Either may be empty
// (open).
type Active struct {
	From string `yaml:"from,omitempty"`
	To   string `yaml:"to,omitempty"`
}

// Metrics is the Prometheus endpoint.
type Metrics struct {
	// Listen is host:port ("127.0.0.1:9108"); empty is off.
	Listen string `yaml:"listen"`
}

// HTTP is what the agent serves on the metrics address besides /metrics,
// /healthz and /readyz.
type HTTP struct {
	// Page serves the dock page at / (state, faults, events, telemetry and
	// a live map; docs/operations.md). Off by default: the page shows the
	// dock's position and routes to anyone who can reach metrics.listen.
	// Needs metrics.listen.
	Page bool `yaml:"page,omitempty"`
}

// Log is the agent's log output.
type Log struct {
	// Level is debug, info, warn or error.
	Level string `yaml:"level"`
	// Format is auto (text on a terminal, JSON otherwise), text or json.
	Format string `yaml:"format"`
}

// SlogLevel returns Level as a slog.Level (info for an unknown level,
// which Load does not let through).
func (l Log) SlogLevel() slog.Level {
	switch l.Level {
	case "debug":
		return slog.LevelDebug
	case "warn":
		return slog.LevelWarn
	case "error":
		return slog.LevelError
	}
	return slog.LevelInfo
}
