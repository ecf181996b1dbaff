package web

import (
	"math/big"
	"strings"
	"testing"
)

// FuzzParseSimulateRequest: any body is read into a request or refused
// with a client error, never a panic; a request it accepts names its
// calldata one way only.
func FuzzParseSimulateRequest(f *testing.F) {
	for _, s := range []string{
		`{"from":"0x00000000000000000000000000000000000051a1","to":"0x00000000000000000000000000000000000051a2","function":"transfer(address,uint256)","args":["0x00000000000000000000000000000000000051a3","15"]}`,
		`{"to":"0x00000000000000000000000000000000000051a2","data":"0x1234","value":"0xde0b6b3a7640000","gas":"0x5208","block":"0x10"}`,
		`{"to":"0x00000000000000000000000000000000000051a2","overrides":{"0x00000000000000000000000000000000000051a2":{"balance":"0x1","nonce":"0x2","code":"0x00","storage":{"0x0000000000000000000000000000000000000000000000000000000000000004":"0x0000000000000000000000000000000000000000000000000000000000000001"}}}}`,
		`{"to":"0x00000000000000000000000000000000000051a2","blockOverrides":{"number":"0x10","time":"0x65"}}`,
		`{"args":[1]}`, `{"function":"f()","data":"0x00"}`, `{} {}`, `{"value":"-0x1"}`, `{"block":"0xffffffffffffffffff"}`, `[`, ``,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		req, err := parseSimulateRequest(strings.NewReader(body))
		if err != nil {
			if k := errorKind(err); k != kindBadRequest && k != kindTooLarge {
				t.Fatalf("%q: error kind %s: %v", body, k, err)
			}
			return
		}
		if req.Function != "" && len(req.Data) > 0 || req.Function == "" && len(req.Args) > 0 {
			t.Fatalf("%q: accepted with function %q, %d data bytes, %d args", body, req.Function, len(req.Data), len(req.Args))
		}
	})
}

func TestScaleAmount(t *testing.T) {
	for _, c := range []struct {
		text string
		dec  int
		want string // "" for an error
	}{
		{"1.5", 18, "1500000000000000000"}, {"2", 6, "2000000"}, {"0.000001", 6, "1"}, {"-2.5", 1, "-25"},
		{"1_000.50", 2, "100050"}, {".5", 1, "5"}, {"5.", 0, "5"}, {"1.50", 1, "15"}, {" 7 ", 0, "7"},
		{"0.0000001", 6, ""}, {"1e18", 0, ""}, {"0x10", 2, ""}, {"", 2, ""}, {".", 2, ""}, {"1.2.3", 4, ""}, {"--1", 1, ""},
	} {
		got, err := scaleAmount(c.text, c.dec)
		if c.want == "" && err == nil || c.want != "" && got != c.want {
			t.Errorf("scaleAmount(%q, %d) = %q, %v; want %q", c.text, c.dec, got, err, c.want)
		}
	}
}

// FuzzScaleAmount: an amount is either refused or scaled exactly:
// dividing the result by 10^dec gives back the number written.
func FuzzScaleAmount(f *testing.F) {
	for _, s := range []string{"1.5", "0.000001", "-2", "1_000", "", ".", "1e3", "99999999999999999999.123456789012345678"} {
		f.Add(s, uint8(18))
	}
	f.Fuzz(func(t *testing.T, text string, dec uint8) {
		d := int(dec % (maxDecimals + 1))
		got, err := scaleAmount(text, d)
		if err != nil {
			return
		}
		v, ok := new(big.Int).SetString(got, 10)
		if !ok {
			t.Fatalf("%q, %d: %q is not an integer", text, d, got)
		}
		r := new(big.Rat).SetFrac(v, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(d)), nil))
		in, ok := new(big.Rat).SetString(strings.ReplaceAll(strings.TrimSpace(text), "_", ""))
		if !ok || in.Cmp(r) != 0 {
			t.Fatalf("%q with %d decimals became %s (%s)", text, d, got, r.FloatString(d))
		}
	})
}
