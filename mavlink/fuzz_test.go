package mavlink

import (
	"bytes"
	"encoding/hex"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
)

// fuzzKey is the signing key of the test vectors.
func fuzzKey(tb testing.TB) [32]byte {
	b, err := hex.DecodeString("6708b7b05dd99cbb177ded5ccfcdd29a2e4a3a165fd1b51b2ab0eb31a8cb779c")
	if err != nil {
		tb.Fatal(err)
	}
	var k [32]byte
	copy(k[:], b)
	return k
}

func addVectorSeeds(f *testing.F) {
	_, vs := loadVectors(f)
	for i, v := range vs {
		if i%10 != 0 {
			continue
		}
		b, err := hex.DecodeString(v.Hex)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
}

// FuzzParser: any input must parse without panicking, every accepted frame
// of a known message must re-encode byte for byte from its decoded fields,
// and the parser must always make progress.
func FuzzParser(f *testing.F) {
	addVectorSeeds(f)
	f.Add([]byte{0xfd, 0xfe, 0xfd, 0x01})
	f.Fuzz(func(t *testing.T, data []byte) {
		p := NewParser(ParserOptions{})
		var fr Frame
		buf := data
		for {
			n, err := p.Next(buf, true, &fr)
			if n < 0 || n > len(buf) {
				t.Fatalf("Next() consumed %d of %d bytes", n, len(buf))
			}
			buf = buf[n:]
			if err == io.EOF {
				break
			}
			if err != nil {
				if _, ok := errors.AsType[*FrameError](err); !ok {
					t.Fatalf("Next() = %v, want *FrameError", err)
				}
				if n == 0 {
					t.Fatal("Next() made no progress")
				}
				continue
			}
			if fr.Info == nil {
				continue
			}
			// Re-encode: generic decode of the zero-extended payload, then
			// encode with the same header. Unsigned canonical (truncated)
			// v2 frames and v1 frames of the base length must come back
			// byte for byte.
			var full [MaxPayloadLen]byte
			copy(full[:], fr.Payload)
			if fr.Signed() {
				continue
			}
			canonical := fr.Version == 2 && fr.CompatFlags == 0 && (len(fr.Payload) == 1 || fr.Payload[len(fr.Payload)-1] != 0)
			canonical = canonical || (fr.Version == 1 && len(fr.Payload) == fr.Info.MinLen)
			if !canonical {
				continue
			}
			got, err := AppendPayload(nil, Header{Version: fr.Version, Seq: fr.Seq, SysID: fr.SysID, CompID: fr.CompID}, fr.MsgID, full[:fr.Info.MaxLen], nil)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, fr.Raw) {
				t.Fatalf("re-encoded %x, parsed %x", got, fr.Raw)
			}
			if m := NewMessage(fr.MsgID); m != nil {
				if err := DecodeMessage(&fr, m); err != nil {
					t.Fatal(err)
				}
				got, err := AppendMessage(nil, Header{Version: fr.Version, Seq: fr.Seq, SysID: fr.SysID, CompID: fr.CompID}, m, nil)
				if err != nil || !bytes.Equal(got, fr.Raw) {
					t.Fatalf("typed re-encode %x, %v, parsed %x", got, err, fr.Raw)
				}
			}
		}
	})
}

// FuzzVerifier: any frame, signed or not, must verify without panicking;
// a frame that verifies must not verify twice (replay).
func FuzzVerifier(f *testing.F) {
	addVectorSeeds(f)
	key := fuzzKey(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		clk := clockwork.NewFakeClockAt(time.Unix(signingEpoch, 0).Add(11 * 365 * 24 * time.Hour))
		v := NewVerifier(VerifierOptions{Key: key, Clock: clk})
		p := NewParser(ParserOptions{})
		var fr Frame
		buf := data
		for {
			n, err := p.Next(buf, true, &fr)
			buf = buf[n:]
			if err == io.EOF {
				return
			}
			if err != nil {
				continue
			}
			if err := v.Verify(&fr); err == nil {
				if !fr.Signed() {
					t.Fatal("Verify() accepted an unsigned frame")
				}
				if err := v.Verify(&fr); !errors.Is(err, ErrReplay) {
					t.Fatalf("second Verify() = %v, want ErrReplay", err)
				}
			}
		}
	})
}
