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

	"github.com/blocktorch/blocktorch/internal/contracts"
	"github.com/blocktorch/blocktorch/internal/debugger"
	"github.com/blocktorch/blocktorch/internal/devchain"
	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/ethclient"
)

// TestPrintFailureConfidence checks that the failing line is printed with
// no more confidence than the debugger has in it.
func TestPrintFailureConfidence(t *testing.T) {
	for _, c := range []struct {
		name string
		f    debugger.Failure
		want string
	}{
		{"exact", debugger.Failure{File: "src/A.sol", Line: 7, Column: 9, Reason: "boom"},
			"failure at src/A.sol:7:9: boom\n"},
		{"inferred with candidate lines", debugger.Failure{File: "src/A.sol", Line: 7, Column: 9, Reason: "boom", Approximate: true, FromLine: 5, ToLine: 12},
			"failure at src/A.sol:7:9: boom  (approximate: inferred, the origin is somewhere in lines 5-12)\n"},
		{"inferred on one line", debugger.Failure{File: "src/A.sol", Line: 7, Column: 9, Reason: "boom", Approximate: true, FromLine: 7, ToLine: 7},
			"failure at src/A.sol:7:9: boom  (approximate: inferred, the compiler's mapping is not exact here)\n"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var b bytes.Buffer
			f := c.f
			printResult(&b, &debugger.Result{Root: &debugger.Frame{Type: "CALL"}, Failure: &f}, debugger.NewArtifacts())
			if !strings.HasSuffix(b.String(), c.want) {
				t.Errorf("printed\n%s\nwant it to end with\n%s", b.String(), c.want)
			}
		})
	}
}

// TestTraceOptimizedBuilds runs `blocktorch trace` on failures of contracts
// built with the optimizer and via IR, through both replay paths: the
// printed line is the one the fixture sources mark, given as exact.
func TestTraceOptimizedBuilds(t *testing.T) {
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
	nonce := uint64(0)
	send := func(to *common.Address, data []byte) *types.Receipt {
		t.Helper()
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
	for _, build := range []string{"optimized", "viair"} {
		dir := filepath.Join("..", "..", "internal", "debugger", "testdata", "origin", build)
		in, err := os.ReadFile(filepath.Join(dir, "input.json"))
		if err != nil {
			t.Fatal(err)
		}
		out, err := os.ReadFile(filepath.Join(dir, "output.json"))
		if err != nil {
			t.Fatal(err)
		}
		arts, err := contracts.ParseStandardJSON(in, out, "0.8.28+commit.7893614a")
		if err != nil {
			t.Fatal(err)
		}
		var origins contracts.Artifact
		for _, a := range arts {
			if a.Name == "Origins" {
				origins = a
			}
		}
		r := send(nil, common.FromHex(origins.Bytecode))
		if r.Status != 1 {
			t.Fatalf("%s: deploying Origins failed", build)
		}
		addr := r.ContractAddress
		parsed, _ := abi.JSON(bytes.NewReader(origins.ABI))
		for _, c := range []struct {
			path, method string
			args         []any
		}{
			{"require", "requireMessage", []any{big.NewInt(5)}},
			{"modifier", "ownerOnly", []any{big.NewInt(1)}},
			{"division", "divide", []any{big.NewInt(1), big.NewInt(0)}},
		} {
			data, _ := parsed.Pack(c.method, c.args...)
			r := send(&addr, data)
			if r.Status != 0 {
				t.Fatalf("%s: %s succeeded", build, c.method)
			}
			var file string
			line := 0
			for unit, src := range origins.Sources {
				if i := strings.Index(src, "// @fail:"+c.path+"\n"); i >= 0 {
					file, line = unit, 1+strings.Count(src[:i], "\n")
				}
			}
			if line == 0 {
				t.Fatalf("no @fail:%s marker", c.path)
			}
			for _, mode := range []string{"node", "local"} {
				args := []string{"trace", r.TxHash.Hex(), "--rpc", chain.HTTPEndpoint(), "--artifacts", dir, "--server="}
				if mode == "local" {
					args = append(args, "--local")
				}
				var out, errOut bytes.Buffer
				if err := run(ctx, args, &out, &errOut); err != nil {
					t.Fatalf("%s/%s/%s: %v\n%s", build, c.path, mode, err, errOut.String())
				}
				s := out.String()
				want := fmt.Sprintf("failure at %s:%d:", file, line)
				if !strings.Contains(s, want) || strings.Contains(s, "approximate") || !strings.Contains(s, fmt.Sprintf("> %5d |", line)) {
					t.Errorf("%s/%s/%s: output lacks %q given as exact:\n%s", build, c.path, mode, want, s)
				}
			}
		}
	}
}
