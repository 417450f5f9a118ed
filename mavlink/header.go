package mavlink

// RawHeader is the header of a raw frame, read in place: what routing,
// recording and counting need without decoding the frame.
type RawHeader struct {
	Header // Version 1 or 2, Seq, SysID, CompID
	MsgID  uint32
	// Payload aliases the frame's payload bytes (as sent: MAVLink 2 trims
	// trailing zeros).
	Payload []byte
}

// PeekHeader reads the header of one whole raw frame as the Parser returns
// it (Frame.Raw) without checking its checksum or signature: the parser
// did. It reports false for anything too short to be the frame its length
// byte announces, or not starting with a magic byte. It never allocates.
// This is the one place that reads header bytes after the parser; the
// router, the .tlog writer and the agent's frame counters use it.
func PeekHeader(raw []byte) (RawHeader, bool) {
	if len(raw) < 8 {
		return RawHeader{}, false
	}
	n := int(raw[1])
	switch raw[0] {
	case MagicV2:
		if len(raw) < 12+n {
			return RawHeader{}, false
		}
		return RawHeader{Header: Header{Version: 2, Seq: raw[4], SysID: raw[5], CompID: raw[6]},
			MsgID: uint32(raw[7]) | uint32(raw[8])<<8 | uint32(raw[9])<<16, Payload: raw[10 : 10+n]}, true
	case MagicV1:
		if len(raw) < 8+n {
			return RawHeader{}, false
		}
		return RawHeader{Header: Header{Version: 1, Seq: raw[2], SysID: raw[3], CompID: raw[4]}, MsgID: uint32(raw[5]), Payload: raw[6 : 6+n]}, true
	}
	return RawHeader{}, false
}
