package main

import (
	"bufio"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"time"

	"github.com/dockagent/dock-agent/mavlink"
	"github.com/dockagent/dock-agent/mavlink/tlog"
)

// runDump implements "dockctl dump [-format tlog|raw] FILE|-": one JSON
// object per frame on stdout (issue 3), a summary of counts on stderr.
func runDump(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("dump", flag.ContinueOnError)
	fs.SetOutput(stderr)
	format := fs.String("format", "", "input format: tlog or raw (default: tlog for *.tlog files, else raw)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: dockctl dump [-format tlog|raw] FILE|-")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return 2
	}
	name := fs.Arg(0)
	in := stdin
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			fmt.Fprintf(stderr, "dockctl dump: %v\n", err)
			return 1
		}
		defer f.Close()
		in = f
	}
	if *format == "" {
		*format = "raw"
		if len(name) > 5 && name[len(name)-5:] == ".tlog" {
			*format = "tlog"
		}
	}
	out := bufio.NewWriter(stdout)
	defer out.Flush()
	p := mavlink.NewParser(mavlink.ParserOptions{})
	var err error
	switch *format {
	case "tlog":
		err = dumpTlog(in, out, p)
	case "raw":
		err = dumpRaw(in, out, p)
	default:
		fmt.Fprintf(stderr, "dockctl dump: -format %q: want tlog or raw\n", *format)
		return 2
	}
	if ferr := out.Flush(); err == nil && ferr != nil {
		err = fmt.Errorf("write output: %w", ferr)
	}
	s := p.Stats()
	fmt.Fprintf(stderr, "dump: %d frames, %d bad CRC, %d bad signature, %d unknown, %d rejected, %d bytes skipped\n",
		s.Frames, s.BadCRC, s.BadSignature, s.Unknown, s.Rejected, s.BytesSkipped)
	if err != nil {
		fmt.Fprintf(stderr, "dockctl dump %s: %v\n", name, err)
		return 1
	}
	return 0
}

func dumpTlog(in io.Reader, out *bufio.Writer, p *mavlink.Parser) error {
	r := tlog.NewReader(bufio.NewReader(in))
	var f mavlink.Frame
	var line []byte
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
			line = appendFrameJSON(line[:0], &f, rec.Time, true)
			if _, err := out.Write(line); err != nil {
				return fmt.Errorf("write output: %w", err)
			}
		}
	}
}

func dumpRaw(in io.Reader, out *bufio.Writer, p *mavlink.Parser) error {
	r := mavlink.NewReader(in, p)
	var f mavlink.Frame
	var line []byte
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
		line = appendFrameJSON(line[:0], &f, time.Time{}, false)
		if _, err := out.Write(line); err != nil {
			return fmt.Errorf("write output: %w", err)
		}
	}
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
		s, _ := json.Marshal(x) // a string always marshals
		return append(b, s...)
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
// which JSON cannot carry as numbers, as the strings the test vectors use.
func appendFloat(b []byte, x float64, bits int) []byte {
	switch {
	case math.IsNaN(x):
		return append(b, `"NaN"`...)
	case math.IsInf(x, 1):
		return append(b, `"Infinity"`...)
	case math.IsInf(x, -1):
		return append(b, `"-Infinity"`...)
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
