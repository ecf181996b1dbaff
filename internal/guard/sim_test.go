package guard

import (
	"math/big"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/params"
)

func TestAhead(t *testing.T) {
	gwei := func(n int64) *big.Int { return new(big.Int).Mul(big.NewInt(n), big.NewInt(params.GWei)) }
	for _, c := range []struct {
		name                string
		tx                  types.TxData
		wantTip, wantFeeCap *big.Int
	}{
		{"dynamic fee, small", &types.DynamicFeeTx{GasTipCap: gwei(2), GasFeeCap: gwei(5)}, gwei(3), gwei(6)},
		{"dynamic fee, large: a tenth more", &types.DynamicFeeTx{GasTipCap: gwei(100), GasFeeCap: gwei(400)}, gwei(110), gwei(440)},
		{"legacy: the gas price is both", &types.LegacyTx{GasPrice: gwei(20)}, gwei(22), gwei(22)},
		{"zero fees", &types.DynamicFeeTx{GasTipCap: new(big.Int), GasFeeCap: new(big.Int)}, gwei(1), gwei(1)},
	} {
		tip, feeCap := Ahead(types.NewTx(c.tx))
		if tip.Cmp(c.wantTip) != 0 || feeCap.Cmp(c.wantFeeCap) != 0 {
			t.Errorf("%s: Ahead = %s / %s, want %s / %s", c.name, tip, feeCap, c.wantTip, c.wantFeeCap)
		}
	}
}

const seedTrace = `{"type":"CALL","from":"0x0000000000000000000000000000000000000001","to":"0x0000000000000000000000000000000000000002",
"value":"0x10","gas":"0x1000","gasUsed":"0x500","input":"0x12345678","output":"0x",
"calls":[{"type":"CALL","from":"0x0000000000000000000000000000000000000002","to":"0x0000000000000000000000000000000000000003","input":"0xabcdef01","gasUsed":"0x10",
"logs":[{"address":"0x0000000000000000000000000000000000000003","topics":["0x0000000000000000000000000000000000000000000000000000000000000001"],"data":"0x01","position":"0x0"}]}],
"logs":[{"address":"0x0000000000000000000000000000000000000002","topics":[],"data":"0x"}]}`

func TestOutcome(t *testing.T) {
	to := common.HexToAddress("0x02")
	p := Pending{Tx: types.NewTx(&types.DynamicFeeTx{To: &to, Value: big.NewInt(16), Gas: 4096, Data: []byte{0x12, 0x34, 0x56, 0x78}}), From: common.HexToAddress("0x01")}
	tx, frames, err := outcome([]byte(seedTrace), p)
	if err != nil {
		t.Fatal(err)
	}
	if tx.Failed() || tx.GasUsed != 0x500 || len(tx.Logs) != 2 || tx.Logs[0].Address != to || tx.Logs[1].Index != 1 {
		t.Errorf("outcome: %+v", tx)
	}
	if len(frames) != 2 || frames[1].Depth != 1 || frames[1].To != common.HexToAddress("0x03") || frames[0].Value.Int64() != 16 {
		t.Errorf("frames: %+v", frames)
	}
	got := touched(tx, frames)
	if len(got) != 4 {
		t.Errorf("touched: %v", got)
	}

	failed := `{"type":"CALL","from":"0x0000000000000000000000000000000000000001","to":"0x0000000000000000000000000000000000000002","error":"execution reverted","output":"0xd93c0665","gasUsed":"0x100",
"logs":[{"address":"0x0000000000000000000000000000000000000002","topics":[],"data":"0x"}]}`
	tx, _, err = outcome([]byte(failed), p)
	if err != nil {
		t.Fatal(err)
	}
	if !tx.Failed() || len(tx.Logs) != 0 || common.Bytes2Hex(tx.RevertData) != "d93c0665" {
		t.Errorf("failed outcome: %+v", tx)
	}
	for _, bad := range []string{``, `null x`, `{"calls":[{"calls":5}]}`, `{"to":"0x12"}`} {
		if _, _, err := outcome([]byte(bad), p); err == nil {
			t.Errorf("outcome(%q): no error", bad)
		}
	}
}

// FuzzOutcome feeds the trace reader what a node could answer: it must
// return an error, never panic.
func FuzzOutcome(f *testing.F) {
	f.Add([]byte(seedTrace))
	f.Add([]byte(`{"error":"execution reverted","output":"0x08c379a0"}`))
	f.Add([]byte(`{"calls":[{"calls":[{"calls":[]}]}]}`))
	f.Add([]byte(`[]`))
	to := common.HexToAddress("0x02")
	p := Pending{Tx: types.NewTx(&types.DynamicFeeTx{To: &to}), From: common.HexToAddress("0x01")}
	f.Fuzz(func(t *testing.T, raw []byte) {
		tx, frames, err := outcome(raw, p)
		if err == nil && (tx == nil || len(frames) == 0) {
			t.Fatalf("no error and no outcome for %q", raw)
		}
	})
}

// FuzzPending feeds the subscription's reader what a node could send.
func FuzzPending(f *testing.F) {
	f.Add([]byte(`{"type":"0x2","chainId":"0x539","nonce":"0x0","to":"0x0000000000000000000000000000000000000002","gas":"0x5208","maxPriorityFeePerGas":"0x1","maxFeePerGas":"0x2","value":"0x0","input":"0x","accessList":[],"v":"0x0","r":"0x1","s":"0x1","yParity":"0x0","from":"0x0000000000000000000000000000000000000001"}`))
	f.Add([]byte(`{"from":"0x0000000000000000000000000000000000000001"}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		var p Pending
		if err := p.UnmarshalJSON(raw); err == nil && p.Tx == nil {
			t.Fatalf("no error and no transaction for %q", raw)
		}
	})
}

func TestPendingJSON(t *testing.T) {
	raw := `{"type":"0x2","chainId":"0x539","nonce":"0x7","to":"0x0000000000000000000000000000000000000002","gas":"0x5208","maxPriorityFeePerGas":"0x1","maxFeePerGas":"0x2","value":"0x3","input":"0xab","accessList":[],"v":"0x0","r":"0x1","s":"0x1","yParity":"0x0","from":"0x0000000000000000000000000000000000000009"}`
	var p Pending
	if err := p.UnmarshalJSON([]byte(raw)); err != nil {
		t.Fatal(err)
	}
	if p.From != common.HexToAddress("0x09") || p.Tx.Nonce() != 7 || p.Tx.Value().Int64() != 3 {
		t.Errorf("pending: %+v %+v", p.From, p.Tx)
	}
	if err := p.UnmarshalJSON([]byte(`{"type":"0x2","chainId":"0x539","nonce":"0x7","gas":"0x5208","maxPriorityFeePerGas":"0x1","maxFeePerGas":"0x2","value":"0x3","input":"0xab","accessList":[],"v":"0x0","r":"0x1","s":"0x1","yParity":"0x0"}`)); err == nil {
		t.Error("a transaction without from was read")
	}
}
