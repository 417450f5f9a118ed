package metrics

import (
	"slices"
	"strconv"
)

// modbusCollector reports every Modbus unit's counters, read at each
// scrape, by bus and unit.
type modbusCollector struct {
	stats func() []ModbusStats
}

var modbusDescs = descs("_modbus_", Counter, []string{"bus", "unit"},
	"requests_total", "Modbus RTU request frames sent, retries included, by bus and unit.",
	"retries_total", "Modbus RTU requests sent again after a timeout or a damaged reply.",
	"timeouts_total", "Modbus RTU requests met with silence (unit off, unplugged, wrong address or baud).",
	"crc_errors_total", "Modbus RTU replies with a bad CRC (noise, termination, wrong parity).",
	"frame_errors_total", "Modbus RTU replies damaged otherwise: short, wrong unit, wrong function, bad content.",
	"exceptions_total", "Modbus RTU exception replies (the unit refused the request).",
	"port_errors_total", "Reads or writes of the bus's serial port that failed.",
)

// descs describes families of type t named namespace+infix+name with
// labels, from name and help pairs.
func descs(infix string, t Type, labels []string, nameHelp ...string) []*Desc {
	out := make([]*Desc, 0, len(nameHelp)/2)
	for i := 0; i+1 < len(nameHelp); i += 2 {
		out = append(out, &Desc{Name: namespace + infix + nameHelp[i], Help: nameHelp[i+1], Type: t, Labels: labels})
	}
	return out
}

func (c *modbusCollector) Describe() []*Desc { return modbusDescs }

func (c *modbusCollector) Collect(sc *Scrape) {
	for _, s := range c.stats() {
		unit := strconv.Itoa(int(s.Unit))
		for i, v := range [...]uint64{s.Requests, s.Retries, s.Timeouts, s.CRCErrors, s.Frames, s.Exceptions, s.PortErrors} {
			sc.Add(modbusDescs[i], float64(v), s.Bus, unit)
		}
	}
}

// forwardCollector reports the ground-station forward's endpoints.
type forwardCollector struct {
	stats func() []ForwardStats
}

var forwardDescs = descs("_mavlink_forward_", Counter, []string{"endpoint"},
	"frames_sent_total", "MAVLink frames forwarded to a ground-station endpoint.",
	"frames_received_total", "MAVLink frames from a ground-station endpoint passed on to the vehicle.",
	"sent_bytes_total", "Bytes forwarded to a ground-station endpoint.",
	"received_bytes_total", "Bytes from a ground-station endpoint passed on.",
	"filtered_total", "MAVLink frames the endpoint's filter held back, both directions.",
	"write_errors_total", "Writes to a ground-station endpoint that failed.",
)

var forwardClients = &Desc{Name: namespace + "_mavlink_forward_clients", Type: Gauge, Labels: []string{"endpoint"},
	Help: "Ground stations heard recently on a server endpoint (udpin)."}

func (c *forwardCollector) Describe() []*Desc {
	return append(slices.Clone(forwardDescs), forwardClients)
}

func (c *forwardCollector) Collect(sc *Scrape) {
	for _, s := range c.stats() {
		for i, v := range [...]uint64{s.FramesOut, s.FramesIn, s.BytesOut, s.BytesIn, s.Filtered, s.WriteErrors} {
			sc.Add(forwardDescs[i], float64(v), s.Endpoint)
		}
		sc.Add(forwardClients, float64(s.Clients), s.Endpoint)
	}
}
