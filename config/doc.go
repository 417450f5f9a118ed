// Package config is the schema of a dock's YAML file, its loading, its
// defaults and its validation.
//
// One file describes one dock: its id and surveyed position, the MQTT
// broker, the MAVLink link to the vehicle, the RS-485 buses, the wiring of
// every dock signal (a GPIO line or a Modbus coil / discrete input), the
// actuator timeouts, the weather station, the climate control, the limits,
// the flight figures, the routes and schedules, the state directory, the
// metrics endpoint and the logging. README.md lists every key with its
// default; config/examples holds a commented Raspberry Pi dock and the
// bench's config.
//
// Load is strict: an unknown key at any depth is an error, and every
// problem (not the first only) comes back at once in an *Errors, each with
// file, line and key path:
//
//	dock.yaml:14: vehicle.baud: 57601 is not a standard baud rate (use 9600, ...)
//
// Defaults live in defaults.go only. Durations are Go duration strings
// ("250ms", "2h"). Secrets stay out of the YAML: password_file and the key
// files are read by Load, which refuses a secret file readable by everyone.
// LoadOptions.AllowMissingSecrets lets `dock-agent -check` validate a config
// on a machine without the dock's secrets. Parse validates bytes without
// touching any file; Marshal and WriteFile write a Config (for example one
// the bench generates) that Parse reads back unchanged.
//
// Other packages never take a whole Config; cmd/agent/app builds their
// Options from it. config imports only go.yaml.in/yaml/v3 and the standard
// library, and no package of ours (STYLE.md §1).
package config

// time/tzdata embeds the IANA zone database so that schedules' time_zone
// values load, and mean the same, on a board without /usr/share/zoneinfo.
import _ "time/tzdata"
