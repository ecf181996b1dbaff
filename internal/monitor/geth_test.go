package monitor_test

import (
	"context"
	"fmt"
	"math/big"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/ethclient"
	"github.com/ethereum/go-ethereum/rpc"

	"github.com/blocktorch/blocktorch/internal/demo"
	"github.com/blocktorch/blocktorch/internal/gethtest"
	"github.com/blocktorch/blocktorch/internal/monitor"
)

// chains runs a test on a rig over the embedded chain and over a real
// geth --dev (skipped without the geth binary).
func chains(t *testing.T, test func(t *testing.T, r *rig)) {
	t.Run("embedded", func(t *testing.T) { test(t, newRig(t, 0, 0, monitor.Options{})) })
	t.Run("geth", func(t *testing.T) {
		if _, err := gethtest.Find(); err != nil {
			t.Skipf("no geth: %v", err)
		}
		test(t, newGethRig(t, monitor.Options{}))
	})
}

// newGethRig is newRig on a real geth --dev (archive, debug API) sealing
// each transaction as it arrives, with the demo app deployed over RPC and
// no traffic.
func newGethRig(t *testing.T, opts monitor.Options) *rig {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	node, err := gethtest.Start(ctx, gethtest.Options{Debug: true, Archive: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { node.Close() })
	rc, err := rpc.DialContext(ctx, node.URL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(rc.Close)
	keys := demo.Keys(8)
	if err := demo.Fund(ctx, rc, demo.Addresses(keys), new(big.Int).Mul(big.NewInt(10_000), big.NewInt(1e18))); err != nil {
		t.Fatal(err)
	}
	app, err := demo.Deploy(ctx, ethclient.NewClient(rc), keys[demo.Deployer])
	if err != nil {
		t.Fatal(err)
	}
	r := &rig{app: app, rpc: rc}
	r.build(t, node.URL, opts)
	return r
}

// sealed seals the block of a sent transaction (Commit on the embedded
// chain; geth seals it itself) and returns its receipt.
func (r *rig) sealed(ctx context.Context, h common.Hash) (*types.Receipt, error) {
	if r.chain != nil {
		r.chain.Commit()
	}
	ec := ethclient.NewClient(r.rpc)
	for {
		rc, err := ec.TransactionReceipt(ctx, h)
		if err == nil {
			return rc, nil
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("transaction %s not mined: %w", h, err)
		case <-time.After(20 * time.Millisecond): // polling the node
		}
	}
}

// tick seals a block at least a second after the last: an empty one on
// the embedded chain, one with a transfer to self on geth, which seals no
// empty block.
func (r *rig) tick(t *testing.T) {
	t.Helper()
	if r.chain != nil {
		r.chain.Commit()
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	key := demo.Keys(8)[7] // a key no story uses
	from := crypto.PubkeyToAddress(key.PublicKey)
	ec := ethclient.NewClient(r.rpc)
	nonce, err := ec.PendingNonceAt(ctx, from)
	if err != nil {
		t.Fatal(err)
	}
	tx, _ := types.SignNewTx(key, types.LatestSignerForChainID(r.app.ChainID), &types.DynamicFeeTx{
		ChainID: r.app.ChainID, Nonce: nonce, To: &from, Gas: 21_000, GasFeeCap: big.NewInt(100e9), GasTipCap: big.NewInt(1e9)})
	if err := ec.SendTransaction(ctx, tx); err != nil {
		t.Fatal(err)
	}
	if _, err := r.sealed(ctx, tx.Hash()); err != nil {
		t.Fatal(err)
	}
}

// head is the chain's newest block.
func (r *rig) head(t *testing.T) *types.Header {
	t.Helper()
	h, err := ethclient.NewClient(r.rpc).HeaderByNumber(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	return h
}
