package contracts_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"encoding/json"
	"math/big"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/ethclient"

	bc "github.com/blocktorch/blocktorch/internal/contracts"
	"github.com/blocktorch/blocktorch/internal/demo"
	"github.com/blocktorch/blocktorch/internal/devchain"
)

// demoChain is an embedded chain with the demo app deployed.
type demoChain struct {
	chain *devchain.Chain
	eth   *ethclient.Client
	app   *demo.App
	key   *ecdsa.PrivateKey
}

var (
	demoOnce sync.Once
	demoVal  *demoChain
	demoErr  error
)

// newDemo starts one chain for the package's tests (deploying takes a while).
func newDemo(t *testing.T) *demoChain {
	t.Helper()
	demoOnce.Do(func() {
		keys := demo.Keys(8)
		alloc := map[common.Address]*big.Int{}
		for _, a := range demo.Addresses(keys) {
			alloc[a] = new(big.Int).Mul(big.NewInt(1_000_000), big.NewInt(1e18))
		}
		ch, err := devchain.Start(devchain.Config{BlockInterval: -1, Alloc: alloc, RPCAddr: "127.0.0.1:0"})
		if err != nil {
			demoErr = err
			return
		}
		ec := ethclient.NewClient(ch.Client())
		d := &demoChain{chain: ch, eth: ec, key: keys[demo.Deployer]}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		stop := d.sealing()
		d.app, demoErr = demo.Deploy(ctx, ec, d.key)
		stop()
		demoVal = d
	})
	if demoErr != nil {
		t.Fatal(demoErr)
	}
	return demoVal
}

// sealing commits blocks until the returned function is called.
func (d *demoChain) sealing() func() {
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			case <-time.After(5 * time.Millisecond):
				d.chain.Commit()
			}
		}
	}()
	return func() { close(stop); wg.Wait() }
}

// deploy sends creation code and returns the new contract's address.
func (d *demoChain) deploy(t *testing.T, code []byte) common.Address {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	from := crypto.PubkeyToAddress(d.key.PublicKey)
	nonce, err := d.eth.PendingNonceAt(ctx, from)
	if err != nil {
		t.Fatal(err)
	}
	chainID, err := d.eth.ChainID(ctx)
	if err != nil {
		t.Fatal(err)
	}
	head, err := d.eth.HeaderByNumber(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	fee := new(big.Int).Add(new(big.Int).Mul(head.BaseFee, big.NewInt(2)), big.NewInt(1e9))
	tx, err := types.SignNewTx(d.key, types.LatestSignerForChainID(chainID), &types.DynamicFeeTx{
		ChainID: chainID, Nonce: nonce, GasTipCap: big.NewInt(1e9), GasFeeCap: fee, Gas: 15_000_000, Data: code,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.eth.SendTransaction(ctx, tx); err != nil {
		t.Fatal(err)
	}
	d.chain.Commit()
	r, err := d.eth.TransactionReceipt(ctx, tx.Hash())
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != types.ReceiptStatusSuccessful {
		_, cerr := d.eth.CallContract(ctx, ethereum.CallMsg{From: from, Data: code, Gas: tx.Gas()}, r.BlockNumber)
		t.Fatalf("deployment %s failed (gas used %d): %v", tx.Hash(), r.GasUsed, cerr)
	}
	return r.ContractAddress
}

// demoArtifacts are the committed demo build's artifacts.
func demoArtifacts(t *testing.T) []bc.Artifact {
	t.Helper()
	in, out := demo.StandardJSON()
	arts, err := bc.ParseStandardJSON(in, out, "")
	if err != nil {
		t.Fatal(err)
	}
	return arts
}

func artifact(t *testing.T, arts []bc.Artifact, name string) bc.Artifact {
	t.Helper()
	for _, a := range arts {
		if a.Name == name {
			return a
		}
	}
	t.Fatalf("no artifact %s", name)
	return bc.Artifact{}
}

// compile recompiles the demo's committed standard-JSON input with changed
// settings, using the pinned solc-js in internal/demo/contracts/node_modules. It needs
// node: without it the test fails.
func compile(t *testing.T, settings map[string]any) (input, output []byte) {
	t.Helper()
	in, _ := demo.StandardJSON()
	var std map[string]any
	if err := json.Unmarshal(in, &std); err != nil {
		t.Fatal(err)
	}
	s := std["settings"].(map[string]any)
	for k, v := range settings {
		s[k] = v
	}
	input, err := json.Marshal(std)
	if err != nil {
		t.Fatal(err)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatalf("node is needed to compile with solc-js: %v", err)
	}
	dir, err := filepath.Abs(filepath.Join("..", "demo", "contracts"))
	if err != nil {
		t.Fatal(err)
	}
	script := `const solc = require('solc'); let s = ''; process.stdin.on('data', d => s += d);
process.stdin.on('end', () => process.stdout.write(solc.compile(s)));`
	cmd := exec.Command(node, "-e", script)
	cmd.Dir = dir
	cmd.Stdin = bytes.NewReader(input)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	output, err = cmd.Output()
	if err != nil {
		t.Fatalf("solc-js: %v: %s", err, stderr.String())
	}
	return input, output
}
