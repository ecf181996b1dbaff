package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/blocktorch/blocktorch/internal/debugger"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/rpc"
)

var simulateSpec = spec{
	name: "simulate",
	about: `Run a call or a transaction on the chain's state, with state overrides and expected changes,
and print its call tree and failing line as trace does. Give the request as --request FILE.json
or with --from, --to, --data, --value, --gas and --block.`,
}

func runSimulate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := simulateSpec.newFlags()
	rpcURL := fs.String("rpc", envOr("BLOCKTORCH_RPC", "http://127.0.0.1:8545"), "JSON-RPC URL of the node")
	reqFile := fs.String("request", "", "a JSON simulation request (from, to, data, value, gas, block, overrides, expect); - reads stdin")
	from := fs.String("from", "", "sender address")
	to := fs.String("to", "", "recipient address (omit to deploy --data)")
	data := fs.String("data", "", "calldata or init code, 0x-hex")
	value := fs.String("value", "", "value in wei")
	gas := fs.Uint64("gas", 0, "gas limit (default 30M, capped by the block)")
	block := fs.Int64("block", -1, "simulate on the state after this block (default: latest)")
	var arts multiFlag
	fs.Var(&arts, "artifacts", "artifacts for source lines and decoding, as for trace; repeatable")
	asJSON := fs.Bool("json", false, "print the whole result as JSON")
	if _, err := simulateSpec.parse(fs, args, stdout); err != nil {
		return err
	}
	var req debugger.SimRequest
	if *reqFile != "" {
		var r io.Reader = os.Stdin
		if *reqFile != "-" {
			f, err := os.Open(*reqFile)
			if err != nil {
				return err
			}
			defer f.Close()
			r = f
		}
		dec := json.NewDecoder(r)
		dec.DisallowUnknownFields()
		if err := dec.Decode(&req); err != nil {
			return fmt.Errorf("cannot read the simulation request: %w", err)
		}
	} else {
		if *from == "" {
			return simulateSpec.errorf("missing --from ADDRESS (or --request FILE.json): the sender of the call")
		}
		if !common.IsHexAddress(*from) {
			return simulateSpec.errorf("--from %q is not an address", *from)
		}
		req.From = common.HexToAddress(*from)
		if *to != "" {
			if !common.IsHexAddress(*to) {
				return simulateSpec.errorf("--to %q is not an address", *to)
			}
			a := common.HexToAddress(*to)
			req.To = &a
		}
		if *data != "" {
			b, err := hexutil.Decode(*data)
			if err != nil {
				return simulateSpec.errorf("--data: %v", err)
			}
			req.Data = b
		}
		if *value != "" {
			v, ok := new(big.Int).SetString(*value, 0)
			if !ok || v.Sign() < 0 {
				return simulateSpec.errorf("--value %q is not an amount of wei", *value)
			}
			req.Value = (*hexutil.Big)(v)
		}
		req.Gas = hexutil.Uint64(*gas)
		if *block >= 0 {
			n := hexutil.Uint64(*block)
			req.Block = &n
		}
	}
	if err := req.Validate(); err != nil {
		return simulateSpec.errorf("%v", err)
	}
	set := debugger.NewArtifacts()
	if err := loadDebugArtifacts(set, arts); err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "blocktorch-simulate-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	rc, err := rpc.DialContext(ctx, *rpcURL)
	if err != nil {
		return fmt.Errorf("cannot connect to %s: %w", *rpcURL, err)
	}
	defer rc.Close()
	start := time.Now()
	res, err := (&debugger.Local{RPC: rc}).Simulate(ctx, req, debugger.Options{Dir: dir, Sources: set, Names: set})
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "simulated %d steps in %s\n", res.Steps, time.Since(start).Round(time.Millisecond))
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(res); err != nil {
			return err
		}
	} else {
		printResult(stdout, res, set)
		printBalanceChanges(stdout, res.BalanceChanges)
		for _, a := range res.Assertions {
			mark := "ok  "
			if !a.OK {
				mark = "FAIL"
			}
			what, _ := json.Marshal(a.Expectation)
			fmt.Fprintf(stdout, "%s %s: got %s\n", mark, what, a.Actual)
		}
	}
	for _, a := range res.Assertions {
		if !a.OK {
			return errors.New("some expectations were not met")
		}
	}
	return nil
}

// printBalanceChanges lists the ether and token balance changes, each in
// its token's decimals when the token gave them. A symbol is the token's
// own text: control characters (terminal escapes) are shown escaped.
func printBalanceChanges(w io.Writer, changes []debugger.BalanceChange) {
	if len(changes) == 0 {
		return
	}
	fmt.Fprintln(w, "balance changes:")
	for _, c := range changes {
		amount := c.Delta
		if c.Decimals != nil {
			amount = unitsText(c.Delta, int(*c.Decimals))
		}
		if !strings.HasPrefix(amount, "-") {
			amount = "+" + amount
		}
		asset := "ETH"
		if c.Token != nil {
			asset = strconv.Quote(c.Symbol)
			if c.Symbol == "" {
				asset = "(no symbol)"
			}
			asset += " " + c.Token.Hex()
			if c.Decimals == nil {
				asset += " (raw units: no decimals())"
			}
		}
		fmt.Fprintf(w, "  %s %s %s\n", c.Account.Hex(), amount, asset)
	}
}

// unitsText writes a signed integer (decimal text) with dec decimals.
func unitsText(raw string, dec int) string {
	v, ok := new(big.Int).SetString(raw, 10)
	if !ok {
		return raw
	}
	neg := v.Sign() < 0
	s := new(big.Int).Abs(v).String()
	if len(s) <= dec {
		s = strings.Repeat("0", dec-len(s)+1) + s
	}
	whole, frac := s[:len(s)-dec], strings.TrimRight(s[len(s)-dec:], "0")
	if frac != "" {
		whole += "." + frac
	}
	if neg {
		whole = "-" + whole
	}
	return whole
}
