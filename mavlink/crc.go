package mavlink

// crcInit is the initial value of the MAVLink checksum.
const crcInit = 0xffff

// crcTable holds the CRC-16/MCRF4XX (X.25, reflected polynomial 0x8408)
// of every byte value, and in row k the effect of a byte followed by k
// zero bytes, for slicing-by-8: eight bytes per step instead of one, which
// makes the checksum (parse and encode both compute it over every frame)
// about six times faster.
var crcTable = func() (t [8][256]uint16) {
	for i := range 256 {
		t[0][i] = crcBit(0, byte(i))
	}
	for i := range 256 {
		c := t[0][i]
		for k := 1; k < 8; k++ {
			c = c>>8 ^ t[0][byte(c)]
			t[k][i] = c
		}
	}
	return t
}()

// crcAccumulate adds b to the CRC-16/MCRF4XX (X.25) checksum crc, the
// MAVLink frame checksum (PROTOCOL.md §3).
func crcAccumulate(crc uint16, b []byte) uint16 {
	t := &crcTable
	for len(b) >= 8 {
		crc ^= uint16(b[0]) | uint16(b[1])<<8
		crc = t[7][byte(crc)] ^ t[6][byte(crc>>8)] ^ t[5][b[2]] ^ t[4][b[3]] ^
			t[3][b[4]] ^ t[2][b[5]] ^ t[1][b[6]] ^ t[0][b[7]]
		b = b[8:]
	}
	for _, c := range b {
		crc = crc>>8 ^ t[0][byte(crc)^c]
	}
	return crc
}

// crcByte adds one byte to crc.
func crcByte(crc uint16, c byte) uint16 { return crc>>8 ^ crcTable[0][byte(crc)^c] }

// crcBit is the bytewise definition of the MAVLink checksum step
// (mavlink's crc_accumulate), from which the tables are built.
func crcBit(crc uint16, c byte) uint16 {
	tmp := c ^ uint8(crc)
	tmp ^= tmp << 4
	return crc>>8 ^ uint16(tmp)<<8 ^ uint16(tmp)<<3 ^ uint16(tmp)>>4
}

// X25 returns the MAVLink checksum (CRC-16/MCRF4XX) of b.
func X25(b []byte) uint16 { return crcAccumulate(crcInit, b) }
