package web

import (
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
