package main

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	"github.com/dockagent/dock-agent/mavlink"
	"github.com/dockagent/dock-agent/mavlink/tlog"
)

// runDump implements "dockctl dump [-format tlog|raw] [-geojson|-kml|-gpx]
// FILE|-": one JSON object per frame on stdout (issue 3), or the flight's
// track for GIS tools, and a summary of counts on stderr.
func runDump(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := newFlagSet("dump", usage{
		synopsis: "dockctl dump [-format tlog|raw] [-geojson | -kml | -gpx] FILE|-",
		about: "Decode a flight log (.tlog: each frame after an 8-byte timestamp) or a raw MAVLink capture\n" +
			"and print one JSON object per frame (stdout) and a summary of counts (stderr). When most\n" +
			"bytes were skipped, the file is probably in the other format: dump says so.\n" +
			"-geojson, -kml and -gpx print the flight's track instead, one per vehicle (system and\n" +
			"component id), from GLOBAL_POSITION_INT: altitude above mean sea level, with the time of\n" +
			"each point from a .tlog.",
		examples: []string{
			"dockctl dump /var/lib/dock-agent/tlog/s-20261205-1900.tlog | jq -c 'select(.name==\"STATUSTEXT\")'",
			"dockctl dump -kml /var/lib/dock-agent/tlog/s-20261205-1900.tlog > flight.kml",
			"dockctl dump -gpx flight.tlog > flight.gpx",
			"dockctl dump -format raw capture.bin",
			"socat -u UDP-RECV:14550 - | dockctl dump -format raw -",
		},
	}, stderr)
	format := fs.String("format", "", "input format: tlog or raw (default: tlog for *.tlog files, else raw)")
	asGeoJSON := fs.Bool("geojson", false, "print the track as GeoJSON LineStrings instead of the frames")
	asKML := fs.Bool("kml", false, "print the track as KML instead of the frames")
	asGPX := fs.Bool("gpx", false, "print the track as GPX 1.1 instead of the frames")
	if code, stop := parseFlags(fs, stdout, stderr, func() error { return fs.Parse(args) }); stop {
		return code
	}
	outputs := 0
	for _, set := range []bool{*asGeoJSON, *asKML, *asGPX} {
		if set {
			outputs++
		}
	}
	if fs.NArg() != 1 || outputs > 1 {
		if outputs > 1 {
			fmt.Fprintln(stderr, "dockctl dump: give at most one of -geojson, -kml and -gpx")
		}
		fs.Usage()
		return 2
	}
	name := fs.Arg(0)
	in := stdin
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return failed(stderr, "dump", err)
		}
		defer f.Close()
		in = f
	}
	counter := &countingReader{r: in}
	in = counter
	if *format == "" {
		*format = "raw"
		if len(name) > 5 && name[len(name)-5:] == ".tlog" {
			*format = "tlog"
		}
	}
	out := bufio.NewWriter(stdout)
	defer out.Flush()
	p := mavlink.NewParser(mavlink.ParserOptions{})
	var line []byte
	sink := func(f *mavlink.Frame, t time.Time, withTime bool) error {
		line = appendFrameJSON(line[:0], f, t, withTime)
		if _, err := out.Write(line); err != nil {
			return fmt.Errorf("write output: %w", err)
		}
		return nil
	}
	var tracks trackSet
	if outputs > 0 {
		sink = tracks.add
	}
	var err error
	switch *format {
	case "tlog":
		err = dumpTlog(in, p, sink)
	case "raw":
		err = dumpRaw(in, p, sink)
	default:
		fmt.Fprintf(stderr, "dockctl dump: -format %q: want tlog or raw\n", *format)
		return 2
	}
	if err == nil && outputs > 0 {
		feats := tracks.features(filepath.Base(name))
		switch {
		case len(feats) == 0:
			err = errors.New("no GLOBAL_POSITION_INT with a position: no track to draw")
		case *asKML:
			err = writeKML(out, "flight "+filepath.Base(name), feats)
		case *asGPX:
			err = writeGPX(out, feats)
		default:
			err = writeGeoJSON(out, "flight "+filepath.Base(name), feats)
		}
	}
	if ferr := out.Flush(); err == nil && ferr != nil {
		err = fmt.Errorf("write output: %w", ferr)
	}
	s := p.Stats()
	fmt.Fprintf(stderr, "dump: %d frames, %d bad CRC, %d bad signature, %d unknown, %d rejected, %d bytes skipped\n",
		s.Frames, s.BadCRC, s.BadSignature, s.Unknown, s.Rejected, s.BytesSkipped)
	if hint := formatHint(*format, counter, s.BytesSkipped, err); hint != "" {
		fmt.Fprintf(stderr, "dockctl dump: warning: %s\n", hint)
	}
	if err != nil {
		fmt.Fprintf(stderr, "dockctl dump %s: %v\n", name, err)
		return 1
	}
	return 0
}

// formatHint returns a warning when the input looks like the other format:
// more than half of the bytes skipped as noise, a raw read of a file that
// starts with a .tlog timestamp (a tlog read as raw still decodes most
// frames, its timestamps skipped between them), or a tlog read that found
// no MAVLink frame in a record.
func formatHint(format string, c *countingReader, skipped uint64, err error) string {
	other := map[string]string{"tlog": "raw", "raw": "tlog"}[format]
	what := map[string]string{"tlog": "a .tlog flight log", "raw": "a raw MAVLink capture"}[other]
	switch {
	case format == "raw" && skipped >= 8 && c.n >= 8 && plausibleTlogTime(c.head):
		t := time.UnixMicro(int64(binary.BigEndian.Uint64(c.head[:]))).UTC()
		return fmt.Sprintf("%d of %d bytes were skipped and the file starts with a .tlog timestamp (%s): is this %s? try -format %s",
			skipped, c.n, t.Format(time.RFC3339), what, other)
	case c.n > 0 && skipped*2 > uint64(c.n):
		return fmt.Sprintf("%d of %d bytes (%.0f%%) were skipped as noise: is this %s? try -format %s",
			skipped, c.n, 100*float64(skipped)/float64(c.n), what, other)
	case format == "tlog" && errors.Is(err, tlog.ErrCorrupt):
		return fmt.Sprintf("is this %s? try -format %s", what, other)
	}
	return ""
}

// plausibleTlogTime reports whether b, read as a .tlog record's timestamp
// (big-endian microseconds since 1970), falls in 2000..2100.
func plausibleTlogTime(b [8]byte) bool {
	us := int64(binary.BigEndian.Uint64(b[:]))
	return us > time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC).UnixMicro() &&
		us < time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC).UnixMicro()
}

// countingReader counts the bytes read through it and keeps the first 8.
type countingReader struct {
	r    io.Reader
	n    int64
	head [8]byte
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if c.n < 8 {
		copy(c.head[c.n:], p[:n])
	}
	c.n += int64(n)
	return n, err
}

// frameSink takes each decoded frame, with its .tlog time when withTime.
type frameSink func(f *mavlink.Frame, t time.Time, withTime bool) error

func dumpTlog(in io.Reader, p *mavlink.Parser, sink frameSink) error {
	r := tlog.NewReader(bufio.NewReader(in))
	var f mavlink.Frame
	for {
		rec, err := r.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		buf := rec.Frame
		for len(buf) > 0 {
			n, err := p.Next(buf, true, &f)
			buf = buf[n:]
			if err != nil {
				continue // counted by the parser
			}
			if err := sink(&f, rec.Time, true); err != nil {
				return err
			}
		}
	}
}

func dumpRaw(in io.Reader, p *mavlink.Parser, sink frameSink) error {
	r := mavlink.NewReader(in, p)
	var f mavlink.Frame
	for {
		err := r.ReadFrame(&f)
		if err == io.EOF {
			return nil
		}
		if _, ok := errors.AsType[*mavlink.FrameError](err); ok {
			continue // counted by the parser
		}
		if err != nil {
			return err
		}
		if err := sink(&f, time.Time{}, false); err != nil {
			return err
		}
	}
}

// trackSet collects the positions of GLOBAL_POSITION_INT frames, one
// track per sender (system and component id), in file order.
type trackSet struct {
	order  []uint16
	tracks map[uint16]*track
}

type track struct {
	sysID, compID uint8
	points        []geoPos
	maxRelAltM    float64
}

// The fields of GLOBAL_POSITION_INT used (MAVLink common): lat, lon in
// degE7, alt (AMSL) and relative_alt in mm.
var gpiFields = [...]string{"lat", "lon", "alt", "relative_alt"}

func (ts *trackSet) add(f *mavlink.Frame, t time.Time, withTime bool) error {
	if f.Info == nil || f.Info.Name != "GLOBAL_POSITION_INT" {
		return nil
	}
	var v [len(gpiFields)]float64
	for i, name := range gpiFields {
		k := slices.IndexFunc(f.Info.Fields, func(fd mavlink.Field) bool { return fd.Name == name })
		if k < 0 {
			return fmt.Errorf("GLOBAL_POSITION_INT has no field %s", name)
		}
		x, _ := f.Info.FieldValue(f.Payload, k).(int64)
		v[i] = float64(x)
	}
	lat, lon := v[0]/1e7, v[1]/1e7
	if lat == 0 && lon == 0 {
		return nil // no position (no GPS fix yet)
	}
	key := uint16(f.SysID)<<8 | uint16(f.CompID)
	if ts.tracks == nil {
		ts.tracks = map[uint16]*track{}
	}
	tr := ts.tracks[key]
	if tr == nil {
		tr = &track{sysID: f.SysID, compID: f.CompID}
		ts.tracks[key] = tr
		ts.order = append(ts.order, key)
	}
	p := geoPos{Lat: lat, Lon: lon, Alt: v[2] / 1000, HasAlt: true}
	if withTime {
		p.Time = t
	}
	tr.points = append(tr.points, p)
	tr.maxRelAltM = max(tr.maxRelAltM, v[3]/1000)
	return nil
}

// features returns one line per track of two points or more, named after
// the file and the sender.
func (ts *trackSet) features(file string) []mapFeature {
	var fs []mapFeature
	for _, key := range ts.order {
		tr := ts.tracks[key]
		if len(tr.points) < 2 {
			continue
		}
		props := []prop{{"sysid", tr.sysID}, {"compid", tr.compID}, {"points", len(tr.points)}, {"max_rel_alt_m", round3(tr.maxRelAltM)}}
		if first, last := tr.points[0].Time, tr.points[len(tr.points)-1].Time; !first.IsZero() {
			props = append(props, prop{"start", first.UTC().Format(time.RFC3339)}, prop{"end", last.UTC().Format(time.RFC3339)},
				prop{"duration_s", last.Sub(first).Seconds()})
		}
		fs = append(fs, mapFeature{name: fmt.Sprintf("%s system %d/%d", file, tr.sysID, tr.compID), kind: "track",
			style: styleTrack, alt: altAbsolute, line: tr.points, props: props})
	}
	return fs
}

// appendFrameJSON appends one JSON line for f, keys in the order issue 3
// lists them; fields carry the spec names in definition order.
func appendFrameJSON(b []byte, f *mavlink.Frame, t time.Time, withTime bool) []byte {
	b = append(b, '{')
	if withTime {
		b = append(b, `"time":"`...)
		b = t.UTC().AppendFormat(b, "2006-01-02T15:04:05.000000Z07:00")
		b = append(b, `",`...)
	}
	b = append(b, `"v":`...)
	b = strconv.AppendUint(b, uint64(f.Version), 10)
	b = append(b, `,"seq":`...)
	b = strconv.AppendUint(b, uint64(f.Seq), 10)
	b = append(b, `,"sysid":`...)
	b = strconv.AppendUint(b, uint64(f.SysID), 10)
	b = append(b, `,"compid":`...)
	b = strconv.AppendUint(b, uint64(f.CompID), 10)
	b = append(b, `,"msgid":`...)
	b = strconv.AppendUint(b, uint64(f.MsgID), 10)
	b = append(b, `,"name":`...)
	if f.Info == nil {
		b = append(b, "null"...)
	} else {
		b = strconv.AppendQuote(b, f.Info.Name)
	}
	b = append(b, `,"signed":`...)
	b = strconv.AppendBool(b, f.Signed())
	if f.Info == nil {
		b = append(b, `,"payload_hex":"`...)
		b = hex.AppendEncode(b, f.Payload)
		return append(b, "\"}\n"...)
	}
	b = append(b, `,"fields":{`...)
	for i := range f.Info.Fields {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendQuote(b, f.Info.Fields[i].Name)
		b = append(b, ':')
		b = appendValue(b, f.Info.FieldValue(f.Payload, i))
	}
	return append(b, "}}\n"...)
}

func appendValue(b []byte, v any) []byte {
	switch x := v.(type) {
	case uint64:
		return strconv.AppendUint(b, x, 10)
	case int64:
		return strconv.AppendInt(b, x, 10)
	case float32:
		return appendFloat(b, float64(x), 32)
	case float64:
		return appendFloat(b, x, 64)
	case string:
		return appendJSONString(b, x)
	case []uint64:
		return appendList(b, len(x), func(b []byte, i int) []byte { return strconv.AppendUint(b, x[i], 10) })
	case []int64:
		return appendList(b, len(x), func(b []byte, i int) []byte { return strconv.AppendInt(b, x[i], 10) })
	case []float32:
		return appendList(b, len(x), func(b []byte, i int) []byte { return appendFloat(b, float64(x[i]), 32) })
	case []float64:
		return appendList(b, len(x), func(b []byte, i int) []byte { return appendFloat(b, x[i], 64) })
	}
	return append(b, "null"...)
}

// appendFloat writes the shortest round-trip decimal; NaN and infinities,
// which JSON cannot carry as numbers, as the strings the test vectors use;
// a negative zero as -0.0, as the vectors do.
func appendFloat(b []byte, x float64, bits int) []byte {
	switch {
	case math.IsNaN(x):
		return append(b, `"NaN"`...)
	case math.IsInf(x, 1):
		return append(b, `"Infinity"`...)
	case math.IsInf(x, -1):
		return append(b, `"-Infinity"`...)
	case x == 0 && math.Signbit(x):
		// "-0" reads as the integer 0 in JSON readers that tell integers
		// from floats (Python, jq): the sign would be lost.
		return append(b, "-0.0"...)
	}
	return strconv.AppendFloat(b, x, 'g', -1, bits)
}

func appendList(b []byte, n int, elem func([]byte, int) []byte) []byte {
	b = append(b, '[')
	for i := range n {
		if i > 0 {
			b = append(b, ',')
		}
		b = elem(b, i)
	}
	return append(b, ']')
}

// appendJSONString appends x as a JSON string without HTML escaping, so a
// STATUSTEXT "PreArm: alt > 5m" reads as sent rather than as \u003e.
func appendJSONString(b []byte, x string) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(x) // a string always encodes
	return append(b, bytes.TrimSuffix(buf.Bytes(), []byte("\n"))...)
}
