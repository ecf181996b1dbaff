package contracts

import (
	"encoding/json"
	"testing"

	"github.com/ethereum/go-ethereum/common"

	"github.com/blocktorch/blocktorch/internal/store"
)

// A stored verification is read back without panicking whatever the row
// holds; what is accepted names the row's address and status and survives
// being stored again unchanged.
func FuzzFromStored(f *testing.F) {
	addr := common.HexToAddress("0x00000000000000000000000000000000000000aa")
	f.Add([]byte(`{"version":1,"result":{"address":"0x00000000000000000000000000000000000000aa","status":"full","contractName":"V","sourceIds":{"a.sol":0},"artifact":{"Name":"V","DeployedBytecode":"6000","DeployedSourceMap":"0:1:0:-:0","SourceIDs":{"a.sol":0}}}}`), "full", "a.sol", "contract V {}")
	f.Add([]byte(`{"version":1,"result":{"address":"0x00000000000000000000000000000000000000aa","status":"partial","mismatch":{"reason":"r","offset":-1}}}`), "partial", "", "")
	f.Add([]byte(`{"version":2}`), "full", "x", "y")
	f.Add([]byte(`null`), "none", "", "")
	f.Fuzz(func(t *testing.T, result []byte, status, unit, text string) {
		v := store.VerifiedContract{Address: addr, Status: status, Result: result, Sources: map[string]string{unit: text}}
		r, err := fromStored(v)
		if err != nil {
			return
		}
		if r.Address != addr || r.Status != status || r.Sources[unit] != text {
			t.Fatalf("accepted %+v for a row of %s, status %q", r, addr, status)
		}
		if r.Artifact != nil {
			_, _ = r.Artifact.Mapper(true)
		}
		again, err := toStored(r)
		if err != nil {
			t.Fatalf("cannot store what was loaded: %v", err)
		}
		r2, err := fromStored(again)
		if err != nil {
			t.Fatalf("cannot load what was stored again: %v", err)
		}
		a, _ := json.Marshal(r)
		b, _ := json.Marshal(r2)
		if string(a) != string(b) {
			t.Fatalf("round trip changed the result:\n%s\n%s", a, b)
		}
	})
}
