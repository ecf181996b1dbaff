package web_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/common"

	"github.com/blocktorch/blocktorch/internal/debugger"
	"github.com/blocktorch/blocktorch/internal/devchain"
	"github.com/blocktorch/blocktorch/internal/store"
	"github.com/blocktorch/blocktorch/internal/store/sqlite"
	"github.com/blocktorch/blocktorch/internal/web"
)

// TestSimulateAPI runs POST /api/v1/simulate on the embedded chain: a
// function of a stored ABI with its arguments as text, run on code set by
// an override, with block overrides; and the requests it refuses, each
// with the status and message a client can act on.
func TestSimulateAPI(t *testing.T) {
	if testing.Short() {
		t.Skip("runs an embedded chain")
	}
	ctx := context.Background()
	chain, err := devchain.Start(devchain.Config{BlockInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { chain.Close() })
	chain.Commit()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "bt.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	// set(uint256 x, address who, bool flag) stores x in slot 0:
	// PUSH1 4 CALLDATALOAD PUSH1 0 SSTORE STOP.
	store1 := common.Address{0x51, 0x01}
	abiJSON := `[{"type":"function","name":"set","stateMutability":"nonpayable","inputs":[{"name":"x","type":"uint256"},{"name":"who","type":"address"},{"name":"flag","type":"bool"}],"outputs":[]}]`
	if err := st.PutContract(ctx, store.Contract{Address: store1, Name: "Setter", ABI: json.RawMessage(abiJSON), Origin: "user"}); err != nil {
		t.Fatal(err)
	}
	svc := &debugger.Service{Local: &debugger.Local{RPC: chain.Client()}, Options: debugger.Options{Dir: t.TempDir()}}
	srv, err := web.New(web.Deps{Chain: st, Contracts: st, Search: st, Debug: svc})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)

	code := `"overrides":{"` + store1.Hex() + `":{"code":"0x60043560005500"}}`
	to := `"to":"` + store1.Hex() + `"`
	head := chain.Head().Number.Uint64()
	type answer struct {
		Status    string `json:"status"`
		ErrorKind string `json:"errorKind"`
		Error     string `json:"error"`
		Data      struct {
			Status      uint64 `json:"status"`
			BlockNumber uint64 `json:"blockNumber"`
			StateBlock  uint64 `json:"stateBlock"`
			State       []struct {
				Address common.Address `json:"address"`
				Storage []struct {
					After common.Hash `json:"after"`
				} `json:"storage"`
			} `json:"state"`
		} `json:"data"`
	}
	for _, c := range []struct {
		name, body string
		code       int
		want       string // in the error, or the stored value on success
	}{
		{"function with text arguments", `{` + to + `,"function":"set","args":["1234","0x00000000000000000000000000000000000051a3",true],` + code + `}`, 200, "1234"},
		{"signature and hex number", `{` + to + `,"function":"set(uint256,address,bool)","args":["0x10","0x00000000000000000000000000000000000051a3","false"],` + code + `,"blockOverrides":{"number":"0x3039"}}`, 200, "16"},
		{"an amount with decimals", `{` + to + `,"function":"set","args":["1.5","0x00000000000000000000000000000000000051a3",true],"decimals":[6],` + code + `}`, 200, "1500000"},
		{"more decimals than the token has", `{` + to + `,"function":"set","args":["1.5","0x00000000000000000000000000000000000051a3",true],"decimals":[0],` + code + `}`, 400, "more than 0 decimals"},
		{"decimals on a number", `{` + to + `,"function":"set","args":[15,"0x00000000000000000000000000000000000051a3",true],"decimals":[1],` + code + `}`, 400, "as a string"},
		{"a malformed argument", `{` + to + `,"function":"set","args":["1.5","0x00000000000000000000000000000000000051a3",true],` + code + `}`, 400, "x (uint256)"},
		{"too few arguments", `{` + to + `,"function":"set","args":["1"],` + code + `}`, 400, "argument"},
		{"an unknown function", `{` + to + `,"function":"get","args":[]}`, 400, "get"},
		{"no ABI for the address", `{"to":"0x00000000000000000000000000000000000051a3","function":"set","args":[]}`, 404, "no ABI is known"},
		{"args without a function", `{` + to + `,"args":["1"]}`, 400, "without a function"},
		{"data and a function", `{` + to + `,"function":"set","data":"0x00"}`, 400, "not both"},
		{"an unknown field", `{` + to + `,"fn":"set"}`, 400, "unknown field"},
		{"two values", `{` + to + `} {}`, 400, "more than one"},
		{"a block past the head", `{` + to + `,"block":"0x5f5e100"}`, 400, "not on the chain yet"},
		{"a negative value", `{` + to + `,"value":"-0x1"}`, 400, "cannot decode"},
		{"code over the limit", `{` + to + `,"overrides":{"` + store1.Hex() + `":{"code":"0x` + strings.Repeat("00", debugger.MaxOverrideCode+1) + `"}}}`, 400, "at most"},
		{"a body over 1 MiB", `{` + to + `,"data":"0x` + strings.Repeat("00", 600_000) + `"}`, 413, "over"},
	} {
		resp, err := http.Post(ts.URL+"/api/v1/simulate", "application/json", strings.NewReader(c.body))
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var a answer
		if err := json.Unmarshal(raw, &a); err != nil {
			t.Fatalf("%s: not JSON: %.300s", c.name, raw)
		}
		if resp.StatusCode != c.code {
			t.Errorf("%s: HTTP %d (%s), want %d", c.name, resp.StatusCode, a.Error, c.code)
			continue
		}
		if c.code != 200 {
			if !strings.Contains(a.Error, c.want) {
				t.Errorf("%s: error %q, want it to say %q", c.name, a.Error, c.want)
			}
			continue
		}
		var got string
		for _, d := range a.Data.State {
			if d.Address == store1 && len(d.Storage) == 1 {
				got = d.Storage[0].After.Big().String()
			}
		}
		if a.Data.Status != 1 || got != c.want || a.Data.StateBlock != head {
			t.Errorf("%s: status %d, slot 0 = %q (want %s), state block %d (head %d)", c.name, a.Data.Status, got, c.want, a.Data.StateBlock, head)
		}
		if strings.Contains(c.body, "blockOverrides") && a.Data.BlockNumber != 12345 {
			t.Errorf("%s: block %d, want the override 12345", c.name, a.Data.BlockNumber)
		}
	}
}
