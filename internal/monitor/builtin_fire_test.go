package monitor_test

import (
	"context"
	"crypto/ecdsa"
	"math/big"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/ethclient"

	"github.com/blocktorch/blocktorch/internal/demo"
	"github.com/blocktorch/blocktorch/internal/monitor"
	"github.com/blocktorch/blocktorch/internal/notify"
)

// TestBuiltinOwnershipAndLargeTransferFire makes the two built-in monitors
// the demo incident does not trigger fire, each from the one transaction
// that should: a 1,500,000 DUSD transfer between accounts
// (builtin.large-transfer; the mint before it comes from the zero address
// and must not count) and a role revoked on the vault (builtin.ownership). The other built-ins fire in
// TestDemoIncidentFiresBuiltinMonitors.
func TestBuiltinOwnershipAndLargeTransferFire(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the embedded chain")
	}
	h := newHook(t)
	r := newRig(t, 10, 0, monitor.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if _, err := r.eng.LoadBuiltin(ctx, true, []notify.Spec{h.spec()}); err != nil {
		t.Fatal(err)
	}
	r.run(t)
	ec := ethclient.NewClient(r.chain.Client())
	keys := demo.Keys(8)
	owner, other := keys[demo.Deployer], crypto.PubkeyToAddress(keys[1].PublicKey)
	token, _ := r.app.ABI("DemoToken")
	pack := func(method string, args ...any) []byte {
		b, err := token.Pack(method, args...)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	units := func(n int64) *big.Int { return new(big.Int).Mul(big.NewInt(n), big.NewInt(1e18)) }

	var revoke common.Hash
	mint := send(t, ctx, r, ec, owner, r.app.Token, pack("mint", r.app.Deployer, units(2_000_000)))
	transfer := send(t, ctx, r, ec, owner, r.app.Token, pack("transfer", other, units(1_500_000)))
	// The deployment already fired the groups of the first
	// OwnershipTransferred and RoleGranted; a role revoked is a new one.
	vault, _ := r.app.ABI("LendingVault")
	role := crypto.Keccak256Hash([]byte("AUDITOR_ROLE"))
	for _, method := range []string{"grantRole", "revokeRole"} {
		data, err := vault.Pack(method, role, other)
		if err != nil {
			t.Fatal(err)
		}
		revoke = send(t, ctx, r, ec, owner, r.app.Vault, data)
	}
	waitIndexed(t, r, r.chain.Head().Number.Uint64())

	want := map[string]common.Hash{"builtin.large-transfer": transfer, "builtin.ownership": revoke}
	// The deployment's own events fire builtin.ownership too (the first
	// OwnershipTransferred, RoleGranted): only the alerts of these
	// transactions count.
	got := map[string]notify.Message{}
	deadline := time.After(30 * time.Second)
	for len(got) < len(want) {
		select {
		case m := <-h.got:
			if m.Status != notify.StatusFiring {
				continue
			}
			if m.MonitorID == "builtin.large-transfer" && eqHash(m.Tx, mint) {
				t.Errorf("a mint (from the zero address) fired builtin.large-transfer")
			}
			if tx, ok := want[m.MonitorID]; ok && eqHash(m.Tx, tx) {
				got[m.MonitorID] = m
			}
		case <-deadline:
			t.Fatalf("fired: %v, want %v", got, want)
		}
	}
	if l := got["builtin.ownership"].Labels; l["event"] != "RoleRevoked" || l["contract"] != "LendingVault" {
		t.Errorf("ownership alert labels %v, want RoleRevoked on LendingVault", l)
	}
}

func eqHash(s string, h common.Hash) bool { return common.HexToHash(s) == h }

// send signs and sends one transaction, seals it and requires it to succeed.
func send(t *testing.T, ctx context.Context, r *rig, ec *ethclient.Client, key *ecdsa.PrivateKey, to common.Address, data []byte) common.Hash {
	t.Helper()
	from := crypto.PubkeyToAddress(key.PublicKey)
	nonce, err := ec.PendingNonceAt(ctx, from)
	if err != nil {
		t.Fatal(err)
	}
	tx, err := types.SignNewTx(key, types.LatestSignerForChainID(r.app.ChainID), &types.DynamicFeeTx{
		ChainID: r.app.ChainID, Nonce: nonce, To: &to, Gas: 300_000, Data: data,
		GasFeeCap: big.NewInt(100e9), GasTipCap: big.NewInt(1e9),
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := ec.SendTransaction(ctx, tx); err != nil {
		t.Fatal(err)
	}
	for range 100 {
		r.chain.Commit()
		if rc, err := ec.TransactionReceipt(ctx, tx.Hash()); err == nil {
			if rc.Status != types.ReceiptStatusSuccessful {
				t.Fatalf("%x… reverted", data[:4])
			}
			return tx.Hash()
		}
	}
	t.Fatalf("%x… was never mined", data[:4])
	return common.Hash{}
}
