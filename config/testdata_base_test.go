package config

// baseYAML is a small valid config that the error tests mutate line by
// line; the line numbers in their expectations refer to it.
const baseYAML = `id: t1
position: {lat: 24.35, lon: 102.54, alt_m: 1600}
mqtt:
  brokers: [tcp://127.0.0.1:1883]
vehicle:
  url: /dev/ttyAMA0
  baud: 57600
buses:
  io: {device: /dev/ttyUSB0}
signals:
  lid_open_motor: {gpio: GPIO5}
  lid_close_motor: {gpio: GPIO6}
  arms_release_motor: {gpio: GPIO13}
  arms_clamp_motor: {gpio: GPIO16}
  lid_open_limit: {gpio: GPIO17, active_low: true}
  lid_closed_limit: {gpio: GPIO27, active_low: true}
  arms_released_limit: {gpio: GPIO22, active_low: true}
  arms_clamped_limit: {gpio: GPIO23, active_low: true}
  estop: {gpio: GPIO24}
  charger_enable: {modbus: {bus: io, unit: 1, coil: 0}}
  heater: {modbus: {bus: io, unit: 1, coil: 1}}
  fan: {modbus: {bus: io, unit: 1, coil: 2}}
  strobe: {modbus: {bus: io, unit: 1, coil: 3}}
  mains: {modbus: {bus: io, unit: 1, input: 0}}
weather:
  device: /dev/ttyUSB1
  registers:
    wind_mps: {register: 0, scale: 0.1}
    rain: {register: 5}
routes:
  loop:
    waypoints:
      - {lat: 24.351, lon: 102.541}
      - {lat: 24.352, lon: 102.543, hold: 10s}
schedules:
  - name: nightly
    route: loop
    every: 2h
    between: "20:00-05:00"
    time_zone: Asia/Shanghai
`
