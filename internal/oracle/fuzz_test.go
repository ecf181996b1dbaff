package oracle

import (
	"bytes"
	"math/big"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// FuzzDecodeRound: whatever a feed answers decodes to a round or an
// error, never a panic; a round that decodes encodes back to the same
// 160 bytes.
func FuzzDecodeRound(f *testing.F) {
	f.Add(EncodeRound(Round{RoundID: big.NewInt(7), Answer: big.NewInt(-300000000000), StartedAt: 1, UpdatedAt: 2, AnsweredInRound: big.NewInt(7)}))
	f.Add(bytes.Repeat([]byte{0xff}, 160))
	f.Add([]byte{1, 2, 3})
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := DecodeRound(data)
		if err != nil {
			return
		}
		if got := EncodeRound(r); !bytes.Equal(got, data[:160]) {
			t.Fatalf("round trip:\n%x\n%x", got, data[:160])
		}
		// Formatting keeps every digit: without the point it is the answer.
		for _, d := range []uint8{0, 8, 18, MaxDecimals} {
			digits := strings.Replace(FormatAnswer(r.Answer, d), ".", "", 1)
			v, ok := new(big.Int).SetString(digits, 10)
			if !ok {
				t.Fatalf("FormatAnswer(%s, %d) = %q", r.Answer, d, FormatAnswer(r.Answer, d))
			}
			frac := 0
			if i := strings.IndexByte(FormatAnswer(r.Answer, d), '.'); i >= 0 {
				frac = len(FormatAnswer(r.Answer, d)) - i - 1
			}
			v.Mul(v, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(int(d)-frac)), nil))
			if v.Cmp(r.Answer) != 0 {
				t.Fatalf("FormatAnswer(%s, %d) = %q", r.Answer, d, FormatAnswer(r.Answer, d))
			}
		}
	})
}

// FuzzDecodeString: a description decodes to bounded, printable UTF-8 or
// an error.
func FuzzDecodeString(f *testing.F) {
	enc := func(s string) []byte {
		out := make([]byte, 64+(len(s)+31)/32*32)
		out[31] = 32
		big.NewInt(int64(len(s))).FillBytes(out[32:64])
		copy(out[64:], s)
		return out
	}
	f.Add(enc("ETH / USD"))
	f.Add(enc("<script>\x00\x1b[31m"))
	f.Add(bytes.Repeat([]byte{0xff}, 96))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := decodeString(data)
		if err != nil {
			return
		}
		if len(s) > 256 || !utf8.ValidString(s) || strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
			t.Fatalf("decodeString = %q", s)
		}
	})
}

func TestFormatAnswer(t *testing.T) {
	for _, c := range []struct {
		v    int64
		d    uint8
		want string
	}{
		{300012345678, 8, "3000.12345678"},
		{300000000000, 8, "3000"},
		{-5, 8, "-0.00000005"},
		{0, 8, "0"},
		{42, 0, "42"},
		{1, 18, "0.000000000000000001"},
	} {
		if got := FormatAnswer(big.NewInt(c.v), c.d); got != c.want {
			t.Errorf("FormatAnswer(%d, %d) = %q, want %q", c.v, c.d, got, c.want)
		}
	}
}

func TestJudge(t *testing.T) {
	now := time.Unix(1_700_000_100, 0)
	round := func(answer int64, age time.Duration) Details {
		return Details{Decimals: 8, Latest: Round{RoundID: big.NewInt(1), Answer: big.NewInt(answer),
			UpdatedAt: uint64(now.Add(-age).Unix()), AnsweredInRound: big.NewInt(1)}}
	}
	bounded := func(d Details) Details { d.MinAnswer, d.MaxAnswer = big.NewInt(100), big.NewInt(1000); return d }
	for _, c := range []struct {
		name string
		d    Details
		want string
		n    int
	}{
		{"fresh", round(500, time.Minute), HealthOK, 0},
		{"at the heartbeat", round(500, time.Hour), HealthOK, 0},
		{"stale", round(500, time.Hour+time.Second), HealthStale, 1},
		{"zero", round(0, 0), HealthNonPositive, 1},
		{"stale and negative", round(-1, 2*time.Hour), HealthStale, 2},
		{"at min", bounded(round(100, 0)), HealthPinned, 1},
		{"at max", bounded(round(1000, 0)), HealthPinned, 1},
		{"within bounds", bounded(round(999, 0)), HealthOK, 0},
	} {
		h := Judge(c.d, time.Hour, now)
		if h.Status != c.want || len(h.Problems) != c.n {
			t.Errorf("%s: %+v, want %s with %d problems", c.name, h, c.want, c.n)
		}
	}
}
