package response_test

import (
	"errors"
	"math/big"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"

	"github.com/blocktorch/blocktorch/internal/demo"
	"github.com/blocktorch/blocktorch/internal/response"
)

// TestArm: a send made ready on the head (Service.Arm) is what an urgent
// run sends: checked again on the next head without a new trace, signed
// with the fees asked for, and it pauses the vault. After it, arming
// simulates again, finds the pause would revert and arms nothing, and an
// urgent run then reads and simulates as usual, and refuses.
func TestArm(t *testing.T) {
	r := newRig(t)
	ctx := testContext(t)
	svc := r.service(response.NewKeySigner(r.keys[demo.Deployer], "test"), nil)
	scs, err := response.ParseScenarios([]byte("scenarios:\n  - name: pause-vault\n    monitors: [vault-drain]\n    actions: [{contract: LendingVault, action: pause}]\n"))
	if err != nil {
		t.Fatal(err)
	}
	svc.SetScenarios(scs)
	head := func(after uint64) *types.Header {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for {
			h, err := r.ec.HeaderByNumber(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			if h.Number.Uint64() > after {
				return h
			}
			if time.Now().After(deadline) {
				t.Fatalf("no block after %d", after)
			}
			time.Sleep(10 * time.Millisecond) // polling the node for its next block
		}
	}
	h1 := head(0)
	if err := svc.Arm(ctx, h1); err != nil {
		t.Fatal(err)
	}
	h2 := head(h1.Number.Uint64())
	if err := svc.Arm(ctx, h2); err != nil {
		t.Fatal(err)
	}
	tip, feeCap := big.NewInt(7e9), big.NewInt(300e9)
	runs := svc.OnMonitorPending(ctx, "vault-drain", "", common.HexToHash("0xe1"), response.SendOptions{Tip: tip, FeeCap: feeCap})
	if len(runs) != 1 || runs[0].Status != response.RunDone || !r.paused(t) {
		t.Fatalf("the armed run: %+v", runs)
	}
	st := runs[0].Steps[0]
	if sim := st.Simulation; sim == nil || sim.Block < h1.Number.Uint64() || sim.CheckedBlock != h2.Number.Uint64() || sim.GasUsed == 0 {
		t.Errorf("the armed send's simulation %+v: want one on block %d or later, checked on block %d", sim, h1.Number, h2.Number)
	}
	tx, _, err := r.ec.TransactionByHash(ctx, st.Hash)
	if err != nil {
		t.Fatal(err)
	}
	if tx.GasTipCap().Cmp(tip) != 0 || tx.GasFeeCap().Cmp(feeCap) != 0 {
		t.Errorf("the armed send pays tip %s cap %s, want %s and %s", tx.GasTipCap(), tx.GasFeeCap(), tip, feeCap)
	}

	h3 := head(r.receipt(t, st.Hash).BlockNumber.Uint64())
	if err := svc.Arm(ctx, h3); !errors.Is(err, response.ErrWouldRevert) {
		t.Fatalf("arming while paused: %v, want ErrWouldRevert", err)
	}
	runs = svc.OnMonitorPending(ctx, "vault-drain", "", common.HexToHash("0xe2"), response.SendOptions{Tip: tip, FeeCap: feeCap})
	if len(runs) != 1 || runs[0].Status != response.RunFailed || runs[0].Steps[0].Hash != (common.Hash{}) || runs[0].Steps[0].Simulation == nil || !runs[0].Steps[0].Simulation.Reverted {
		t.Fatalf("an urgent run with nothing armed, while paused: %+v", runs)
	}
}
