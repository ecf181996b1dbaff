package main

import (
	"bytes"
	"context"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/blocktorch/blocktorch/internal/demo"
	"github.com/blocktorch/blocktorch/internal/devchain"
	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/ethclient"
)

// TestTraceCommand runs `blocktorch trace` on a revert three calls deep
// and `blocktorch simulate` on a failing call, through both replay paths,
// and checks the printed failing line and its context.
func TestTraceCommand(t *testing.T) {
	if testing.Short() {
		t.Skip("runs an embedded chain")
	}
	key, _ := crypto.GenerateKey()
	from := crypto.PubkeyToAddress(key.PublicKey)
	chain, err := devchain.Start(devchain.Config{BlockInterval: -1, RPCAddr: "127.0.0.1:0", Alloc: map[common.Address]*big.Int{from: new(big.Int).Lsh(big.NewInt(1), 100)}})
	if err != nil {
		t.Fatal(err)
	}
	defer chain.Close()
	ctx := context.Background()
	ec := ethclient.NewClient(chain.Client())
	arts, err := demo.Artifacts()
	if err != nil {
		t.Fatal(err)
	}
	nonce := uint64(0)
	send := func(to *common.Address, data []byte) *types.Receipt {
		tx, _ := types.SignNewTx(key, types.LatestSignerForChainID(devchain.ChainID), &types.DynamicFeeTx{
			ChainID: devchain.ChainID, Nonce: nonce, To: to, Gas: 5_000_000, Data: data, GasFeeCap: big.NewInt(100e9), GasTipCap: big.NewInt(1),
		})
		nonce++
		if err := ec.SendTransaction(ctx, tx); err != nil {
			t.Fatal(err)
		}
		chain.Commit()
		r, err := ec.TransactionReceipt(ctx, tx.Hash())
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	impl := send(nil, arts["Failures"].Bytecode).ContractAddress
	parsed, _ := abi.JSON(strings.NewReader(string(arts["Failures"].ABI)))
	data, _ := parsed.Pack("nest", big.NewInt(3))
	r := send(&impl, data)
	if r.Status != 0 {
		t.Fatal("nest(3) succeeded")
	}
	build := filepath.Join("..", "..", "internal", "demo", "contracts", "build")
	src, err := os.ReadFile(filepath.Join("..", "..", "internal", "demo", "contracts", "src", "Failures.sol"))
	if err != nil {
		t.Fatal(err)
	}
	line := 0
	for i, l := range strings.Split(string(src), "\n") {
		if strings.Contains(l, "revert Refused(msg.sender, 3);") {
			line = i + 1
		}
	}
	want := fmt.Sprintf("src/Failures.sol:%d:", line)
	for _, mode := range []string{"node", "local"} {
		args := []string{"trace", r.TxHash.Hex(), "--rpc", chain.HTTPEndpoint(), "--artifacts", build, "--server="}
		if mode == "local" {
			args = append(args, "--local")
		}
		var out, errOut bytes.Buffer
		if err := run(ctx, args, &out, &errOut); err != nil {
			t.Fatalf("%s: %v\n%s", mode, err, errOut.String())
		}
		s := out.String()
		for _, w := range []string{want, "Failures.nest(depth=3)", "Refused", fmt.Sprintf("> %5d |             revert Refused(msg.sender, 3);", line), fmt.Sprintf("  %5d |", line-3)} {
			if !strings.Contains(s, w) {
				t.Errorf("%s: output lacks %q:\n%s", mode, w, s)
			}
		}
	}
	data, _ = parsed.Pack("divide", big.NewInt(1), big.NewInt(0))
	var out, errOut bytes.Buffer
	err = run(ctx, []string{"simulate", "--rpc", chain.HTTPEndpoint(), "--from", from.Hex(), "--to", impl.Hex(), "--data", fmt.Sprintf("%#x", data), "--artifacts", build}, &out, &errOut)
	if err != nil {
		t.Fatalf("simulate: %v\n%s", err, errOut.String())
	}
	if !strings.Contains(out.String(), "return a / b;") || !strings.Contains(out.String(), "0x12") {
		t.Errorf("simulate output:\n%s", out.String())
	}
}
