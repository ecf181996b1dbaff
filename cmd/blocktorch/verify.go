package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/ethclient"

	"github.com/blocktorch/blocktorch/internal/contracts"
)

const verifyUsage = "usage: blocktorch verify --rpc URL [--server URL] [--contract NAME] [--lib NAME=ADDRESS]… ADDRESS PATH…"

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
	fs := flag.NewFlagSet("blocktorch verify", flag.ContinueOnError)
	fs.SetOutput(stderr)
	rpcURL := fs.String("rpc", envOr("BLOCKTORCH_RPC", ""), "JSON-RPC URL of the node holding the contract")
	server := fs.String("server", "", "also register the verified contract with the blocktorch server at this URL")
	contract := fs.String("contract", "", "only compare this contract (Name or path:Name)")
	libs := libFlags{}
	fs.Var(libs, "lib", "library address, NAME=0xADDRESS (repeatable; default: read from the chain code)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() < 2 || *rpcURL == "" || !common.IsHexAddress(fs.Arg(0)) {
		return usageError{verifyUsage}
	}
	addr := common.HexToAddress(fs.Arg(0))
	arts, err := loadArtifacts(fs.Args()[1:])
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	ec, err := ethclient.DialContext(ctx, *rpcURL)
	if err != nil {
		return fmt.Errorf("cannot connect to %s: %w", *rpcURL, err)
	}
	defer ec.Close()
	res, err := contracts.Verify(ctx, ec, addr, arts, contracts.Options{Contract: *contract, Libraries: libs})
	if err != nil {
		return err
	}
	printVerification(stdout, res)
	if res.Status == contracts.StatusNone {
		return fmt.Errorf("%s is not verified", addr)
	}
	if *server == "" {
		return nil
	}
	body, err := json.Marshal(contracts.VerifyRequest{Artifacts: []contracts.Artifact{*res.Artifact}, Contract: res.Artifact.FullName(), Libraries: libs})
	if err != nil {
		return fmt.Errorf("cannot encode the verification request: %w", err)
	}
	var verified contracts.Result
	if err := apiPost(ctx, *server, "/api/v1/contracts/"+addr.Hex()+"/verify", "application/json", body, &verified); err != nil {
		return fmt.Errorf("the server refused the verification: %w", err)
	}
	if verified.Status == contracts.StatusNone {
		return fmt.Errorf("the server's node does not hold this code at %s (a different chain?)", addr)
	}
	fmt.Fprintf(stdout, "registered with %s: %s match\n", *server, verified.Status)
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
