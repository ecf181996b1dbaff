package oracle_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"fmt"
	"math/big"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/ethclient"
	"github.com/ethereum/go-ethereum/rpc"

	"github.com/blocktorch/blocktorch/internal/decode"
	"github.com/blocktorch/blocktorch/internal/demo"
	"github.com/blocktorch/blocktorch/internal/devchain"
	"github.com/blocktorch/blocktorch/internal/ethrpc"
	"github.com/blocktorch/blocktorch/internal/gethtest"
	"github.com/blocktorch/blocktorch/internal/indexer"
	"github.com/blocktorch/blocktorch/internal/monitor"
	"github.com/blocktorch/blocktorch/internal/oracle"
	"github.com/blocktorch/blocktorch/internal/store/sqlite"
)

// rig is a chain with Chainlink's own aggregator and proxy and the demo's
// contracts ready to deploy: the embedded chain sealing only on Commit, or
// a real geth --dev sealing each transaction as it arrives.
type rig struct {
	rpc     *rpc.Client
	eth     *ethclient.Client
	chainID *big.Int
	key     *ecdsa.PrivateKey
	from    common.Address
	arts    map[string]demo.Artifact
	abis    map[string]abi.ABI
	// commit seals the pending transactions into a block on the embedded
	// chain; nil on geth, which seals them itself.
	commit func()
	// nonce is the next nonce of from: geth --dev may answer a stale
	// pending nonce right after sealing.
	nonce uint64
	// db is the store of the last service made; ix indexes the chain
	// into it (see index).
	db *sqlite.DB
	ix *indexer.Indexer
}

// chains runs a test on the embedded chain and on a real geth --dev
// (skipped with -short or without the geth binary).
func chains(t *testing.T, test func(t *testing.T, r *rig)) {
	t.Run("embedded", func(t *testing.T) { test(t, newRig(t)) })
	t.Run("geth", func(t *testing.T) {
		if testing.Short() {
			t.Skip("starts geth")
		}
		if _, err := gethtest.Find(); err != nil {
			t.Skipf("no geth: %v", err)
		}
		test(t, newGethRig(t))
	})
}

func newRig(t *testing.T) *rig {
	t.Helper()
	key := demo.Keys(1)[0]
	from := crypto.PubkeyToAddress(key.PublicKey)
	ch, err := devchain.Start(devchain.Config{BlockInterval: -1,
		Alloc: map[common.Address]*big.Int{from: new(big.Int).Mul(big.NewInt(1_000_000), big.NewInt(1e18))}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ch.Close() })
	r := &rig{rpc: ch.Client(), eth: ethclient.NewClient(ch.Client()), chainID: devchain.ChainID, key: key, from: from, commit: func() { ch.Commit() }}
	r.load(t)
	return r
}

// newGethRig starts geth --dev (archive, debug API) and funds the rig's
// account from the node's dev account.
func newGethRig(t *testing.T) *rig { return startGeth(t, true) }

// startGeth starts geth --dev with the debug API, archive or pruning old
// state (it keeps the newest 128 blocks'), and funds the rig's account.
func startGeth(t *testing.T, archive bool) *rig {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	node, err := gethtest.Start(ctx, gethtest.Options{Debug: true, Archive: archive})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { node.Close() })
	rc, err := rpc.DialContext(ctx, node.URL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(rc.Close)
	key := demo.Keys(1)[0]
	from := crypto.PubkeyToAddress(key.PublicKey)
	if err := demo.Fund(ctx, rc, []common.Address{from}, new(big.Int).Mul(big.NewInt(1_000_000), big.NewInt(1e18))); err != nil {
		t.Fatal(err)
	}
	ec := ethclient.NewClient(rc)
	id, err := ec.ChainID(ctx)
	if err != nil {
		t.Fatal(err)
	}
	r := &rig{rpc: rc, eth: ec, chainID: id, key: key, from: from}
	r.load(t)
	return r
}

// load reads the demo's and Chainlink's artifacts.
func (r *rig) load(t *testing.T) {
	t.Helper()
	r.arts, r.abis = map[string]demo.Artifact{}, map[string]abi.ABI{}
	for _, load := range []func() (map[string]demo.Artifact, error){demo.Artifacts, demo.ChainlinkArtifacts} {
		arts, err := load()
		if err != nil {
			t.Fatal(err)
		}
		for name, a := range arts {
			parsed, err := abi.JSON(bytes.NewReader(a.ABI))
			if err != nil {
				t.Fatal(err)
			}
			r.arts[name], r.abis[name] = a, parsed
		}
	}
}

// send mines one transaction and requires it to succeed unless fail.
func (r *rig) send(t *testing.T, to *common.Address, value *big.Int, data []byte, fail bool) *types.Receipt {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	nonce, err := r.eth.PendingNonceAt(ctx, r.from)
	if err != nil {
		t.Fatal(err)
	}
	nonce = max(nonce, r.nonce)
	r.nonce = nonce + 1
	head, err := r.eth.HeaderByNumber(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if value == nil {
		value = new(big.Int)
	}
	fee := new(big.Int).Add(new(big.Int).Mul(head.BaseFee, big.NewInt(2)), big.NewInt(1e9))
	tx, err := types.SignNewTx(r.key, types.LatestSignerForChainID(r.chainID), &types.DynamicFeeTx{
		ChainID: r.chainID, Nonce: nonce, GasTipCap: big.NewInt(1e9), GasFeeCap: fee, Gas: 10_000_000,
		To: to, Value: value, Data: data,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.eth.SendTransaction(ctx, tx); err != nil {
		t.Fatal(err)
	}
	if r.commit != nil {
		r.commit()
	}
	rc, err := r.receipt(ctx, tx.Hash())
	if err != nil {
		t.Fatal(err)
	}
	if ok := rc.Status == types.ReceiptStatusSuccessful; ok == fail {
		t.Fatalf("transaction %s: status %d", tx.Hash(), rc.Status)
	}
	return rc
}

func (r *rig) deploy(t *testing.T, name string, args ...any) common.Address {
	t.Helper()
	ctor, err := r.abis[name].Pack("", args...)
	if err != nil {
		t.Fatal(err)
	}
	code := append(append([]byte(nil), r.arts[name].Bytecode...), ctor...)
	return r.send(t, nil, nil, code, false).ContractAddress
}

// tx calls a method of a deployed contract in a mined transaction.
func (r *rig) tx(t *testing.T, name string, to common.Address, method string, args ...any) *types.Receipt {
	t.Helper()
	data, err := r.abis[name].Pack(method, args...)
	if err != nil {
		t.Fatal(err)
	}
	return r.send(t, &to, nil, data, false)
}

// receipt waits for a transaction's receipt: geth seals it on its own, and
// right after start may answer that it is still indexing.
func (r *rig) receipt(ctx context.Context, h common.Hash) (*types.Receipt, error) {
	for {
		rc, err := r.eth.TransactionReceipt(ctx, h)
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

// blocks seals n blocks, each at least a second after the last: empty on
// the embedded chain, each with a transfer to self on geth (which seals
// no empty block).
func (r *rig) blocks(t *testing.T, n int) {
	t.Helper()
	for range n {
		if r.commit != nil {
			r.commit()
			continue
		}
		r.send(t, &r.from, nil, nil, false)
	}
}

func (r *rig) head(t *testing.T) uint64 {
	t.Helper()
	n, err := r.eth.BlockNumber(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func (r *rig) service(t *testing.T, now func() time.Time) *oracle.Service {
	t.Helper()
	db, err := sqlite.Open(context.Background(), t.TempDir()+"/db.sqlite")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	r.db = db
	return &oracle.Service{Node: r.eth, Store: db, Records: db, Trace: oracle.TraceVia(monitor.NewRPCNode(r.rpc)), Now: now}
}

// index copies the chain up to its head into the store of the last
// service made (its records: what History reads), decoding events with
// the bundled table as the app does for contracts it does not know.
func (r *rig) index(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if r.ix == nil {
		r.ix = indexer.New(ethrpc.New(r.rpc, ethrpc.Options{}), r.db, indexer.Config{BatchSize: 50, Decode: decode.NewRegistry().DecodeTx})
	}
	head := r.head(t)
	for {
		done, err := r.ix.Step(ctx)
		if err != nil {
			t.Fatalf("indexer step: %v", err)
		}
		h, err := r.db.Head(ctx)
		if done && err == nil && h.Number >= head {
			return
		}
	}
}

func price(dollars int64) *big.Int { return new(big.Int).Mul(big.NewInt(dollars), big.NewInt(1e8)) }
