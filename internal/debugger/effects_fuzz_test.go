package debugger

import (
	"encoding/json"
	"math/big"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
)

// FuzzEffectBalanceJSON: whatever an EffectBalance reads, it writes back
// to the same value, negative deltas included; bad input is an error.
func FuzzEffectBalanceJSON(f *testing.F) {
	for _, d := range []*big.Int{big.NewInt(0), big.NewInt(1), big.NewInt(-1), new(big.Int).Lsh(big.NewInt(-3), 200)} {
		b, _ := json.Marshal(EffectBalance{Address: common.HexToAddress("0xbeef"), Delta: (*hexutil.Big)(d)})
		f.Add(b)
	}
	f.Add([]byte(`{"address":"0x00000000000000000000000000000000000000aa","delta":"-0x"}`))
	f.Add([]byte(`{"address":"0x00000000000000000000000000000000000000aa","delta":null}`))
	f.Add([]byte(`{"delta":"--0x1"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var a EffectBalance
		if err := json.Unmarshal(data, &a); err != nil {
			return
		}
		out, err := json.Marshal(a)
		if err != nil {
			t.Fatalf("cannot write back %+v: %v", a, err)
		}
		var b EffectBalance
		if err := json.Unmarshal(out, &b); err != nil {
			t.Fatalf("cannot read back %s: %v", out, err)
		}
		if a.Address != b.Address || (a.Delta == nil) != (b.Delta == nil) || (a.Delta != nil && a.Delta.ToInt().Cmp(b.Delta.ToInt()) != 0) {
			t.Fatalf("%s read back as %+v, want %+v", out, b, a)
		}
	})
}
