package metrics

import (
	"errors"
	"time"

	"github.com/dockagent/dock-agent/dock"
	"github.com/dockagent/dock-agent/dock/fault"
	"github.com/dockagent/dock-agent/telemetry/contract"
)

// namespace prefixes every metric name.
const namespace = "dock_agent"

// LinkStats is what the vehicle link reports; counters only grow.
type LinkStats struct {
	Up      bool    // heartbeats fresh
	LossPct float64 // recent MAVLink packet loss, 0..100 (exported as a 0..1 ratio)
	BadCRC  uint64  // damaged frames skipped
}

// ModbusStats are one Modbus unit's counters on one bus (the agent reads
// modbus.Client.UnitStats into these); counters only grow.
type ModbusStats struct {
	Bus        string // the bus name of the config (buses.<name>), "weather" for a station on its own line
	Unit       uint8
	Requests   uint64 // request frames sent, retries included
	Retries    uint64
	Timeouts   uint64 // requests met with silence
	CRCErrors  uint64 // replies with a bad CRC
	Frames     uint64 // other damaged or unexpected replies
	Exceptions uint64 // exception replies
	PortErrors uint64 // the serial port failed
}

// ForwardStats are one ground-station forward endpoint's counters (the
// agent reads router.Stats into these); counters only grow.
type ForwardStats struct {
	Endpoint    string // the endpoint's name or URL
	FramesOut   uint64 // frames sent to the endpoint
	FramesIn    uint64 // frames from the endpoint passed on
	BytesOut    uint64
	BytesIn     uint64
	Filtered    uint64 // frames the endpoint's filter held back
	WriteErrors uint64
	Clients     int // server endpoints: clients heard recently
}

// MQTTStats is what the MQTT service reports (telemetry.Health fits).
type MQTTStats struct {
	Connected        bool
	ConnectionLosses uint64
	OutboxDepth      int    // events stored, not yet acknowledged
	EventsPublished  uint64 // acknowledged by the broker
	EventsDropped    uint64 // dropped by the outbox overflow policy
	CommandsRejected uint64 // refused before execution (validation, expiry, busy)
}

// Options configure New. Every source func is optional: nil leaves its
// metrics out. Source funcs are called on each scrape from the HTTP
// goroutine, so they must be safe for concurrent use and quick (read a
// snapshot, take no long lock).
type Options struct {
	// Version is reported as dock_agent_build_info{version}.
	Version string
	// Link reads the vehicle link: dock_agent_vehicle_link_up,
	// dock_agent_mavlink_link_loss_percent, dock_agent_mavlink_bad_crc_total.
	Link func() LinkStats
	// MQTT reads the MQTT service: dock_agent_mqtt_connected,
	// dock_agent_mqtt_connection_losses_total, dock_agent_outbox_depth,
	// dock_agent_events_published_total, dock_agent_events_dropped_total,
	// dock_agent_commands_rejected_total.
	MQTT func() MQTTStats
	// State reads the dock state snapshot: weather readings (wind, gust,
	// temperature; absent while stale), e-stop, fault, vehicle battery, and
	// dock_agent_dock_ready with dock_agent_dock_ready_blocked{check} from
	// Readiness.
	State func() dock.State
	// Modbus reads every Modbus unit's counters:
	// dock_agent_modbus_*_total{bus,unit}.
	Modbus func() []ModbusStats
	// Forward reads the ground-station forward's endpoints:
	// dock_agent_mavlink_forward_*{endpoint}.
	Forward func() []ForwardStats
	// LaunchBuckets are the launch latency histogram buckets in seconds;
	// nil means 2..30 s in 1-2 s steps around the 12-13 s a lid takes.
	LaunchBuckets []float64
	// Runtime adds the Go and process collectors (goroutines, GC, RSS, CPU).
	Runtime bool
}

// DefaultLaunchBuckets are the launch latency buckets in seconds: the
// command-to-take-off time is about the slowest actuator, 12 s for a lid.
var defaultLaunchBuckets = []float64{2, 4, 6, 8, 10, 11, 12, 13, 14, 16, 20, 25, 30, 45, 60}

// Metrics holds the agent's collectors in its own registry. The recording
// methods are safe for concurrent use and do not allocate once a label
// combination has been seen.
type Metrics struct {
	reg *Registry

	framesIn, framesOut *counterVec // by MAVLink message name
	commands            *counterVec // by command name and result code
	sorties             *counterVec // by outcome
	launch              *histogram  // seconds from command to take-off
	etaError            *histogram  // (time to station - promised ETA) / ETA
	motions             *counterVec // by actuator and result
	faults              *counterVec // by kind
	faultCodes          *counterVec // fault events by code
	refused             *counterVec // frames to the vehicle refused, by source and reason
}

// New builds the registry with every collector o asks for. It fails only on
// a programmer error (a duplicate metric, launch buckets out of order),
// named in the error.
func New(o Options) (*Metrics, error) {
	m := &Metrics{reg: NewRegistry()}
	buckets := o.LaunchBuckets
	if buckets == nil {
		buckets = defaultLaunchBuckets
	}
	m.framesIn = newCounterVec("mavlink_frames_received_total",
		"MAVLink frames received from the vehicle, by message name.", "message")
	m.framesOut = newCounterVec("mavlink_frames_sent_total",
		"MAVLink frames sent to the vehicle, by message name.", "message")
	m.commands = newCounterVec("commands_total",
		`MQTT commands executed, by command name and result ("ok" or the contract error code).`, "command", "result")
	m.sorties = newCounterVec("sorties_total",
		"Sorties finished, by outcome (complete, not_reached, late, landed_away, aborted, failed, dry_run_ok).", "outcome")
	var errs []error
	var err error
	m.etaError, err = newHistogram("sortie_eta_error_ratio",
		"Per dispatch on station: (time to station - promised ETA) / promised ETA; positive when late.",
		[]float64{-0.3, -0.15, -0.05, 0, 0.05, 0.15, 0.3, 0.6, 1})
	errs = append(errs, err)
	m.launch, err = newHistogram("launch_latency_seconds", "Time from the launch command to take-off.", buckets)
	errs = append(errs, err)
	m.motions = newCounterVec("actuator_motions_total",
		"Actuator motions finished, by actuator (lid, arms) and result (ok, failed, canceled, timeout).", "actuator", "result")
	m.faults = newCounterVec("faults_total",
		"Dock faults raised and e-stop presses, by kind (fault, estop).", "kind")
	m.faultCodes = newCounterVec("faults_by_code_total",
		"Dock faults reported by a fault event (new, or back within the damping window), by code (see docs/operations.md).", "code")
	m.refused = newCounterVec("mavlink_inbound_refused_total",
		"MAVLink frames from ground stations or the MQTT bridge kept from the vehicle, by source and reason (not_allowed, interlock, malformed, unsigned).", "source", "reason")
	if err := errors.Join(errs...); err != nil {
		return nil, errors.Join(errors.New("metrics (a programmer error)"), err)
	}
	m.zeroLabelled()
	cs := []Collector{m.framesIn, m.framesOut, m.commands, m.sorties, m.launch, m.etaError, m.motions, m.faults, m.faultCodes, m.refused}

	cs = append(cs, constant{&Desc{Name: namespace + "_build_info", Type: Gauge, Labels: []string{"version"},
		Help: "Always 1; the version label is the agent's version."}, 1, []string{o.Version}})

	if o.Link != nil {
		link := o.Link
		cs = append(cs,
			gaugeFunc("vehicle_link_up", "1 while the vehicle's heartbeats are fresh.", func() float64 { return b2f(link().Up) }),
			gaugeFunc("mavlink_link_loss_ratio", "Recent MAVLink packet loss on the vehicle link, 0..1.", func() float64 { return link().LossPct / 100 }),
			counterFunc("mavlink_bad_crc_total", "Damaged MAVLink frames skipped (checksum mismatch).", func() float64 { return float64(link().BadCRC) }),
		)
	}
	if o.MQTT != nil {
		mq := o.MQTT
		cs = append(cs,
			gaugeFunc("mqtt_connected", "1 while connected to the MQTT broker.", func() float64 { return b2f(mq().Connected) }),
			counterFunc("mqtt_connection_losses_total", "MQTT connections lost.", func() float64 { return float64(mq().ConnectionLosses) }),
			gaugeFunc("outbox_depth", "Durable events stored and not yet acknowledged by the broker.", func() float64 { return float64(mq().OutboxDepth) }),
			counterFunc("events_published_total", "Durable events acknowledged by the broker.", func() float64 { return float64(mq().EventsPublished) }),
			counterFunc("events_dropped_total", "Durable events dropped by the outbox overflow policy.", func() float64 { return float64(mq().EventsDropped) }),
			counterFunc("commands_rejected_total", "MQTT commands refused before execution (validation, expiry, busy, signature).", func() float64 { return float64(mq().CommandsRejected) }),
		)
	}
	if o.State != nil {
		cs = append(cs, &stateCollector{state: o.State})
	}
	if o.Modbus != nil {
		cs = append(cs, &modbusCollector{stats: o.Modbus})
	}
	if o.Forward != nil {
		cs = append(cs, &forwardCollector{stats: o.Forward})
	}
	if o.Runtime {
		cs = append(cs, newGoCollector())
		if canCollectProcess() {
			cs = append(cs, processCollector{})
		}
	}
	for _, c := range cs {
		if err := m.reg.Register(c); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, errors.Join(errors.New("register metrics (a programmer error)"), err)
	}
	return m, nil
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// Registry is the private registry, for the Server, a collector of the
// wiring's own (Register) or a test's Gather.
func (m *Metrics) Registry() *Registry { return m.reg }

// FrameIn counts one MAVLink frame received, by its spec message name
// ("HEARTBEAT"; "UNKNOWN" for ids without a definition).
func (m *Metrics) FrameIn(message string) { m.framesIn.inc(message) }

// FrameOut counts one MAVLink frame sent, by its spec message name.
func (m *Metrics) FrameOut(message string) { m.framesOut.inc(message) }

// Command counts one executed command by name and result: code is the
// contract error code, "" for success (recorded as "ok").
func (m *Metrics) Command(name contract.Command, code contract.Code) {
	result := string(code)
	if result == "" {
		result = "ok"
	}
	m.commands.inc(string(name), result)
}

// ETAError observes one dispatch's ETA error as a ratio (0.1 = 10 % late).
func (m *Metrics) ETAError(ratio float64) { m.etaError.observe(ratio) }

// Sortie counts one finished sortie by outcome (complete, aborted, failed).
func (m *Metrics) Sortie(outcome string) { m.sorties.inc(outcome) }

// LaunchLatency records the time from a launch command to take-off.
func (m *Metrics) LaunchLatency(d time.Duration) { m.launch.observe(d.Seconds()) }

// Motion counts one finished actuator motion: actuator "lid" or "arms",
// result "ok", "timeout", "stopped" or "failed".
func (m *Metrics) Motion(actuator, result string) { m.motions.inc(actuator, result) }

// Fault counts one dock fault by kind: a short fixed word ("fault" for a
// dock fault, "estop" for an e-stop press, as EventSink records them), never
// the free-text reason, which would make a new time series per message.
func (m *Metrics) Fault(kind string) { m.faults.inc(kind) }

// FaultCode counts one reported fault by its code; a code the dock does
// not define is not counted, so no event can add a series.
func (m *Metrics) FaultCode(code fault.Code) {
	if code.Known() {
		m.faultCodes.inc(string(code))
	}
}

// InboundRefused counts one frame from outside the agent (a ground-station
// endpoint or the MQTT bridge, named by source) kept from the vehicle, by a
// short fixed reason: "not_allowed" (neither the read-only default nor the
// source's allow lists), "interlock" (the dock does not allow it now),
// "malformed" (not exactly one valid frame), "unsigned" (the bridge's
// envelope missing or wrong while signing is on).
func (m *Metrics) InboundRefused(source, reason string) {
	m.refused.inc(source, reason)
}

// stateCollector reads one dock.State per scrape and reports its readings.
type stateCollector struct {
	state func() dock.State
}

// gauge describes a dock_agent_ gauge without labels.
func gauge(name, help string, labels ...string) *Desc {
	return &Desc{Name: namespace + "_" + name, Help: help, Type: Gauge, Labels: labels}
}

var (
	descWind    = gauge("weather_wind_meters_per_second", "Mean wind speed at the dock (absent while the reading is stale).")
	descGust    = gauge("weather_gust_meters_per_second", "Gust speed at the dock (absent while stale).")
	descTemp    = gauge("weather_temp_celsius", "Outside air temperature at the dock, °C (absent while stale).")
	descRain    = gauge("weather_rain", "1 while the rain sensor reports rain (absent while stale).")
	descStale   = gauge("weather_stale", "1 while the weather station's readings are stale.")
	descEStop   = gauge("estop", "1 while the e-stop is pressed or latched.")
	descFault   = gauge("fault", "1 while the dock is in fault (see the fault event for the reason).")
	descBattery = gauge("vehicle_battery_ratio", "Vehicle battery charge, 0..1 (absent without a vehicle link).")
	descReady   = gauge("dock_ready", "1 when the dock could launch now: no e-stop or latch, no fault, mains, auto mode, vehicle link (see /readyz).")
	descBlocked = gauge("dock_ready_blocked", "1 for each readiness check that blocks a launch now, by check (estop, estop_latched, fault, mains, mode, vehicle_link).", "check")
)

func (c *stateCollector) Describe() []*Desc {
	return []*Desc{descWind, descGust, descTemp, descRain, descStale, descEStop, descFault, descBattery, descReady, descBlocked}
}

func (c *stateCollector) Collect(sc *Scrape) {
	s := c.state()
	gauge := func(d *Desc, v float64) { sc.Add(d, v) }
	// A stale reading is reported as absent, never as zero wind (issue 6).
	if !s.Weather.Stale && !s.Weather.At.IsZero() {
		gauge(descWind, s.Weather.WindMPS)
		gauge(descGust, s.Weather.GustMPS)
		gauge(descTemp, s.Weather.TempC)
		gauge(descRain, b2f(s.Weather.Rain))
	}
	gauge(descStale, b2f(s.Weather.Stale || s.Weather.At.IsZero()))
	gauge(descEStop, b2f(s.EStop || s.EStopLatched))
	gauge(descFault, b2f(s.Fault != ""))
	if s.Vehicle.Link {
		gauge(descBattery, s.Vehicle.BatteryPct/100)
	}
	blocked := Readiness(s)
	gauge(descReady, b2f(len(blocked) == 0))
	for _, check := range readinessChecks() {
		v := 0.0
		for _, b := range blocked {
			if b.Check == check {
				v = 1
			}
		}
		sc.Add(descBlocked, v, check)
	}
}
