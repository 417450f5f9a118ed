// Command mavgen generates the MAVLink message table, typed message structs
// and enums of package mavlink from our compact definition files
// (mavlink/defs/*.def). It is run by go generate from mavlink/gen.go; it
// reads only its input file and needs no network.
//
// Usage:
//
//	mavgen -o common_gen.go defs/common.def
//	mavgen -enums -o enums_gen.go defs/enums.def
package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"go/format"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

func main() {
	out := flag.String("o", "", "output Go file")
	enums := flag.Bool("enums", false, "the input is an enum definition file")
	flag.Parse()
	if flag.NArg() != 1 || *out == "" {
		fmt.Fprintln(os.Stderr, "usage: mavgen [-enums] -o OUT.go DEFS.def")
		os.Exit(2)
	}
	if err := run(flag.Arg(0), *out, *enums); err != nil {
		fmt.Fprintln(os.Stderr, "mavgen:", err)
		os.Exit(1)
	}
}

func run(in, out string, enums bool) error {
	src, err := os.ReadFile(in)
	if err != nil {
		return fmt.Errorf("read definitions: %w", err)
	}
	rel := filepath.ToSlash(in)
	var code []byte
	if enums {
		es, err := parseEnums(in, src)
		if err != nil {
			return err
		}
		code, err = genEnums(rel, es)
		if err != nil {
			return err
		}
	} else {
		ms, err := parseMessages(in, src)
		if err != nil {
			return err
		}
		base := strings.TrimSuffix(filepath.Base(in), ".def")
		code, err = genMessages(rel, base, ms)
		if err != nil {
			return err
		}
	}
	if err := os.WriteFile(out, code, 0o644); err != nil {
		return fmt.Errorf("write %s: %w", out, err)
	}
	return nil
}

// field is one field of a message definition.
type field struct {
	ctype    string // C base type: uint8_t, char, float...
	name     string // spec name
	arrayLen int    // 0 for a scalar
	ext      bool   // extension field
	enum     string // spec enum name or ""
	doc      string
	offset   int // in the full payload, wire order
}

// message is one message definition.
type message struct {
	id       uint32
	name     string
	typed    bool
	doc      string
	fields   []*field // definition order
	wire     []*field // wire order
	crcExtra uint8
	minLen   int
	maxLen   int
}

var typeSizes = map[string]int{
	"char": 1, "uint8_t": 1, "int8_t": 1,
	"uint16_t": 2, "int16_t": 2,
	"uint32_t": 4, "int32_t": 4, "float": 4,
	"uint64_t": 8, "int64_t": 8, "double": 8,
}

func splitDoc(s string) (string, string) {
	if i := strings.Index(s, " : "); i >= 0 {
		return strings.TrimSpace(s[:i]), strings.TrimSpace(s[i+3:])
	}
	return strings.TrimSpace(s), ""
}

func parseMessages(path string, src []byte) ([]*message, error) {
	var ms []*message
	var cur *message
	inExt := false
	sc := bufio.NewScanner(bytes.NewReader(src))
	for ln := 1; sc.Scan(); ln++ {
		line := sc.Text()
		t := strings.TrimSpace(line)
		if t == "" || strings.HasPrefix(t, "#") {
			continue
		}
		body, doc := splitDoc(t)
		words := strings.Fields(body)
		errf := func(format string, a ...any) error {
			return fmt.Errorf("%s:%d: %s", path, ln, fmt.Sprintf(format, a...))
		}
		switch {
		case words[0] == "message":
			if len(words) < 3 || len(words) > 4 {
				return nil, errf("want: message ID NAME [typed] [: doc]")
			}
			id, err := strconv.ParseUint(words[1], 10, 24)
			if err != nil {
				return nil, errf("message id %q: %v", words[1], err)
			}
			cur = &message{id: uint32(id), name: words[2], doc: doc}
			if len(words) == 4 {
				if words[3] != "typed" {
					return nil, errf("unknown message option %q", words[3])
				}
				cur.typed = true
			}
			ms = append(ms, cur)
			inExt = false
		case cur == nil:
			return nil, errf("field outside a message")
		case body == "extensions":
			inExt = true
		default:
			if len(words) < 2 || len(words) > 3 {
				return nil, errf("want: CTYPE[LEN] name [enum=ENUM] [: doc]")
			}
			f := &field{name: words[1], ext: inExt, doc: doc}
			ct := words[0]
			if i := strings.IndexByte(ct, '['); i >= 0 {
				n, err := strconv.Atoi(strings.TrimSuffix(ct[i+1:], "]"))
				if err != nil || n < 1 || n > 255 {
					return nil, errf("bad array length in %q", ct)
				}
				f.arrayLen = n
				ct = ct[:i]
			}
			if _, ok := typeSizes[ct]; !ok {
				return nil, errf("unknown type %q", ct)
			}
			f.ctype = ct
			if len(words) == 3 {
				e, ok := strings.CutPrefix(words[2], "enum=")
				if !ok {
					return nil, errf("unknown field option %q", words[2])
				}
				f.enum = e
			}
			cur.fields = append(cur.fields, f)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	seen := map[uint32]bool{}
	for _, m := range ms {
		if seen[m.id] {
			return nil, fmt.Errorf("%s: message id %d defined twice", path, m.id)
		}
		seen[m.id] = true
		layout(m)
		if m.maxLen > 255 {
			return nil, fmt.Errorf("%s: message %s is %d bytes, over 255", path, m.name, m.maxLen)
		}
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].id < ms[j].id })
	return ms, nil
}

// layout computes the wire order (base fields sorted stably by element size,
// largest first, then extensions in definition order), the offsets, the
// lengths and CRC_EXTRA (PROTOCOL.md §1 and §3).
func layout(m *message) {
	var base, ext []*field
	for _, f := range m.fields {
		if f.ext {
			ext = append(ext, f)
		} else {
			base = append(base, f)
		}
	}
	sort.SliceStable(base, func(i, j int) bool { return typeSizes[base[i].ctype] > typeSizes[base[j].ctype] })
	m.wire = append(base, ext...)
	off := 0
	for _, f := range m.wire {
		f.offset = off
		off += f.size()
		if !f.ext {
			m.minLen = off
		}
	}
	m.maxLen = off
	crc := uint16(0xffff)
	crc = x25(crc, []byte(m.name+" "))
	for _, f := range base {
		crc = x25(crc, []byte(f.ctype+" "))
		crc = x25(crc, []byte(f.name+" "))
		if f.arrayLen > 0 {
			crc = x25(crc, []byte{byte(f.arrayLen)})
		}
	}
	m.crcExtra = uint8(crc&0xff) ^ uint8(crc>>8)
}

func (f *field) size() int {
	n := typeSizes[f.ctype]
	if f.arrayLen > 0 {
		n *= f.arrayLen
	}
	return n
}

// x25 is CRC-16/MCRF4XX, the MAVLink checksum.
func x25(crc uint16, b []byte) uint16 {
	for _, c := range b {
		tmp := c ^ uint8(crc)
		tmp ^= tmp << 4
		crc = crc>>8 ^ uint16(tmp)<<8 ^ uint16(tmp)<<3 ^ uint16(tmp)>>4
	}
	return crc
}

var initialisms = map[string]string{
	"id": "ID", "gps": "GPS", "rc": "RC", "vfr": "VFR", "hud": "HUD", "ekf": "EKF",
	"rtcm": "RTCM", "uid": "UID", "utc": "UTC", "adsb": "ADSB", "crc": "CRC", "imu": "IMU",
	"ned": "NED", "mav": "MAV", "rssi": "RSSI", "os": "OS", "usec": "Usec", "ms": "MS",
}

// goName turns a spec name (GLOBAL_POSITION_INT, relative_alt) into Go case
// (GlobalPositionInt, RelativeAlt) with initialisms in upper case.
func goName(s string) string {
	var b strings.Builder
	for _, p := range strings.Split(strings.ToLower(s), "_") {
		if p == "" {
			continue
		}
		if r, ok := initialisms[p]; ok {
			b.WriteString(r)
			continue
		}
		b.WriteString(strings.ToUpper(p[:1]) + p[1:])
	}
	return b.String()
}

var goTypes = map[string]string{
	"char": "byte", "uint8_t": "uint8", "int8_t": "int8",
	"uint16_t": "uint16", "int16_t": "int16",
	"uint32_t": "uint32", "int32_t": "int32", "float": "float32",
	"uint64_t": "uint64", "int64_t": "int64", "double": "float64",
}

var fieldTypes = map[string]string{
	"char": "FieldChar", "uint8_t": "FieldUint8", "int8_t": "FieldInt8",
	"uint16_t": "FieldUint16", "int16_t": "FieldInt16",
	"uint32_t": "FieldUint32", "int32_t": "FieldInt32", "float": "FieldFloat",
	"uint64_t": "FieldUint64", "int64_t": "FieldInt64", "double": "FieldDouble",
}

func (f *field) goType() string {
	if f.enum != "" {
		return goName(f.enum)
	}
	return goTypes[f.ctype]
}

// readExpr is the Go expression reading the scalar of f's element type at
// byte offset off of p, converted to the field's Go type.
func readExpr(f *field, off string) string {
	var e string
	switch f.ctype {
	case "char", "uint8_t":
		e = "p[" + off + "]"
	case "int8_t":
		e = "int8(p[" + off + "])"
	case "uint16_t":
		e = "binary.LittleEndian.Uint16(p[" + off + ":])"
	case "int16_t":
		e = "int16(binary.LittleEndian.Uint16(p[" + off + ":]))"
	case "uint32_t":
		e = "binary.LittleEndian.Uint32(p[" + off + ":])"
	case "int32_t":
		e = "int32(binary.LittleEndian.Uint32(p[" + off + ":]))"
	case "float":
		e = "math.Float32frombits(binary.LittleEndian.Uint32(p[" + off + ":]))"
	case "uint64_t":
		e = "binary.LittleEndian.Uint64(p[" + off + ":])"
	case "int64_t":
		e = "int64(binary.LittleEndian.Uint64(p[" + off + ":]))"
	case "double":
		e = "math.Float64frombits(binary.LittleEndian.Uint64(p[" + off + ":]))"
	}
	if f.enum != "" {
		e = goName(f.enum) + "(" + e + ")"
	}
	return e
}

// writeStmt is the Go statement writing value v of f's element type at byte
// offset off of p.
func writeStmt(f *field, off, v string) string {
	switch f.ctype {
	case "char", "uint8_t", "int8_t":
		return "p[" + off + "] = byte(" + v + ")"
	case "uint16_t", "int16_t":
		return "binary.LittleEndian.PutUint16(p[" + off + ":], uint16(" + v + "))"
	case "uint32_t", "int32_t":
		return "binary.LittleEndian.PutUint32(p[" + off + ":], uint32(" + v + "))"
	case "float":
		return "binary.LittleEndian.PutUint32(p[" + off + ":], math.Float32bits(" + v + "))"
	case "uint64_t", "int64_t":
		return "binary.LittleEndian.PutUint64(p[" + off + ":], uint64(" + v + "))"
	case "double":
		return "binary.LittleEndian.PutUint64(p[" + off + ":], math.Float64bits(" + v + "))"
	}
	panic("mavgen: unknown type " + f.ctype)
}

func genMessages(rel, base string, ms []*message) ([]byte, error) {
	var b bytes.Buffer
	w := func(format string, a ...any) { fmt.Fprintf(&b, format, a...) }
	w("// Code generated by mavgen from %s; DO NOT EDIT.\n\n", rel)
	w("package mavlink\n\n")
	anyTyped := false
	for _, m := range ms {
		anyTyped = anyTyped || m.typed
	}
	if anyTyped {
		w("import (\n\"encoding/binary\"\n\"math\"\n)\n\n")
	}
	table := base + "Messages"
	w("// %s is the dialect table of %s, sorted by message id.\n", table, rel)
	w("var %s = [...]MessageInfo{\n", table)
	for _, m := range ms {
		w("{ID: %d, Name: %q, CRCExtra: %d, MinLen: %d, MaxLen: %d, Fields: []Field{\n", m.id, m.name, m.crcExtra, m.minLen, m.maxLen)
		for _, f := range m.fields {
			w("{Name: %q, Type: %s, ArrayLen: %d, Offset: %d, Extension: %v},\n", f.name, fieldTypes[f.ctype], f.arrayLen, f.offset, f.ext)
		}
		w("}},\n")
	}
	w("}\n\n")
	lookup := "lookup" + goName(base)
	w("// %s returns the table entry of message id, or nil if %s does not define it.\n", lookup, rel)
	w("func %s(id uint32) *MessageInfo {\nswitch id {\n", lookup)
	for i, m := range ms {
		w("case %d:\nreturn &%s[%d]\n", m.id, table, i)
	}
	w("}\nreturn nil\n}\n\n")

	newFn := "new" + goName(base) + "Message"
	w("// %s returns a new typed message for id, or nil if %s gives id no Go type.\n", newFn, rel)
	w("func %s(id uint32) Message {\nswitch id {\n", newFn)
	for _, m := range ms {
		if m.typed {
			w("case %d:\nreturn new(%s)\n", m.id, goName(m.name))
		}
	}
	w("}\nreturn nil\n}\n")

	for _, m := range ms {
		if !m.typed {
			continue
		}
		if err := genStruct(&b, m); err != nil {
			return nil, err
		}
	}
	out, err := format.Source(b.Bytes())
	if err != nil {
		return nil, fmt.Errorf("format generated code for %s: %w", rel, err)
	}
	return out, nil
}

func genStruct(b *bytes.Buffer, m *message) error {
	w := func(format string, a ...any) { fmt.Fprintf(b, format, a...) }
	tn := goName(m.name)
	names := map[string]bool{"MsgID": true, "EncodePayload": true, "DecodePayload": true}
	doc := m.doc
	if doc == "" {
		doc = "is the MAVLink message " + m.name
	}
	w("\n// %s is MAVLink %s (id %d): it %s.\n", tn, m.name, m.id, doc)
	w("type %s struct {\n", tn)
	for i, f := range m.fields {
		fn := goName(f.name)
		if names[fn] {
			return fmt.Errorf("message %s: field %s clashes as Go name %s", m.name, f.name, fn)
		}
		names[fn] = true
		if f.ext && (i == 0 || !m.fields[i-1].ext) {
			w("\n// Extension fields: absent in MAVLink 1 frames, zero when not sent.\n\n")
		}
		if f.doc != "" {
			w("// %s %s\n", fn, f.doc)
		}
		if f.arrayLen > 0 {
			w("%s [%d]%s // %s\n", fn, f.arrayLen, f.goType(), f.name)
		} else {
			w("%s %s // %s\n", fn, f.goType(), f.name)
		}
	}
	w("}\n\n")
	w("// MsgID returns %d, the id of %s.\n", m.id, m.name)
	w("func (*%s) MsgID() uint32 { return %d }\n\n", tn, m.id)

	w("// EncodePayload writes m in wire order into p, which must hold at least %d\n", m.maxLen)
	w("// bytes, and returns %d, the untruncated payload length.\n", m.maxLen)
	w("func (m *%s) EncodePayload(p []byte) int {\n", tn)
	w("_ = p[%d]\n", m.maxLen-1)
	for _, f := range m.wire {
		fn := "m." + goName(f.name)
		switch {
		case f.arrayLen == 0:
			w("%s\n", writeStmt(f, strconv.Itoa(f.offset), fn))
		case (f.ctype == "char" || f.ctype == "uint8_t") && f.enum == "":
			w("copy(p[%d:%d], %s[:])\n", f.offset, f.offset+f.arrayLen, fn)
		default:
			es := typeSizes[f.ctype]
			w("for i, v := range %s {\n%s\n}\n", fn, writeStmt(f, fmt.Sprintf("%d+%d*i", f.offset, es), "v"))
		}
	}
	w("return %d\n}\n\n", m.maxLen)

	w("// DecodePayload sets m from payload p; a payload shorter than %d bytes\n", m.maxLen)
	w("// (MAVLink 2 truncation, MAVLink 1 without extensions) reads as zero-extended.\n")
	w("func (m *%s) DecodePayload(p []byte) {\n", tn)
	w("if len(p) < %d {\nvar full [%d]byte\ncopy(full[:], p)\np = full[:]\n}\n", m.maxLen, m.maxLen)
	w("_ = p[%d]\n", m.maxLen-1)
	for _, f := range m.wire {
		fn := "m." + goName(f.name)
		switch {
		case f.arrayLen == 0:
			w("%s = %s\n", fn, readExpr(f, strconv.Itoa(f.offset)))
		case (f.ctype == "char" || f.ctype == "uint8_t") && f.enum == "":
			w("copy(%s[:], p[%d:%d])\n", fn, f.offset, f.offset+f.arrayLen)
		default:
			es := typeSizes[f.ctype]
			w("for i := range %s {\n%s[i] = %s\n}\n", fn, fn, readExpr(f, fmt.Sprintf("%d+%d*i", f.offset, es)))
		}
	}
	w("}\n")
	return nil
}

// enum is one enum definition.
type enum struct {
	name    string
	goType  string
	bitmask bool
	doc     string
	values  []enumValue
}

type enumValue struct {
	value uint64
	name  string
	doc   string
}

func parseEnums(path string, src []byte) ([]*enum, error) {
	var es []*enum
	var cur *enum
	sc := bufio.NewScanner(bytes.NewReader(src))
	for ln := 1; sc.Scan(); ln++ {
		t := strings.TrimSpace(sc.Text())
		if t == "" || strings.HasPrefix(t, "#") {
			continue
		}
		body, doc := splitDoc(t)
		words := strings.Fields(body)
		errf := func(format string, a ...any) error {
			return fmt.Errorf("%s:%d: %s", path, ln, fmt.Sprintf(format, a...))
		}
		if words[0] == "enum" {
			if len(words) < 3 || len(words) > 4 || (len(words) == 4 && words[3] != "bitmask") {
				return nil, errf("want: enum NAME GOTYPE [bitmask] : doc")
			}
			cur = &enum{name: words[1], goType: words[2], bitmask: len(words) == 4, doc: doc}
			es = append(es, cur)
			continue
		}
		if cur == nil || len(words) != 2 {
			return nil, errf("want: VALUE NAME [: doc] inside an enum")
		}
		v, err := strconv.ParseUint(words[0], 10, 64)
		if err != nil {
			return nil, errf("enum value %q: %v", words[0], err)
		}
		cur.values = append(cur.values, enumValue{value: v, name: words[1], doc: doc})
	}
	return es, sc.Err()
}

func genEnums(rel string, es []*enum) ([]byte, error) {
	var b bytes.Buffer
	w := func(format string, a ...any) { fmt.Fprintf(&b, format, a...) }
	w("// Code generated by mavgen from %s; DO NOT EDIT.\n\n", rel)
	w("package mavlink\n\nimport \"strconv\"\n")
	for _, e := range es {
		tn := goName(e.name)
		w("\n// %s %s (MAVLink %s).\n", tn, e.doc, e.name)
		w("type %s %s\n\n", tn, e.goType)
		w("// Values of %s, with the spec spelling.\n", e.name)
		w("const (\n")
		for _, v := range e.values {
			if v.doc != "" {
				w("// %s: %s.\n", v.name, v.doc)
			}
			w("%s %s = %d\n", v.name, tn, v.value)
		}
		w(")\n\n")
		w("// String returns the spec name of v, or its number if %s has no such value.\n", e.name)
		w("func (v %s) String() string {\nswitch v {\n", tn)
		for _, v := range e.values {
			w("case %s:\nreturn %q\n", v.name, v.name)
		}
		w("}\nreturn %q + strconv.FormatUint(uint64(v), 10) + \")\"\n}\n", e.name+"(")
	}
	src, err := format.Source(b.Bytes())
	if err != nil {
		return nil, fmt.Errorf("format generated enums for %s: %w", rel, err)
	}
	return src, nil
}
