package indexer_test

import (
	"context"
	"crypto/ecdsa"
	"fmt"
	"math/big"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/ethclient"
	"github.com/ethereum/go-ethereum/params"

	"github.com/blocktorch/blocktorch/internal/decode"
	"github.com/blocktorch/blocktorch/internal/demo"
	"github.com/blocktorch/blocktorch/internal/devchain"
	"github.com/blocktorch/blocktorch/internal/ethrpc"
	"github.com/blocktorch/blocktorch/internal/indexer"
	"github.com/blocktorch/blocktorch/internal/store"
	"github.com/blocktorch/blocktorch/internal/store/sqlite"
)

// demoChain is an embedded chain sealing only on Commit, with the demo app
// deployed and its traffic generator ready.
type demoChain struct {
	chain   *devchain.Chain
	eth     *ethclient.Client
	app     *demo.App
	traffic *demo.Traffic
	keys    []*ecdsa.PrivateKey
}

func newDemoChain(t *testing.T) *demoChain {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, err := demo.StartChain(ctx, demo.ChainConfig{Keys: 8, Chain: devchain.Config{BlockInterval: -1, RPCAddr: "127.0.0.1:0"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	tr, err := c.Traffic(demo.Options{Rate: 25, Seed: 7, FailureRate: 0.15})
	if err != nil {
		t.Fatal(err)
	}
	return &demoChain{chain: c.Chain, eth: c.Eth, app: c.App, traffic: tr, keys: c.Keys}
}

// grow adds n blocks of demo traffic.
func (d *demoChain) grow(t *testing.T, n int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	for range n {
		if err := d.traffic.Step(ctx); err != nil {
			t.Fatalf("traffic step: %v", err)
		}
		d.chain.Commit()
	}
}

// env is a store plus an indexer reading the chain over HTTP JSON-RPC.
type env struct {
	st  *sqlite.DB
	ix  *indexer.Indexer
	rpc *ethrpc.Client
	reg *decode.Registry
}

func newEnv(t *testing.T, rpcURL, dbPath string, app *demo.App, batch uint64) *env {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, dbPath)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	rc, err := ethrpc.Dial(ctx, rpcURL, ethrpc.Options{BackoffMin: 10 * time.Millisecond, BackoffMax: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(rc.Close)
	reg := decode.NewRegistry()
	if app != nil {
		for _, c := range app.Contracts() {
			if err := reg.Add(c.Address, c.Name, c.ABI); err != nil {
				t.Fatal(err)
			}
		}
	}
	ix := indexer.New(rc, st, indexer.Config{BatchSize: batch, Decode: reg.DecodeTx, RetryMin: 10 * time.Millisecond, RetryMax: 100 * time.Millisecond})
	return &env{st: st, ix: ix, rpc: rc, reg: reg}
}

// catchUp steps the indexer until it reports being caught up.
func (e *env) catchUp(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for {
		done, err := e.ix.Step(ctx)
		if err != nil {
			t.Fatalf("indexer step: %v", err)
		}
		if done {
			return
		}
	}
}

// dump renders everything a store holds as canonical text, so that two
// stores can be compared whole.
func dump(t *testing.T, st store.ChainReader) string {
	t.Helper()
	ctx := context.Background()
	var b strings.Builder
	var before uint64
	for {
		blocks, err := st.Blocks(ctx, store.BlockQuery{Limit: 1000, Before: before})
		if err != nil {
			t.Fatal(err)
		}
		for _, bl := range blocks {
			fmt.Fprintf(&b, "block %d %s parent=%s txs=%d gas=%d\n", bl.Number, bl.Hash, bl.ParentHash, bl.TxCount, bl.GasUsed)
			n := bl.Number
			txs, err := st.Txs(ctx, store.TxQuery{Limit: 1000, Block: &n})
			if err != nil {
				t.Fatal(err)
			}
			for _, tx := range txs {
				full, err := st.Tx(ctx, tx.Hash)
				if err != nil {
					t.Fatal(err)
				}
				fmt.Fprintf(&b, "  tx %d %s status=%d gas=%d from=%s revert=%x", full.Index, full.Hash, full.Status, full.GasUsed, full.From, full.RevertData)
				if full.Call != nil {
					fmt.Fprintf(&b, " call=%s", full.Call.Method)
				}
				if full.Revert != nil {
					fmt.Fprintf(&b, " reason=%q", full.Revert.Message)
				}
				b.WriteString("\n")
				for _, l := range full.Logs {
					fmt.Fprintf(&b, "    log %d %s topics=%d", l.Index, l.Address, len(l.Topics))
					if l.Event != nil {
						fmt.Fprintf(&b, " event=%s", l.Event.Name)
					}
					b.WriteString("\n")
				}
			}
		}
		if len(blocks) < 1000 || blocks[len(blocks)-1].Number == 0 {
			break
		}
		before = blocks[len(blocks)-1].Number
	}
	return b.String()
}

func tempDB(t *testing.T, name string) string {
	return filepath.Join(t.TempDir(), name)
}

// firstDiff describes where two dumps first differ.
func firstDiff(a, b string) string {
	la, lb := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := 0; i < len(la) || i < len(lb); i++ {
		var x, y string
		if i < len(la) {
			x = la[i]
		}
		if i < len(lb) {
			y = lb[i]
		}
		if x != y {
			return fmt.Sprintf("line %d:\n  got:  %s\n  want: %s", i+1, x, y)
		}
	}
	return "no difference"
}

// diverge sends a transfer of 1 wei from the demo's attacker key, which the
// traffic never uses, for the next block. Right after a fork, the first
// block could otherwise repeat the orphaned block at its height (the pool
// puts the orphaned transactions back, the traffic's new ones wait behind
// their nonces, and the timestamps of fast blocks run ahead of the clock),
// making the reorg one block shallower than the fork. It returns the hash.
func (d *demoChain) diverge(t *testing.T) common.Hash {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	key := d.keys[demo.Attacker]
	from := crypto.PubkeyToAddress(key.PublicKey)
	nonce, err := d.eth.PendingNonceAt(ctx, from)
	if err != nil {
		t.Fatal(err)
	}
	id, err := d.eth.ChainID(ctx)
	if err != nil {
		t.Fatal(err)
	}
	tip := big.NewInt(params.GWei)
	feeCap := new(big.Int).Add(tip, new(big.Int).Mul(d.chain.Head().BaseFee, big.NewInt(2)))
	tx, err := types.SignTx(types.NewTx(&types.DynamicFeeTx{ChainID: id, Nonce: nonce, GasTipCap: tip, GasFeeCap: feeCap,
		Gas: params.TxGas, To: &from, Value: big.NewInt(1)}), types.LatestSignerForChainID(id), key)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.eth.SendTransaction(ctx, tx); err != nil {
		t.Fatalf("cannot send the diverging transfer: %v", err)
	}
	return tx.Hash()
}
