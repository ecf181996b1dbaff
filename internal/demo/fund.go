package demo

import (
	"context"
	"fmt"
	"math/big"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/ethclient"
	"github.com/ethereum/go-ethereum/rpc"
)

var _ Backend = (*ethclient.Client)(nil)

// Fund sends amount wei to each address from the node's first unlocked account (the dev
// account of geth --dev) and waits until every transfer is mined.
func Fund(ctx context.Context, client *rpc.Client, to []common.Address, amount *big.Int) error {
	var accounts []common.Address
	if err := client.CallContext(ctx, &accounts, "eth_accounts"); err != nil {
		return fmt.Errorf("cannot list the node's accounts: %w", err)
	}
	if len(accounts) == 0 {
		return fmt.Errorf("the node has no unlocked account to fund from (a geth --dev node has one)")
	}
	from := accounts[0]
	// Explicit nonces: a node sealing on every transaction (geth --dev
	// --dev.period 0) may otherwise hand out one nonce twice and refuse the
	// second transfer as an underpriced replacement.
	var nonce hexutil.Uint64
	if err := client.CallContext(ctx, &nonce, "eth_getTransactionCount", from, "pending"); err != nil {
		return fmt.Errorf("cannot read the nonce of %s: %w", from, err)
	}
	hashes := make([]common.Hash, len(to))
	for i, addr := range to {
		args := map[string]any{"from": from, "to": addr, "value": (*hexutil.Big)(amount), "nonce": nonce + hexutil.Uint64(i)}
		if err := client.CallContext(ctx, &hashes[i], "eth_sendTransaction", args); err != nil {
			return fmt.Errorf("cannot send ETH from %s to %s: %w", from, addr, err)
		}
	}
	ec := ethclient.NewClient(client)
	for i, h := range hashes {
		r, err := waitMined(ctx, ec, h)
		if err != nil {
			return fmt.Errorf("funding %s: %w", to[i], err)
		}
		if r.Status != types.ReceiptStatusSuccessful {
			return fmt.Errorf("funding %s: transfer %s failed", to[i], h)
		}
	}
	return nil
}
