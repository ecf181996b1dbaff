package indexer_test

import (
	"bytes"
	"context"
	"fmt"
	"math/big"
	"slices"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/ethclient"
	"github.com/ethereum/go-ethereum/rpc"

	"github.com/blocktorch/blocktorch/internal/chain"
	"github.com/blocktorch/blocktorch/internal/demo"
	"github.com/blocktorch/blocktorch/internal/gethtest"
	"github.com/blocktorch/blocktorch/internal/store"
)

// Against a real geth --dev: deploy the demo app over RPC, run its traffic,
// index, and compare every block, transaction and log with what the node
// reports. With the debug API the revert data comes from traces, without
// it from replays; both must decode the demo's failures.
func TestAgainstGeth(t *testing.T) {
	if testing.Short() {
		t.Skip("starts geth")
	}
	for _, debug := range []bool{true, false} {
		t.Run(fmt.Sprintf("debug=%v", debug), func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
			defer cancel()
			node, err := gethtest.Start(ctx, gethtest.Options{Debug: debug, Archive: true})
			if err != nil {
				t.Fatal(err)
			}
			defer node.Close()
			rc, err := rpc.DialContext(ctx, node.URL)
			if err != nil {
				t.Fatal(err)
			}
			defer rc.Close()
			ec := ethclient.NewClient(rc)

			keys := demo.Keys(8)
			if err := demo.Fund(ctx, rc, demo.Addresses(keys), new(big.Int).Mul(big.NewInt(10_000), big.NewInt(1e18))); err != nil {
				t.Fatal(err)
			}
			app, err := demo.Deploy(ctx, ec, keys[demo.Deployer])
			if err != nil {
				t.Fatal(err)
			}
			var sent []demo.Sent
			tr, err := demo.NewTraffic(app, ec, keys, demo.Options{Rate: 50, Seed: 3, FailureRate: 0.3,
				OnSend: func(s demo.Sent) { sent = append(sent, s) }})
			if err != nil {
				t.Fatal(err)
			}
			for range 30 {
				if err := tr.Step(ctx); err != nil {
					t.Fatal(err)
				}
			}
			for _, s := range sent {
				if _, err := waitReceipt(ctx, ec, s.Tx.Hash()); err != nil {
					t.Fatalf("%s (%s): %v", s.Action, s.Tx.Hash(), err)
				}
			}

			e := newEnv(t, node.URL, tempDB(t, "geth.db"), app, 50)
			e.catchUp(t)
			compareWithNode(t, ctx, ec, e.st)

			// Every failure the traffic meant is stored failed, with its
			// reason decoded.
			kinds := map[string]int{}
			for _, s := range sent {
				if s.Failure == demo.NoFailure {
					continue
				}
				tx, err := e.st.Tx(ctx, s.Tx.Hash())
				if err != nil {
					t.Fatalf("%s: %v", s.Tx.Hash(), err)
				}
				if !tx.Failed() {
					t.Errorf("%s meant to fail with %s but succeeded", s.Tx.Hash(), s.Failure)
					continue
				}
				if tx.Revert == nil || tx.Revert.Kind == chain.RevertUnknown || tx.Revert.Kind == chain.RevertEmpty {
					t.Errorf("%s (%s, %s): revert not decoded: %+v data=%x", s.Tx.Hash(), s.Action, s.Failure, tx.Revert, tx.RevertData)
					continue
				}
				kinds[tx.Revert.Kind]++
			}
			t.Logf("decoded failures by kind: %v", kinds)
			for _, k := range []string{chain.RevertError, chain.RevertCustom, chain.RevertPanic} {
				if kinds[k] == 0 {
					t.Errorf("no %s revert among %d sent txs", k, len(sent))
				}
			}
		})
	}
}

func waitReceipt(ctx context.Context, ec *ethclient.Client, h common.Hash) (uint64, error) {
	for {
		r, err := ec.TransactionReceipt(ctx, h)
		if err == nil {
			return r.Status, nil
		}
		select {
		case <-ctx.Done():
			return 0, fmt.Errorf("not mined: %w", err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// compareWithNode walks the node from genesis to its head and checks that
// the store holds every block, transaction and log the node reports, field
// by field (hashes, parents, status, gas, input, each log's address, topics
// and data), and nothing more.
func compareWithNode(t *testing.T, ctx context.Context, ec *ethclient.Client, st store.ChainReader) {
	t.Helper()
	nodeHead, err := ec.BlockNumber(ctx)
	if err != nil {
		t.Fatal(err)
	}
	head, err := st.Head(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if head.Number != nodeHead {
		t.Fatalf("stored head %d, node head %d", head.Number, nodeHead)
	}
	counts, err := st.Counts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var wantTxs, wantLogs int64
	for n := uint64(0); n <= nodeHead; n++ {
		num := new(big.Int).SetUint64(n)
		b, err := ec.BlockByNumber(ctx, num)
		if err != nil {
			t.Fatal(err)
		}
		ref, err := st.BlockRef(ctx, n)
		if err != nil {
			t.Fatalf("block %d: %v", n, err)
		}
		if ref.Hash != b.Hash() || ref.ParentHash != b.ParentHash() {
			t.Fatalf("block %d: stored %s (parent %s), node %s (parent %s)", n, ref.Hash, ref.ParentHash, b.Hash(), b.ParentHash())
		}
		receipts, err := ec.BlockReceipts(ctx, rpc.BlockNumberOrHashWithNumber(rpc.BlockNumber(n)))
		if err != nil {
			t.Fatal(err)
		}
		stored, err := st.Txs(ctx, store.TxQuery{Block: &n, Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		if len(stored) != len(b.Transactions()) {
			t.Fatalf("block %d: %d txs stored, node has %d", n, len(stored), len(b.Transactions()))
		}
		byHash := map[common.Hash]chain.Tx{}
		for _, tx := range stored {
			byHash[tx.Hash] = tx
		}
		for i, tx := range b.Transactions() {
			s, ok := byHash[tx.Hash()]
			if !ok {
				t.Fatalf("block %d: tx %s not stored", n, tx.Hash())
			}
			r := receipts[i]
			full, err := st.Tx(ctx, tx.Hash())
			if err != nil {
				t.Fatal(err)
			}
			if s.Index != uint(i) || s.Status != r.Status || s.GasUsed != r.GasUsed || len(full.Logs) != len(r.Logs) ||
				s.EffectiveGasPrice.Cmp(r.EffectiveGasPrice) != 0 || s.Nonce != tx.Nonce() || !bytes.Equal(s.Input, tx.Data()) {
				t.Fatalf("block %d tx %d %s differs: stored status=%d gas=%d logs=%d, node status=%d gas=%d logs=%d",
					n, i, tx.Hash(), s.Status, s.GasUsed, len(full.Logs), r.Status, r.GasUsed, len(r.Logs))
			}
			for j, l := range r.Logs {
				if d := logDiff(full.Logs[j], l); d != "" {
					t.Fatalf("block %d tx %s log %d: %s", n, tx.Hash(), j, d)
				}
			}
			wantLogs += int64(len(r.Logs))
		}
		wantTxs += int64(len(b.Transactions()))
	}
	if counts.Blocks != int64(nodeHead+1) || counts.Txs != wantTxs || counts.Logs != wantLogs {
		t.Fatalf("counts %+v, node: %d blocks %d txs %d logs", counts, nodeHead+1, wantTxs, wantLogs)
	}
	if wantLogs == 0 {
		t.Fatal("the node holds no log: nothing was compared")
	}
	t.Logf("matched the node: %d blocks, %d txs, %d logs", counts.Blocks, counts.Txs, counts.Logs)
}

// logDiff says how a stored log differs from the node's, or "" when it
// does not.
func logDiff(got chain.Log, want *types.Log) string {
	switch {
	case got.Index != want.Index:
		return fmt.Sprintf("index %d, node %d", got.Index, want.Index)
	case got.Address != want.Address:
		return fmt.Sprintf("address %s, node %s", got.Address, want.Address)
	case !slices.Equal(got.Topics, want.Topics):
		return fmt.Sprintf("topics %v, node %v", got.Topics, want.Topics)
	case !bytes.Equal(got.Data, want.Data):
		return fmt.Sprintf("data %x, node %x", got.Data, want.Data)
	case got.BlockNumber != want.BlockNumber || got.BlockHash != want.BlockHash:
		return fmt.Sprintf("block %d %s, node %d %s", got.BlockNumber, got.BlockHash, want.BlockNumber, want.BlockHash)
	case got.TxHash != want.TxHash || got.TxIndex != want.TxIndex:
		return fmt.Sprintf("tx %s #%d, node %s #%d", got.TxHash, got.TxIndex, want.TxHash, want.TxIndex)
	}
	return ""
}
