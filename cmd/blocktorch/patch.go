package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/url"
	"os"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/ethclient"
	"github.com/ethereum/go-ethereum/rpc"

	"github.com/blocktorch/blocktorch/internal/debugger"
	"github.com/blocktorch/blocktorch/internal/patch"
	"github.com/blocktorch/blocktorch/internal/response"
)

var patchSpec = spec{
	name: "patch-check",
	about: `Check a new implementation before it is deployed: replay chosen transactions (an incident's
failing and exploit transactions, a file of hashes, a search) and a sample of the contract's latest
successful ones, each on the state before it, as mined and with the new code in place, and show them
side by side: still fails (and where, in the new code), now fails, now succeeds, unchanged, changed.
A storage layout change that would corrupt the proxy's state is refused, naming the slot. When the
check passes and the new implementation is deployed (--deployed), the upgrade call is prepared:
calldata, a cast send line and a Safe Transaction Builder batch (--safe FILE). Nothing is sent.
incident:ID and query:QUERY are read from the server (--server, --key).`,
	example: "blocktorch patch-check --impl out/ --proxy 0xVault --txs incident:3 --sample 20",
	max:     0,
}

func runPatchCheck(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := patchSpec.newFlags()
	rpcURL := fs.String("rpc", envOr("BLOCKTORCH_RPC", "http://127.0.0.1:8545"), "JSON-RPC `URL` of the node (or set BLOCKTORCH_RPC); it must serve state at the replayed blocks")
	var impl, old multiFlag
	fs.Var(&impl, "impl", "`PATH` of the new implementation's build: a Foundry out/ dir, a Hardhat build-info dir or file, or a solc standard-JSON pair; repeatable")
	contract := fs.String("contract", "", "`NAME` of the new implementation when the build holds several contracts")
	proxy := fs.String("proxy", "", "`ADDRESS` of the proxy (ERC-1967: UUPS or transparent) or of a plain contract whose code is replaced")
	txs := fs.String("txs", "", "the chosen transactions: incident:ID, file:PATH (one hash a line), query:QUERY, or hashes separated by commas")
	sample := fs.Int("sample", 20, "also replay up to `N` of the contract's latest successful transactions (0: none)")
	deployed := fs.String("deployed", "", "`ADDRESS` where the new implementation is deployed: its code is verified and the upgrade is prepared to it")
	ctorArgs := fs.String("ctor-args", "", "ABI-encoded constructor arguments (`0x…`, as cast abi-encode writes them) for the simulated deployment of a contract whose constructor takes some")
	fs.Var(&old, "old", "`PATH` of the current implementation's build, for its storage layout (default: looked for among --impl); repeatable")
	maxTxs := fs.Int("max", patch.DefaultMaxTxs, "refuse to replay more than `N` transactions")
	safeOut := fs.String("safe", "", "write the upgrade's Safe Transaction Builder batch to `FILE`")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	var sf serverFlags
	sf.register(fs, "")
	if _, err := patchSpec.parse(fs, args, stdout); err != nil {
		return err
	}
	if len(impl) == 0 {
		return patchSpec.errorf("missing --impl PATH: the new implementation's build output (for example out/ after forge build)")
	}
	if !common.IsHexAddress(*proxy) {
		return patchSpec.errorf("--proxy %q is not an address: give the proxy (or plain contract) to patch", *proxy)
	}
	req := patch.Request{Contract: *contract, Target: common.HexToAddress(*proxy), Sample: *sample}
	if *deployed != "" {
		if !common.IsHexAddress(*deployed) {
			return patchSpec.errorf("--deployed %q is not an address", *deployed)
		}
		a := common.HexToAddress(*deployed)
		req.Deployed = &a
	}
	if *ctorArgs != "" {
		b, err := hexutil.Decode(*ctorArgs)
		if err != nil {
			return patchSpec.errorf("--ctor-args: %v (want 0x and hex, as cast abi-encode writes it)", err)
		}
		req.CtorArgs = b
	}
	if *sample < 0 || *sample > patch.MaxSample {
		return patchSpec.errorf("--sample must be 0 to %d", patch.MaxSample)
	}
	if *txs != "" {
		set, err := patch.ParseSet(*txs)
		if err != nil {
			return patchSpec.errorf("--txs: %v", strings.TrimPrefix(err.Error(), patch.ErrInvalid.Error()+": "))
		}
		if req.Txs, err = resolveSet(ctx, set, sf.client(defaultServer), *maxTxs); err != nil {
			return err
		}
		fmt.Fprintf(stderr, "%d chosen transactions from %s\n", len(req.Txs), set)
	} else if *sample == 0 {
		return patchSpec.errorf("nothing to replay: give --txs (incident:ID, file:PATH, query:QUERY or hashes) or a --sample")
	}
	var err error
	if req.Artifacts, err = loadArtifacts(impl); err != nil {
		return fmt.Errorf("cannot load --impl: %w", err)
	}
	if len(old) > 0 {
		if req.Old, err = loadArtifacts(old); err != nil {
			return fmt.Errorf("cannot load --old: %w", err)
		}
	}
	rc, err := rpc.DialContext(ctx, *rpcURL)
	if err != nil {
		return fmt.Errorf("cannot connect to %s: %w (set --rpc or BLOCKTORCH_RPC)", *rpcURL, err)
	}
	defer rc.Close()
	dir, err := os.MkdirTemp("", "blocktorch-patch-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	ck := &patch.Checker{
		Node: ethclient.NewClient(rc), Replayer: &debugger.Local{RPC: rc},
		Options: debugger.Options{Dir: dir}, MaxTxs: *maxTxs, Prepare: prepareCall,
	}
	req.Progress = progressPrinter(stderr)
	rep, err := ck.Check(ctx, req)
	if err != nil {
		return err
	}
	if *safeOut != "" && rep.Upgrade != nil {
		if err := os.WriteFile(*safeOut, rep.Upgrade.Safe, 0o644); err != nil {
			return fmt.Errorf("cannot write the Safe batch: %w", err)
		}
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return err
		}
	} else {
		printPatchReport(stdout, rep, *safeOut)
	}
	if !rep.Passed {
		return errors.New("the patch check did not pass: " + rep.Verdict)
	}
	return nil
}

// prepareCall prepares the upgrade as internal/response prepares actions.
func prepareCall(chainID *big.Int, to common.Address, m abi.Method, args []string, name string, at time.Time) (*patch.Prepared, error) {
	f, err := response.PrepareCall(chainID, to, m, args, name, at)
	if err != nil {
		return nil, err
	}
	return &patch.Prepared{To: f.To, Function: f.Function, Args: f.Args, Calldata: f.Calldata, Cast: f.Cast, Safe: f.SafeBatch}, nil
}

// resolveSet reads the chosen transactions: a file or hashes here, an
// incident or a search from the server.
func resolveSet(ctx context.Context, set patch.Set, srv *client, max int) ([]common.Hash, error) {
	switch set.Kind {
	case patch.SetFile:
		f, err := os.Open(set.Value)
		if err != nil {
			return nil, fmt.Errorf("cannot read --txs file: %w", err)
		}
		defer f.Close()
		hs, err := patch.ParseHashes(f, max)
		if err != nil {
			return nil, fmt.Errorf("--txs %s: %w", set, err)
		}
		return hs, nil
	case patch.SetHashes:
		return patch.ParseHashes(strings.NewReader(strings.ReplaceAll(set.Value, ",", "\n")), max)
	}
	var out struct {
		Txs []common.Hash `json:"txs"`
	}
	if err := srv.get(ctx, "/api/v1/patch-check/txs?set="+url.QueryEscape(set.String()), &out); err != nil {
		return nil, fmt.Errorf("cannot read %s from the server %s: %w", set, srv.server, err)
	}
	return out.Txs, nil
}

// progressPrinter prints each phase, and the replay's count at most
// every half second.
func progressPrinter(w io.Writer) func(patch.Progress) {
	var (
		mu    sync.Mutex
		phase string
		last  time.Time
	)
	return func(p patch.Progress) {
		mu.Lock()
		defer mu.Unlock()
		if p.Phase != phase {
			phase = p.Phase
			if p.Total == 0 {
				fmt.Fprintf(w, "%s…\n", p.Phase)
				return
			}
		}
		if p.Total > 0 && (time.Since(last) > 500*time.Millisecond || p.Done == p.Total) {
			last = time.Now()
			fmt.Fprintf(w, "%s %d/%d\n", p.Phase, p.Done, p.Total)
		}
	}
}

func printPatchReport(w io.Writer, r *patch.Report, safeOut string) {
	fmt.Fprintf(w, "patch check of %s for %s (%s", r.Contract, r.Target.Hex(), r.Kind)
	if r.Kind != "plain" {
		fmt.Fprintf(w, " proxy, implementation now %s", r.Current.Hex())
	}
	fmt.Fprintln(w, ")")
	if r.Deployed {
		fmt.Fprintf(w, "new implementation: deployed at %s, code verified\n", r.Implementation.Hex())
	} else {
		fmt.Fprintf(w, "new implementation: simulated deployment at %s (nothing sent)\n", r.Implementation.Hex())
	}
	if r.Layout.Checked {
		fmt.Fprintf(w, "storage layout: the %d variables keep their slots and types (old layout from %s)\n", r.Layout.Vars, r.Layout.From)
	} else {
		fmt.Fprintf(w, "storage layout: %s\n", r.Layout.From)
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TX\tBLOCK\tROLE\tMINED\tPATCHED\tVERDICT")
	for _, t := range r.Txs {
		patched := runText(t.Patched.Status, t.PatchedReason)
		if t.Where != "" {
			patched += " at " + t.Where
		}
		mined := runText(t.Mined.Status, t.MinedReason)
		if t.Verdict == patch.Errored {
			mined, patched = "-", t.Err
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\n", t.Tx.Hex(), t.Block, t.Role, mined, patched, t.Verdict)
		for _, c := range t.Changes {
			fmt.Fprintf(tw, "\t\t\t\t  %s\t\n", c)
		}
	}
	tw.Flush()
	fmt.Fprintf(w, "\n%s (took %s)\n", r.Verdict, r.Took)
	if u := r.Upgrade; u != nil {
		fmt.Fprintf(w, "\nupgrade (%s):", u.Kind)
		switch {
		case u.Sender != nil && u.Role != "":
			fmt.Fprintf(w, " send from %s (%s)", u.Sender.Hex(), u.Role)
		case u.Sender != nil:
			fmt.Fprintf(w, " send from %s", u.Sender.Hex())
		case u.Role != "":
			fmt.Fprintf(w, " send from a holder of %s:", u.Role)
			for _, h := range u.Holders {
				fmt.Fprintf(w, " %s", h.Hex())
			}
		}
		fmt.Fprintf(w, "\n  to:       %s\n  function: %s %s\n  calldata: %s\n  cast:     %s\n", u.To.Hex(), u.Function, strings.Join(u.Args, " "), u.Calldata, u.Cast)
		if safeOut != "" {
			fmt.Fprintf(w, "  Safe Transaction Builder batch written to %s\n", safeOut)
		} else {
			fmt.Fprintln(w, "  Safe Transaction Builder batch: --safe FILE writes it (or see --json)")
		}
	} else if r.UpgradeNote != "" {
		fmt.Fprintf(w, "\n%s\n", r.UpgradeNote)
	}
}

// runText is one run's outcome in the table.
func runText(status uint64, reason string) string {
	if status == 1 {
		return "ok"
	}
	return "fails: " + reason
}
