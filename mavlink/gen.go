package mavlink

// The message table, typed messages and enums are generated from our own
// compact definitions in defs/ (see defs/common.def for the format).

//go:generate go run ./internal/mavgen -o common_gen.go defs/common.def
//go:generate go run ./internal/mavgen -o ardupilotmega_gen.go defs/ardupilotmega.def
//go:generate go run ./internal/mavgen -enums -o enums_gen.go defs/enums.def
