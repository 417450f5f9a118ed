package metrics

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
)

// modbusCollector reports every Modbus unit's counters, read at each
// scrape, by bus and unit.
type modbusCollector struct {
	stats func() []ModbusStats
}

var modbusDescs = func() [7]*prometheus.Desc {
	d := func(name, help string) *prometheus.Desc {
		return prometheus.NewDesc(namespace+"_modbus_"+name, help, []string{"bus", "unit"}, nil)
	}
	return [...]*prometheus.Desc{
		d("requests_total", "Modbus RTU request frames sent, retries included, by bus and unit."),
		d("retries_total", "Modbus RTU requests sent again after a timeout or a damaged reply."),
		d("timeouts_total", "Modbus RTU requests met with silence (unit off, unplugged, wrong address or baud)."),
		d("crc_errors_total", "Modbus RTU replies with a bad CRC (noise, termination, wrong parity)."),
		d("frame_errors_total", "Modbus RTU replies damaged otherwise: short, wrong unit, wrong function, bad content."),
		d("exceptions_total", "Modbus RTU exception replies (the unit refused the request)."),
		d("port_errors_total", "Reads or writes of the bus's serial port that failed."),
	}
}()

func (c *modbusCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range modbusDescs {
		ch <- d
	}
}

func (c *modbusCollector) Collect(ch chan<- prometheus.Metric) {
	for _, s := range c.stats() {
		unit := strconv.Itoa(int(s.Unit))
		for i, v := range [...]uint64{s.Requests, s.Retries, s.Timeouts, s.CRCErrors, s.Frames, s.Exceptions, s.PortErrors} {
			ch <- prometheus.MustNewConstMetric(modbusDescs[i], prometheus.CounterValue, float64(v), s.Bus, unit)
		}
	}
}

// forwardCollector reports the ground-station forward's endpoints.
type forwardCollector struct {
	stats func() []ForwardStats
}

var forwardDescs = func() [7]*prometheus.Desc {
	d := func(name, help string) *prometheus.Desc {
		return prometheus.NewDesc(namespace+"_mavlink_forward_"+name, help, []string{"endpoint"}, nil)
	}
	return [...]*prometheus.Desc{
		d("frames_sent_total", "MAVLink frames forwarded to a ground-station endpoint."),
		d("frames_received_total", "MAVLink frames from a ground-station endpoint passed on to the vehicle."),
		d("sent_bytes_total", "Bytes forwarded to a ground-station endpoint."),
		d("received_bytes_total", "Bytes from a ground-station endpoint passed on."),
		d("filtered_total", "MAVLink frames the endpoint's filter held back, both directions."),
		d("write_errors_total", "Writes to a ground-station endpoint that failed."),
		d("clients", "Ground stations heard recently on a server endpoint (udpin)."),
	}
}()

func (c *forwardCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range forwardDescs {
		ch <- d
	}
}

func (c *forwardCollector) Collect(ch chan<- prometheus.Metric) {
	for _, s := range c.stats() {
		for i, v := range [...]uint64{s.FramesOut, s.FramesIn, s.BytesOut, s.BytesIn, s.Filtered, s.WriteErrors} {
			ch <- prometheus.MustNewConstMetric(forwardDescs[i], prometheus.CounterValue, float64(v), s.Endpoint)
		}
		ch <- prometheus.MustNewConstMetric(forwardDescs[6], prometheus.GaugeValue, float64(s.Clients), s.Endpoint)
	}
}
