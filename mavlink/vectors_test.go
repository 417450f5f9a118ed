package mavlink

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"reflect"
	"strconv"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
)

type vectorField struct {
	Name      string `json:"name"`
	Type      string `json:"type"`
	ArrayLen  int    `json:"array_len"`
	Extension bool   `json:"extension"`
}

type vectorMessage struct {
	MsgID     uint32        `json:"msgid"`
	Name      string        `json:"name"`
	CRCExtra  uint8         `json:"crc_extra"`
	MinLen    int           `json:"min_len"`
	MaxLen    int           `json:"max_len"`
	Fields    []vectorField `json:"fields"`
	WireOrder []string      `json:"wire_order"`
}

type vectorHeader struct {
	Signing struct {
		KeyHex string `json:"key_hex"`
		LinkID uint8  `json:"link_id"`
	} `json:"signing"`
	Messages map[string]vectorMessage `json:"messages"`
}

type vector struct {
	I             int            `json:"i"`
	MsgID         uint32         `json:"msgid"`
	Name          string         `json:"name"`
	Version       uint8          `json:"version"`
	Signed        bool           `json:"signed"`
	Kind          string         `json:"kind"`
	Hex           string         `json:"hex"`
	Fields        map[string]any `json:"fields"`
	SysID         uint8          `json:"sysid"`
	CompID        uint8          `json:"compid"`
	Seq           uint8          `json:"seq"`
	LinkID        uint8          `json:"link_id"`
	SignTimestamp uint64         `json:"sign_timestamp"`
}

func loadVectors(t testing.TB) (vectorHeader, []vector) {
	t.Helper()
	f, err := os.Open("testdata/vectors.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<22)
	var h vectorHeader
	var vs []vector
	for first := true; sc.Scan(); first = false {
		d := json.NewDecoder(bytes.NewReader(sc.Bytes()))
		d.UseNumber()
		if first {
			if err := d.Decode(&h); err != nil {
				t.Fatalf("decode header: %v", err)
			}
			continue
		}
		var v vector
		if err := d.Decode(&v); err != nil {
			t.Fatalf("decode vector: %v", err)
		}
		vs = append(vs, v)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return h, vs
}

func fieldTypeName(f *Field) string { return f.Type.String() }

// checkTable compares a table entry with published facts.
func checkTable(t *testing.T, want vectorMessage) {
	t.Helper()
	mi := LookupMessage(want.MsgID)
	if mi == nil {
		t.Fatalf("LookupMessage(%d) = nil, want %s", want.MsgID, want.Name)
	}
	if mi.Name != want.Name || mi.CRCExtra != want.CRCExtra || mi.MinLen != want.MinLen || mi.MaxLen != want.MaxLen {
		t.Errorf("%d: table = %s crc_extra %d len %d..%d, want %s %d %d..%d",
			want.MsgID, mi.Name, mi.CRCExtra, mi.MinLen, mi.MaxLen, want.Name, want.CRCExtra, want.MinLen, want.MaxLen)
	}
	if len(mi.Fields) != len(want.Fields) {
		t.Fatalf("%s: %d fields, want %d", want.Name, len(mi.Fields), len(want.Fields))
	}
	off := map[string]int{}
	for i, f := range mi.Fields {
		w := want.Fields[i]
		if f.Name != w.Name || fieldTypeName(&f) != w.Type || f.ArrayLen != w.ArrayLen || f.Extension != w.Extension {
			t.Errorf("%s field %d = %+v, want %+v", want.Name, i, f, w)
		}
		off[f.Name] = f.Offset
	}
	for i := 1; i < len(want.WireOrder); i++ {
		if off[want.WireOrder[i-1]] >= off[want.WireOrder[i]] {
			t.Errorf("%s: wire order puts %s before %s", want.Name, want.WireOrder[i], want.WireOrder[i-1])
		}
	}
}

func TestTableMatchesVectorHeader(t *testing.T) {
	h, _ := loadVectors(t)
	if len(h.Messages) != 40 {
		t.Fatalf("header has %d messages, want 40", len(h.Messages))
	}
	for name, m := range h.Messages {
		m.Name = name
		t.Run(name, func(t *testing.T) { checkTable(t, m) })
	}
}

func TestTableMatchesPublishedDialect(t *testing.T) {
	b, err := os.ReadFile("testdata/msgtable-ardupilotmega.json")
	if err != nil {
		t.Fatal(err)
	}
	var tab struct {
		Messages map[string]vectorMessage `json:"messages"`
	}
	if err := json.Unmarshal(b, &tab); err != nil {
		t.Fatal(err)
	}
	n := 0
	Messages(func(*MessageInfo) bool { n++; return true })
	if n != len(tab.Messages) || n != 325 {
		t.Errorf("table has %d messages, published %d, want 325", n, len(tab.Messages))
	}
	for id, m := range tab.Messages {
		u, _ := strconv.ParseUint(id, 10, 32)
		m.MsgID = uint32(u)
		t.Run(m.Name, func(t *testing.T) { checkTable(t, m) })
	}
}

// wantValue converts a JSON vector value to what FieldValue returns.
func wantValue(f *Field, v any) (any, error) {
	if f.ArrayLen > 0 && f.Type != FieldChar {
		a, ok := v.([]any)
		if !ok {
			return nil, fmt.Errorf("%s: %T is not a list", f.Name, v)
		}
		switch f.Type {
		case FieldFloat:
			out := make([]float32, len(a))
			for i, x := range a {
				s, err := scalarValue(FieldFloat, x)
				if err != nil {
					return nil, err
				}
				out[i] = s.(float32)
			}
			return out, nil
		case FieldDouble:
			out := make([]float64, len(a))
			for i, x := range a {
				s, err := scalarValue(FieldDouble, x)
				if err != nil {
					return nil, err
				}
				out[i] = s.(float64)
			}
			return out, nil
		case FieldInt8, FieldInt16, FieldInt32, FieldInt64:
			out := make([]int64, len(a))
			for i, x := range a {
				s, err := scalarValue(f.Type, x)
				if err != nil {
					return nil, err
				}
				out[i] = s.(int64)
			}
			return out, nil
		default:
			out := make([]uint64, len(a))
			for i, x := range a {
				s, err := scalarValue(f.Type, x)
				if err != nil {
					return nil, err
				}
				out[i] = s.(uint64)
			}
			return out, nil
		}
	}
	if f.Type == FieldChar && f.ArrayLen > 0 {
		s, ok := v.(string)
		if !ok {
			return nil, fmt.Errorf("%s: %T is not a string", f.Name, v)
		}
		return s, nil
	}
	return scalarValue(f.Type, v)
}

func scalarValue(t FieldType, v any) (any, error) {
	if s, ok := v.(string); ok {
		var x float64
		switch s {
		case "NaN":
			x = math.NaN()
		case "Infinity":
			x = math.Inf(1)
		case "-Infinity":
			x = math.Inf(-1)
		default:
			if t == FieldChar && len(s) <= 1 {
				if s == "" {
					return uint64(0), nil
				}
				return uint64(s[0]), nil
			}
			return nil, fmt.Errorf("unexpected string %q", s)
		}
		if t == FieldFloat {
			return float32(x), nil
		}
		return x, nil
	}
	n, ok := v.(json.Number)
	if !ok {
		return nil, fmt.Errorf("%T is not a number", v)
	}
	switch t {
	case FieldFloat:
		x, err := strconv.ParseFloat(n.String(), 32)
		return float32(x), err
	case FieldDouble:
		return strconv.ParseFloat(n.String(), 64)
	case FieldInt8, FieldInt16, FieldInt32, FieldInt64:
		return strconv.ParseInt(n.String(), 10, 64)
	default:
		return strconv.ParseUint(n.String(), 10, 64)
	}
}

// sameValue compares decoded values, floats bit for bit (NaN as the quiet NaN).
func sameValue(got, want any) bool {
	switch g := got.(type) {
	case float32:
		w := want.(float32)
		if g != g {
			return w != w
		}
		return math.Float32bits(g) == math.Float32bits(w)
	case float64:
		w := want.(float64)
		if g != g {
			return w != w
		}
		return math.Float64bits(g) == math.Float64bits(w)
	case []float32:
		w := want.([]float32)
		if len(g) != len(w) {
			return false
		}
		for i := range g {
			if !sameValue(g[i], w[i]) {
				return false
			}
		}
		return true
	case []float64:
		w := want.([]float64)
		if len(g) != len(w) {
			return false
		}
		for i := range g {
			if !sameValue(g[i], w[i]) {
				return false
			}
		}
		return true
	}
	return reflect.DeepEqual(got, want)
}

// reflectValue converts a generated struct field to FieldValue's types.
func reflectValue(v reflect.Value, f *Field) any {
	if f.ArrayLen > 0 {
		if f.Type == FieldChar {
			b := make([]byte, v.Len())
			reflect.Copy(reflect.ValueOf(b), v)
			if k := bytes.IndexByte(b, 0); k >= 0 {
				b = b[:k]
			}
			return string(b)
		}
		var out reflect.Value
		switch f.Type {
		case FieldFloat:
			out = reflect.ValueOf(make([]float32, v.Len()))
		case FieldDouble:
			out = reflect.ValueOf(make([]float64, v.Len()))
		case FieldInt8, FieldInt16, FieldInt32, FieldInt64:
			out = reflect.ValueOf(make([]int64, v.Len()))
		default:
			out = reflect.ValueOf(make([]uint64, v.Len()))
		}
		for i := 0; i < v.Len(); i++ {
			out.Index(i).Set(reflect.ValueOf(reflectValue(v.Index(i), &Field{Type: f.Type})))
		}
		return out.Interface()
	}
	switch v.Kind() {
	case reflect.Float32:
		return float32(v.Float())
	case reflect.Float64:
		return v.Float()
	case reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return v.Int()
	default:
		return v.Uint()
	}
}

// TestVectors is the conformance test over every pymavlink vector: parse,
// decode generically and into typed structs, re-encode both ways and sign.
func TestVectors(t *testing.T) {
	h, vs := loadVectors(t)
	if len(vs) != 3000 {
		t.Fatalf("%d vectors, want 3000", len(vs))
	}
	var key [32]byte
	kb, err := hex.DecodeString(h.Signing.KeyHex)
	if err != nil || len(kb) != 32 {
		t.Fatalf("signing key %q: %v", h.Signing.KeyHex, err)
	}
	copy(key[:], kb)
	epoch := clockwork.NewFakeClockAt(time.Unix(signingEpoch, 0))
	typed := 0
	for _, v := range vs {
		t.Run(fmt.Sprintf("%d_%s_%s", v.I, v.Name, v.Kind), func(t *testing.T) {
			raw, err := hex.DecodeString(v.Hex)
			if err != nil {
				t.Fatal(err)
			}
			p := NewParser(ParserOptions{Verifier: NewVerifier(VerifierOptions{Key: key, Clock: epoch})})
			var f Frame
			n, err := p.Next(raw, true, &f)
			if err != nil || n != len(raw) {
				t.Fatalf("Next() = %d, %v, want %d, nil", n, err, len(raw))
			}
			if f.Version != v.Version || f.MsgID != v.MsgID || f.SysID != v.SysID || f.CompID != v.CompID || f.Seq != v.Seq || f.Signed() != v.Signed {
				t.Fatalf("frame = v%d id %d %d/%d seq %d signed %v, want v%d id %d %d/%d seq %d signed %v",
					f.Version, f.MsgID, f.SysID, f.CompID, f.Seq, f.Signed(), v.Version, v.MsgID, v.SysID, v.CompID, v.Seq, v.Signed)
			}
			if v.Signed && (f.LinkID != v.LinkID || f.Timestamp != v.SignTimestamp) {
				t.Errorf("signature link %d ts %d, want %d %d", f.LinkID, f.Timestamp, v.LinkID, v.SignTimestamp)
			}
			mi := f.Info
			if mi == nil || mi.Name != v.Name {
				t.Fatalf("frame Info = %v, want %s", mi, v.Name)
			}
			var full [MaxPayloadLen]byte
			for i := range mi.Fields {
				fd := &mi.Fields[i]
				jv, ok := v.Fields[fd.Name]
				if !ok {
					t.Fatalf("vector lacks field %s", fd.Name)
				}
				want, err := wantValue(fd, jv)
				if err != nil {
					t.Fatal(err)
				}
				if got := mi.FieldValue(f.Payload, i); !sameValue(got, want) {
					t.Errorf("FieldValue(%s) = %#v, want %#v", fd.Name, got, want)
				}
				if err := mi.PutFieldValue(full[:], i, want); err != nil {
					t.Fatal(err)
				}
			}
			var signer *Signer
			newSigner := func() *Signer {
				if !v.Signed {
					return nil
				}
				return NewSigner(SignerOptions{Key: key, LinkID: v.LinkID, Clock: epoch, Last: v.SignTimestamp - 1})
			}
			hd := Header{Version: v.Version, Seq: v.Seq, SysID: v.SysID, CompID: v.CompID}
			signer = newSigner()
			got, err := AppendPayload(nil, hd, v.MsgID, full[:mi.MaxLen], signer)
			if err != nil || !bytes.Equal(got, raw) {
				t.Errorf("AppendPayload() = %x, %v\nwant %x", got, err, raw)
			}
			m := NewMessage(v.MsgID)
			if m == nil {
				t.Fatalf("no typed struct for %s", v.Name)
			}
			typed++
			if err := DecodeMessage(&f, m); err != nil {
				t.Fatal(err)
			}
			rv := reflect.ValueOf(m).Elem()
			if rv.NumField() != len(mi.Fields) {
				t.Fatalf("%T has %d fields, want %d", m, rv.NumField(), len(mi.Fields))
			}
			for i := range mi.Fields {
				fd := &mi.Fields[i]
				if g, w := reflectValue(rv.Field(i), fd), mi.FieldValue(f.Payload, i); !sameValue(g, w) {
					t.Errorf("%T.%s (%s) = %#v, want %#v", m, rv.Type().Field(i).Name, fd.Name, g, w)
				}
			}
			signer = newSigner()
			got, err = AppendMessage(nil, hd, m, signer)
			if err != nil || !bytes.Equal(got, raw) {
				t.Errorf("AppendMessage() = %x, %v\nwant %x", got, err, raw)
			}
		})
	}
	if typed != len(vs) {
		t.Errorf("%d of %d vectors decoded into typed structs", typed, len(vs))
	}
}
