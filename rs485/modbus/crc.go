package modbus

// CRC16 returns the CRC-16/MODBUS of b (initial value 0xFFFF, reflected
// polynomial 0x8005, no final xor). It is computed bit by bit: RTU frames
// are a few bytes long and a table would be package-level state.
func CRC16(b []byte) uint16 {
	crc := uint16(0xFFFF)
	for _, x := range b {
		crc ^= uint16(x)
		for range 8 {
			if crc&1 != 0 {
				crc = crc>>1 ^ 0xA001
			} else {
				crc >>= 1
			}
		}
	}
	return crc
}

// AppendCRC appends the CRC-16/MODBUS of b to b, low byte first as RTU
// frames carry it, and returns the extended slice.
func AppendCRC(b []byte) []byte {
	crc := CRC16(b)
	return append(b, byte(crc), byte(crc>>8))
}

// CheckCRC reports whether frame ends with the correct CRC of the bytes
// before it. Frames shorter than 3 bytes never check.
func CheckCRC(frame []byte) bool {
	if len(frame) < 3 {
		return false
	}
	n := len(frame) - 2
	crc := CRC16(frame[:n])
	return frame[n] == byte(crc) && frame[n+1] == byte(crc>>8)
}
