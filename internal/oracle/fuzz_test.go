package oracle

import (
	"bytes"
	"math/big"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/ethereum/go-ethereum/common"

	"github.com/blocktorch/blocktorch/internal/record"
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

// FuzzPointOfRecord: whatever an answer record holds (its arguments as
// the records engines give them back: int64, decimal strings, floats,
// anything) reads as a point or is skipped, never a panic; a point keeps
// the answer and round exactly and a time the record allowed.
func FuzzPointOfRecord(f *testing.F) {
	f.Add("AnswerUpdated", "300000000000", "7", "1700000000", false)
	f.Add("AnswerUpdated", "-5", "18446744073709551618", "1700000000", true)
	f.Add("NewTransmission", "123456789012345678901234567890", "3", "1700000000", false)
	f.Add("AnswerUpdated", "1e300", "x", "-1", false)
	f.Add("Transfer", "1", "1", "1", true)
	f.Fuzz(func(t *testing.T, event, answer, round, ts string, asInt bool) {
		val := func(s string) any {
			if n, err := strconv.ParseInt(s, 10, 64); asInt && err == nil {
				return n
			}
			if v, err := strconv.ParseFloat(s, 64); !asInt && err == nil && len(s)%2 == 0 {
				return v
			}
			return s
		}
		block := uint64(9)
		args := map[string]any{"current": val(answer), "roundId": val(round), "updatedAt": val(ts),
			"answer": val(answer), "aggregatorRoundId": val(round), "observationsTimestamp": val(ts)}
		r := record.Record{Attrs: map[string]any{"event": event, "args": args}, TxHashes: []common.Hash{{1}}, Block: &block}
		p, ok := pointOfRecord(r, 8)
		if !ok {
			return
		}
		if p.Event != event || p.Block != block || p.Tx != (common.Hash{1}) {
			t.Fatalf("point %+v from %s", p, event)
		}
		a, ok1 := new(big.Int).SetString(p.Answer, 10)
		_, ok2 := new(big.Int).SetString(p.RoundID, 10)
		if !ok1 || !ok2 || p.UpdatedAt.Unix() < 0 || p.UpdatedAt.Unix() > 1<<40 {
			t.Fatalf("point %+v", p)
		}
		if s, isStr := args["current"].(string); isStr && event == "AnswerUpdated" && s != a.String() {
			if n, _ := new(big.Int).SetString(s, 10); n == nil || n.Cmp(a) != 0 {
				t.Fatalf("answer %s read as %s", s, a)
			}
		}
	})
}
