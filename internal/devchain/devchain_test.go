package devchain

import (
	"context"
	"encoding/json"
	"math/big"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/ethclient"
	"github.com/ethereum/go-ethereum/rpc"
)

func startManual(t *testing.T, alloc map[common.Address]*big.Int) *Chain {
	t.Helper()
	c, err := Start(Config{BlockInterval: -1, Alloc: alloc, RPCAddr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// A failing contract call must be traceable over the HTTP endpoint, which the
// stock simulated backend cannot do.
func TestTraceOverHTTP(t *testing.T) {
	key, _ := crypto.GenerateKey()
	from := crypto.PubkeyToAddress(key.PublicKey)
	c := startManual(t, map[common.Address]*big.Int{from: big.NewInt(1e18)})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	httpc, err := rpc.DialContext(ctx, c.HTTPEndpoint())
	if err != nil {
		t.Fatal(err)
	}
	defer httpc.Close()
	ec := ethclient.NewClient(httpc)

	// Init code that reverts with the 4 bytes 0xdeadbeef: PUSH4 deadbeef PUSH1 0 MSTORE PUSH1 4 PUSH1 28 REVERT.
	initCode := common.FromHex("63deadbeef6000526004601cfd")
	signer := types.LatestSignerForChainID(ChainID)
	tx := types.MustSignNewTx(key, signer, &types.DynamicFeeTx{
		ChainID: ChainID, Nonce: 0, GasTipCap: big.NewInt(1), GasFeeCap: big.NewInt(2e9), Gas: 100_000, Data: initCode,
	})
	if err := ec.SendTransaction(ctx, tx); err != nil {
		t.Fatal(err)
	}
	c.Commit()
	rcpt, err := ec.TransactionReceipt(ctx, tx.Hash())
	if err != nil {
		t.Fatal(err)
	}
	if rcpt.Status != 0 {
		t.Fatalf("status = %d, want failure", rcpt.Status)
	}
	var frame struct {
		Output hexutil.Bytes `json:"output"`
		Error  string        `json:"error"`
	}
	err = httpc.CallContext(ctx, &frame, "debug_traceTransaction", tx.Hash(), map[string]any{"tracer": "callTracer"})
	if err != nil {
		t.Fatal(err)
	}
	if got := common.Bytes2Hex(frame.Output); got != "deadbeef" || frame.Error != "execution reverted" {
		b, _ := json.Marshal(frame)
		t.Fatalf("trace = %s", b)
	}
}

// Fork must orphan blocks: the canonical hash at the forked heights changes.
func TestForkReorgs(t *testing.T) {
	c := startManual(t, nil)
	for range 5 {
		c.Commit()
	}
	old := c.CanonicalHash(5)
	if err := c.Fork(c.CanonicalHash(2)); err != nil {
		t.Fatal(err)
	}
	for range 4 {
		c.Commit()
	}
	if n := c.Head().Number.Uint64(); n != 6 {
		t.Fatalf("head = %d, want 6", n)
	}
	if c.CanonicalHash(5) == old {
		t.Fatal("block 5 not replaced after fork")
	}
}

func TestSealsOnInterval(t *testing.T) {
	c, err := Start(Config{BlockInterval: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.WaitHead(ctx, 3); err != nil {
		t.Fatal(err)
	}
}

func TestRejectsNonLoopbackRPC(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:8545", "10.0.0.1:1", "nonsense", "127.0.0.1:99999"} {
		if _, err := Start(Config{RPCAddr: addr}); err == nil {
			t.Errorf("Start(%q) succeeded", addr)
		}
	}
}
