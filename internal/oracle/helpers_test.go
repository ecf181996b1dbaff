package oracle_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"math/big"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/ethclient"

	"github.com/blocktorch/blocktorch/internal/demo"
	"github.com/blocktorch/blocktorch/internal/devchain"
	"github.com/blocktorch/blocktorch/internal/monitor"
	"github.com/blocktorch/blocktorch/internal/oracle"
	"github.com/blocktorch/blocktorch/internal/store/sqlite"
)

// rig is an embedded chain sealing only on Commit, with Chainlink's own
// aggregator and proxy and the demo's contracts ready to deploy.
type rig struct {
	chain *devchain.Chain
	eth   *ethclient.Client
	key   *ecdsa.PrivateKey
	from  common.Address
	arts  map[string]demo.Artifact
	abis  map[string]abi.ABI
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
	r := &rig{chain: ch, eth: ethclient.NewClient(ch.Client()), key: key, from: from,
		arts: map[string]demo.Artifact{}, abis: map[string]abi.ABI{}}
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
	return r
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
	head, err := r.eth.HeaderByNumber(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if value == nil {
		value = new(big.Int)
	}
	fee := new(big.Int).Add(new(big.Int).Mul(head.BaseFee, big.NewInt(2)), big.NewInt(1e9))
	tx, err := types.SignNewTx(r.key, types.LatestSignerForChainID(devchain.ChainID), &types.DynamicFeeTx{
		ChainID: devchain.ChainID, Nonce: nonce, GasTipCap: big.NewInt(1e9), GasFeeCap: fee, Gas: 10_000_000,
		To: to, Value: value, Data: data,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.eth.SendTransaction(ctx, tx); err != nil {
		t.Fatal(err)
	}
	r.chain.Commit()
	rc, err := r.eth.TransactionReceipt(ctx, tx.Hash())
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

// blocks seals n empty blocks; each is at least a second after the last.
func (r *rig) blocks(n int) {
	for range n {
		r.chain.Commit()
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
	return &oracle.Service{Node: r.eth, Store: db, Trace: oracle.TraceVia(monitor.NewRPCNode(r.chain.Client())), Now: now}
}

func price(dollars int64) *big.Int { return new(big.Int).Mul(big.NewInt(dollars), big.NewInt(1e8)) }
