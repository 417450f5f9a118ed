package mavlink

// crcInit is the initial value of the MAVLink checksum.
const crcInit = 0xffff

// crcAccumulate adds b to the CRC-16/MCRF4XX (X.25) checksum crc, the
// MAVLink frame checksum (PROTOCOL.md §3).
func crcAccumulate(crc uint16, b []byte) uint16 {
	for _, c := range b {
		tmp := c ^ uint8(crc)
		tmp ^= tmp << 4
		crc = crc>>8 ^ uint16(tmp)<<8 ^ uint16(tmp)<<3 ^ uint16(tmp)>>4
	}
	return crc
}

// crcByte adds one byte to crc.
func crcByte(crc uint16, c byte) uint16 {
	tmp := c ^ uint8(crc)
	tmp ^= tmp << 4
	return crc>>8 ^ uint16(tmp)<<8 ^ uint16(tmp)<<3 ^ uint16(tmp)>>4
}

// X25 returns the MAVLink checksum (CRC-16/MCRF4XX) of b.
func X25(b []byte) uint16 { return crcAccumulate(crcInit, b) }
