package mavlink

// FieldType is the C base type of a message field as the MAVLink definitions
// spell it (uint8_t, char, float...); arrays carry their element type.
type FieldType uint8

// Field types.
const (
	FieldUint8 FieldType = iota + 1
	FieldInt8
	FieldChar
	FieldUint16
	FieldInt16
	FieldUint32
	FieldInt32
	FieldFloat
	FieldUint64
	FieldInt64
	FieldDouble
)

// Size returns the size of one element of type t in bytes.
func (t FieldType) Size() int {
	switch t {
	case FieldUint8, FieldInt8, FieldChar:
		return 1
	case FieldUint16, FieldInt16:
		return 2
	case FieldUint32, FieldInt32, FieldFloat:
		return 4
	case FieldUint64, FieldInt64, FieldDouble:
		return 8
	}
	return 0
}

// String returns the C type name of t (uint8_t, char, float...).
func (t FieldType) String() string {
	switch t {
	case FieldUint8:
		return "uint8_t"
	case FieldInt8:
		return "int8_t"
	case FieldChar:
		return "char"
	case FieldUint16:
		return "uint16_t"
	case FieldInt16:
		return "int16_t"
	case FieldUint32:
		return "uint32_t"
	case FieldInt32:
		return "int32_t"
	case FieldFloat:
		return "float"
	case FieldUint64:
		return "uint64_t"
	case FieldInt64:
		return "int64_t"
	case FieldDouble:
		return "double"
	}
	return "invalid"
}

// Field describes one field of a message: its spec name, type, array length
// (0 for a scalar), byte offset in the full (untruncated) payload and whether
// it is an extension field.
type Field struct {
	Name      string
	Type      FieldType
	ArrayLen  int
	Offset    int
	Extension bool
}

// Size returns the number of payload bytes f occupies.
func (f *Field) Size() int {
	if f.ArrayLen > 0 {
		return f.Type.Size() * f.ArrayLen
	}
	return f.Type.Size()
}

// MessageInfo is the dialect table entry of one message: its id, spec name,
// CRC_EXTRA, payload lengths (MinLen without extensions, MaxLen with) and
// fields in definition order. Entries come from the generated table and must
// not be modified.
type MessageInfo struct {
	ID       uint32
	Name     string
	CRCExtra uint8
	MinLen   int
	MaxLen   int
	Fields   []Field
}

// LookupMessage returns the table entry of message id from the common and
// ardupilotmega dialects, or nil if neither defines it.
func LookupMessage(id uint32) *MessageInfo {
	if mi := lookupCommon(id); mi != nil {
		return mi
	}
	return lookupArdupilotmega(id)
}

// Messages calls yield for every message of the table, in order of id within
// each dialect file (common, then ardupilotmega), until yield returns false.
func Messages(yield func(*MessageInfo) bool) {
	for i := range commonMessages {
		if !yield(&commonMessages[i]) {
			return
		}
	}
	for i := range ardupilotmegaMessages {
		if !yield(&ardupilotmegaMessages[i]) {
			return
		}
	}
}
