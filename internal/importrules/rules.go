package importrules

// Rule says what one package, or a subtree of packages, may depend on.
type Rule struct {
	// Pkg is a path relative to the module root ("dock/sortie"); a final
	// "/..." makes the rule cover the package and everything below it.
	// The most specific rule wins: an exact path over a subtree, a longer
	// subtree over a shorter one.
	Pkg string
	// Ours lists the module's packages Pkg may import directly, in the same
	// form as Pkg ("/..." for a subtree). "*" allows every package of ours.
	Ours []string
	// Never bans dependencies anywhere in Pkg's import graph (direct or
	// not, ours or not; module-relative for ours, full paths otherwise), by
	// path prefix, each with the reason a failure prints.
	Never map[string]string
	// NeverDirect bans direct imports only (a dependency such as config may
	// use net/url without the package itself doing networking).
	NeverDirect map[string]string
}

// Table returns the module's import rules, the table of
// docs/architecture.md ("Packages"). Every package of the module must fall
// under one of them.
func Table() []Rule {
	// Shared bans, so that a subtree's rules state the same reason.
	mavlinkNever := map[string]string{
		"dock":                                "mavlink knows nothing of docks",
		"telemetry":                           "mavlink knows nothing of MQTT telemetry",
		"config":                              "mavlink takes Options, not the config schema",
		"internal":                            "mavlink imports nothing of ours; the app injects serial ports and dialers",
		"testbench":                           "the simulated world is for the bench and tests",
		"github.com/eclipse/paho.mqtt.golang": "MQTT belongs to telemetry",
	}
	domainNever := map[string]string{
		"github.com/eclipse/paho.mqtt.golang": "MQTT belongs to telemetry, which depends on dock, not the other way round",
		"go.bug.st/serial":                    "serial ports are opened by the app; dock takes byte streams and pins",
		"mavlink":                             "the vehicle is reached through dock.Vehicle, implemented in the app",
		"telemetry":                           "telemetry imports dock; the reverse would be a cycle and a layering break",
		"rs485":                               "drivers feed dock through the interfaces it declares; dock never reaches for them",
		"testbench":                           "the simulated world is for tests and the bench only",
		"cmd":                                 "the app wires dock, never the reverse",
	}
	domainNeverDirect := map[string]string{
		"net": "dock does no networking; the vehicle and MQTT sit behind interfaces",
	}
	planningNever := with(domainNever, map[string]string{
		"net": "no network in planning code",
	})
	driverNever := map[string]string{
		"go.bug.st/serial":                    "the app opens the RS-485 line and hands the driver a Port",
		"github.com/eclipse/paho.mqtt.golang": "MQTT belongs to telemetry",
		"dock":                                "a driver feeds plain values; what they mean is dock's, wired by the app",
		"testbench":                           "the simulated world is for tests and the bench only",
	}
	shippedNever := map[string]string{
		"testing":                           "test code in the daemon means a test seam in production",
		"testbench":                         "the simulated world is for the bench and tests",
		"dock/docktest":                     "fake vehicle and hardware are for tests",
		"internal/importrules":              "the import check runs the go command; it is for tests",
		"internal/motorsim":                 "simulated motors are for tests and the bench",
		"periph.io/x/conn/v3/gpio/gpiotest": "fake pins are for tests",
		"github.com/mochi-mqtt/server/v2":   "the agent is an MQTT client; the embedded broker is the bench's",
		"github.com/creack/pty":             "pseudo-terminals are the bench's",
	}
	telemetryNever := map[string]string{
		"internal":         "the app injects the broker dialer (Options.DialTCP)",
		"mavlink":          "telemetry publishes what the app hands it; the vehicle link is the app's",
		"go.bug.st/serial": "telemetry speaks MQTT only",
		"rs485":            "drivers are wired by the app",
		"testbench":        "the simulated world is for tests and the bench only",
	}

	return []Rule{
		{Pkg: "config", Never: map[string]string{"testbench": "the simulated world is for tests"}},

		{Pkg: "internal/rawio"},
		{Pkg: "internal/serialport", Ours: []string{"internal/rawio"}},
		{Pkg: "internal/importrules"},
		{Pkg: "internal/pinedge"},
		{Pkg: "internal/motorsim"},

		{Pkg: "mavlink/...", Ours: []string{"mavlink/..."}, Never: withSerialBan(mavlinkNever)},
		{Pkg: "mavlink", Never: withSerialBan(mavlinkNever)},
		{Pkg: "mavlink/internal/mavgen", Never: withSerialBan(mavlinkNever)},
		{Pkg: "mavlink/transport", Ours: []string{"mavlink"}, Never: withSerialBan(mavlinkNever)},
		{Pkg: "mavlink/vehicle", Ours: []string{"mavlink"}, Never: withSerialBan(mavlinkNever)},
		{Pkg: "mavlink/router", Ours: []string{"mavlink"}, Never: withSerialBan(mavlinkNever)},
		{Pkg: "mavlink/tlog", Ours: []string{"mavlink"}, Never: withSerialBan(mavlinkNever)},
		{Pkg: "mavlink/flightlog", Ours: []string{"mavlink", "mavlink/tlog"}, Never: withSerialBan(mavlinkNever)},

		{Pkg: "rs485/...", Ours: []string{"internal/pinedge"}, Never: driverNever, NeverDirect: domainNeverDirect},

		{Pkg: "dock", Ours: []string{"config", "dock/route"}, Never: domainNever, NeverDirect: domainNeverDirect},
		// The planning packages are pure: dock imports them (importing dock
		// back would be a cycle), so they import nothing of ours but
		// dock/route (positions, wind, geodesy), and no IO at any depth.
		{Pkg: "dock/route", Never: planningNever},
		{Pkg: "dock/schedule", Ours: []string{"dock/route"}, Never: planningNever},
		{Pkg: "dock/circle", Ours: []string{"dock/route"}, Never: planningNever},
		{Pkg: "dock/sortie", Ours: []string{"dock", "dock/route", "dock/schedule", "dock/circle", "config"}, Never: with(domainNever, map[string]string{
			"go.etcd.io/bbolt": "the engine keeps JSON files",
		}), NeverDirect: domainNeverDirect},
		{Pkg: "dock/docktest", Ours: []string{"dock", "internal/motorsim"}, Never: domainNever, NeverDirect: domainNeverDirect},

		{Pkg: "telemetry", Ours: []string{"dock", "config", "telemetry/contract"}, Never: telemetryNever},
		{Pkg: "telemetry/contract", Never: telemetryNever},
		{Pkg: "telemetry/metrics", Ours: []string{"dock", "telemetry/contract"}, Never: telemetryNever},
		{Pkg: "telemetry/dockpage", Ours: []string{"dock", "telemetry/metrics", "telemetry/contract"}, Never: telemetryNever},
		{Pkg: "telemetry/schema", Never: telemetryNever},

		{Pkg: "cmd/agent/...", Ours: []string{"*"}, Never: shippedNever},
		{Pkg: "cmd/dockctl", Ours: []string{"config", "telemetry", "telemetry/contract", "mavlink", "mavlink/tlog", "dock", "dock/route", "dock/circle"}, Never: shippedNever},
		{Pkg: "deploy/genman"},

		{Pkg: "testbench/...", Ours: []string{"*"}},
	}
}

// with returns a copy of m with the entries of extra added.
func with(m, extra map[string]string) map[string]string {
	out := make(map[string]string, len(m)+len(extra))
	for k, v := range m {
		out[k] = v
	}
	for k, v := range extra {
		out[k] = v
	}
	return out
}

// withSerialBan adds the rule that mavlink opens no serial port: the app
// injects the opener into mavlink/transport (issue 19).
func withSerialBan(m map[string]string) map[string]string {
	return with(m, map[string]string{"go.bug.st/serial": "the app opens serial devices (internal/serialport) and injects the opener"})
}
