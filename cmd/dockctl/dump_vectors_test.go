package main

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"encoding/json"
	"math"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/dockagent/dock-agent/mavlink"
)

// vectorsPath holds the reference frames of the MAVLink reference
// implementation (pymavlink), each with its decoded fields.
const vectorsPath = "../../mavlink/testdata/vectors.jsonl"

type dumpVector struct {
	I      int                        `json:"i"`
	MsgID  uint32                     `json:"msgid"`
	Hex    string                     `json:"hex"`
	Fields map[string]json.RawMessage `json:"fields"`
}

// TestDumpVectors dumps every reference frame as one raw capture and
// compares every field of every frame with the reference: integers by
// their decimal text (64-bit values exceed 2^53), floats bit for bit after
// conversion to the field's type, so the sign of zero counts, and a
// negative zero is written -0.0, which JSON readers that tell integers from
// floats (Python, jq) keep negative.
func TestDumpVectors(t *testing.T) {
	f, err := os.Open(vectorsPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<22)
	var vs []dumpVector
	var capture []byte
	for first := true; sc.Scan(); first = false {
		if first {
			continue // the header
		}
		var v dumpVector
		if err := json.Unmarshal(sc.Bytes(), &v); err != nil {
			t.Fatalf("decode vector: %v", err)
		}
		b, err := hex.DecodeString(v.Hex)
		if err != nil {
			t.Fatalf("vector %d: hex: %v", v.I, err)
		}
		vs = append(vs, v)
		capture = append(capture, b...)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(vs) != 3000 {
		t.Fatalf("read %d vectors, want 3000", len(vs))
	}
	var stdout, stderr bytes.Buffer
	if code := run([]string{"dump", "-format", "raw", "-"}, bytes.NewReader(capture), &stdout, &stderr); code != 0 {
		t.Fatalf("dump exit %d, stderr %s", code, stderr.String())
	}
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	if len(lines) != len(vs) {
		t.Fatalf("dump printed %d lines for %d frames; stderr %s", len(lines), len(vs), stderr.String())
	}
	negZero := 0
	for k, v := range vs {
		var got struct {
			MsgID  uint32                     `json:"msgid"`
			Fields map[string]json.RawMessage `json:"fields"`
		}
		if err := json.Unmarshal([]byte(lines[k]), &got); err != nil {
			t.Fatalf("frame %d: line is not JSON: %v: %s", v.I, err, lines[k])
		}
		mi := mavlink.LookupMessage(v.MsgID)
		if got.MsgID != v.MsgID || mi == nil {
			t.Fatalf("frame %d: msgid %d, want %d", v.I, got.MsgID, v.MsgID)
		}
		if len(got.Fields) != len(v.Fields) {
			t.Errorf("frame %d %s: %d fields, want %d", v.I, mi.Name, len(got.Fields), len(v.Fields))
		}
		for _, fd := range mi.Fields {
			g, w := got.Fields[fd.Name], v.Fields[fd.Name]
			n, err := compareField(fd.Type, g, w)
			negZero += n
			if err != "" {
				t.Errorf("frame %d %s.%s = %s, want %s: %s", v.I, mi.Name, fd.Name, g, w, err)
			}
		}
	}
	// The reference set has negative zeros: the comparison above met them.
	if negZero == 0 {
		t.Error("no negative zero met; the test would not catch a lost sign")
	}
	t.Logf("%d frames compared, %d negative zeros among their float values", len(vs), negZero)
}

// compareField compares one dumped value with the reference's, recursing
// into arrays; it returns how many negative zeros it met and what differs.
func compareField(ft mavlink.FieldType, got, want json.RawMessage) (negZero int, diff string) {
	if len(want) > 0 && want[0] == '[' && ft != mavlink.FieldChar {
		var g, w []json.RawMessage
		if json.Unmarshal(got, &g) != nil || json.Unmarshal(want, &w) != nil || len(g) != len(w) {
			return 0, "not the same list"
		}
		for i := range w {
			n, d := compareField(ft, g[i], w[i])
			negZero += n
			if d != "" {
				return negZero, "element " + strconv.Itoa(i) + ": " + d
			}
		}
		return negZero, ""
	}
	if ft == mavlink.FieldChar {
		var g, w string
		if json.Unmarshal(got, &g) != nil || json.Unmarshal(want, &w) != nil || g != w {
			return 0, "differs"
		}
		return 0, ""
	}
	if ft != mavlink.FieldFloat && ft != mavlink.FieldDouble {
		if string(got) != string(want) {
			return 0, "differs"
		}
		return 0, ""
	}
	bits := 64
	if ft == mavlink.FieldFloat {
		bits = 32
	}
	gv, gerr := jsonFloat(got, bits)
	wv, werr := jsonFloat(want, bits)
	if gerr != nil || werr != nil {
		return 0, "not a float"
	}
	if math.IsNaN(wv) {
		if !math.IsNaN(gv) {
			return 0, "want NaN"
		}
		return 0, ""
	}
	if wv == 0 && math.Signbit(wv) {
		negZero = 1
		if string(got) != "-0.0" {
			return negZero, "negative zero written as " + string(got) + ", want -0.0"
		}
	}
	if math.Float64bits(gv) != math.Float64bits(wv) {
		return negZero, "differs in value or sign"
	}
	return negZero, ""
}

// jsonFloat reads a JSON number or one of the strings NaN, Infinity,
// -Infinity, rounded to the field's precision.
func jsonFloat(raw json.RawMessage, bits int) (float64, error) {
	s := string(raw)
	if u, err := strconv.Unquote(s); err == nil {
		s = u
	}
	switch s {
	case "Infinity":
		return math.Inf(1), nil
	case "-Infinity":
		return math.Inf(-1), nil
	}
	return strconv.ParseFloat(s, bits)
}
