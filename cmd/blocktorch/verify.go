package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/ethclient"

	"github.com/blocktorch/blocktorch/internal/contracts"
)

var verifySpec = spec{
	name: "verify", args: "ADDRESS PATH…", min: 2, max: -1,
	example: "blocktorch verify --rpc http://127.0.0.1:8545 0xContract out/",
	about: `Check build artifacts against the code deployed at ADDRESS: full match, partial match (only the
metadata hash differs) or no match with the first differing byte and the likely cause. PATH is a
Foundry out/ dir, a Hardhat build-info dir or file, or a solc input.json and output.json pair.
With --server, the verified contract is registered with that server too.`,
}

// libFlags collects repeated --lib NAME=ADDRESS flags.
type libFlags map[string]common.Address

func (l libFlags) String() string { return fmt.Sprint(map[string]common.Address(l)) }

func (l libFlags) Set(s string) error {
	name, addr, ok := strings.Cut(s, "=")
	if !ok || name == "" || !common.IsHexAddress(addr) {
		return fmt.Errorf("want NAME=0xADDRESS, got %q", s)
	}
	l[name] = common.HexToAddress(addr)
	return nil
}

func runVerify(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := verifySpec.newFlags()
	rpcURL := fs.String("rpc", "", "JSON-RPC URL of the node holding the contract (default $BLOCKTORCH_RPC)")
	var sf serverFlags
	sf.register(fs, "also register the verified contract with the blocktorch server at this `URL`")
	contract := fs.String("contract", "", "only compare this contract (Name or path:Name)")
	libs := libFlags{}
	fs.Var(libs, "lib", "library address, NAME=0xADDRESS (repeatable; default: read from the chain code)")
	pos, err := verifySpec.parse(fs, args, stdout)
	if err != nil {
		return err
	}
	if *rpcURL == "" {
		*rpcURL = os.Getenv("BLOCKTORCH_RPC")
	}
	if *rpcURL == "" {
		return verifySpec.errorf("missing --rpc URL: the node that holds the contract (or set BLOCKTORCH_RPC)")
	}
	if !common.IsHexAddress(pos[0]) {
		return verifySpec.errorf("%q is not an address (0x and 40 hex digits)", pos[0])
	}
	addr := common.HexToAddress(pos[0])
	arts, err := loadArtifacts(pos[1:])
	if err != nil {
		return err
	}
	vctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	ec, err := ethclient.DialContext(vctx, *rpcURL)
	if err != nil {
		return fmt.Errorf("cannot connect to %s: %w", *rpcURL, err)
	}
	defer ec.Close()
	res, err := contracts.Verify(vctx, ec, addr, arts, contracts.Options{Contract: *contract, Libraries: libs})
	if err != nil {
		return err
	}
	printVerification(stdout, res)
	if res.Status == contracts.StatusNone {
		return fmt.Errorf("%s is not verified", addr)
	}
	if sf.server == "" {
		return nil
	}
	c := sf.client("")
	body, err := json.Marshal(contracts.VerifyRequest{Artifacts: []contracts.Artifact{*res.Artifact}, Contract: res.Artifact.FullName(), Libraries: libs})
	if err != nil {
		return fmt.Errorf("cannot encode the verification request: %w", err)
	}
	// The server verifies again against its own node: its own budget.
	pctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	var verified contracts.Result
	if err := c.post(pctx, "/api/v1/contracts/"+addr.Hex()+"/verify", "application/json", body, &verified); err != nil {
		return fmt.Errorf("cannot register the verification with the server: %w", err)
	}
	if verified.Status == contracts.StatusNone {
		return fmt.Errorf("the server's node does not hold this code at %s (a different chain?)", addr)
	}
	fmt.Fprintf(stdout, "registered with %s: %s match\n", c.server, verified.Status)
	return nil
}

// loadArtifacts reads each path; two files that are a solc standard-JSON
// input and output are read as a pair.
func loadArtifacts(paths []string) ([]contracts.Artifact, error) {
	if len(paths) == 2 && isFile(paths[0]) && isFile(paths[1]) {
		if arts, err := contracts.LoadStandardJSON(paths[0], paths[1]); err == nil {
			return arts, nil
		}
	}
	var all []contracts.Artifact
	for _, p := range paths {
		arts, err := contracts.LoadDir(p)
		if err != nil {
			return nil, err
		}
		all = append(all, arts...)
	}
	return all, nil
}

func isFile(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && !fi.IsDir()
}

func printVerification(w io.Writer, r contracts.Result) {
	switch r.Status {
	case contracts.StatusFull, contracts.StatusPartial:
		fmt.Fprintf(w, "%s: %s match with %s\n  compiled with %s\n", r.Address, r.Status, r.Artifact.FullName(), r.Settings)
		for name, a := range r.Libraries {
			fmt.Fprintf(w, "  library %s at %s\n", name, a)
		}
		if r.Mismatch != nil {
			fmt.Fprintf(w, "  %s\n", r.Mismatch)
		}
	default:
		fmt.Fprintf(w, "%s: no match\n  %s\n", r.Address, r.Mismatch)
		if r.Mismatch != nil && r.Mismatch.Contract != "" {
			fmt.Fprintf(w, "  artifact compiled with %s\n", r.Mismatch.Settings)
		}
	}
}
