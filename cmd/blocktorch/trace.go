package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/blocktorch/blocktorch/internal/contracts"
	"github.com/blocktorch/blocktorch/internal/debugger"
	"github.com/blocktorch/blocktorch/internal/sourcemap"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/rpc"
)

const traceUsage = "usage: blocktorch trace 0xTX --rpc URL [--artifacts PATH]… [--server URL] [--local] [--data DIR] [--json]"

// multiFlag collects a repeated flag.
type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

func runTrace(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("blocktorch trace", flag.ContinueOnError)
	fs.SetOutput(stderr)
	rpcURL := fs.String("rpc", envOr("BLOCKTORCH_RPC", "http://127.0.0.1:8545"), "JSON-RPC URL of the node")
	var arts multiFlag
	fs.Var(&arts, "artifacts", "a Foundry out/ dir, a Hardhat build-info dir or file, or a solc standard-JSON pair (a dir with input.json and output.json, or the two files); repeatable")
	server := fs.String("server", "", "URL of a running blocktorch server whose verified contracts give the sources (used without --artifacts)")
	local := fs.Bool("local", false, "replay locally on state read from the node, even if it has the debug API")
	dataDir := fs.String("data", "", "where traces are written (default: a temporary directory)")
	asJSON := fs.Bool("json", false, "print the whole result as JSON")
	if err := fs.Parse(reorderArgs(args)); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usageError{traceUsage}
	}
	b, err := hexutil.Decode(fs.Arg(0))
	if err != nil || len(b) != common.HashLength {
		return usageError{fmt.Sprintf("%q is not a transaction hash; %s", fs.Arg(0), traceUsage)}
	}
	tx := common.BytesToHash(b)
	set := debugger.NewArtifacts()
	if err := loadDebugArtifacts(set, arts); err != nil {
		return err
	}
	dir := *dataDir
	if dir == "" {
		if dir, err = os.MkdirTemp("", "blocktorch-trace-"); err != nil {
			return err
		}
		defer os.RemoveAll(dir)
	}
	rc, err := rpc.DialContext(ctx, *rpcURL)
	if err != nil {
		return fmt.Errorf("cannot connect to %s: %w", *rpcURL, err)
	}
	defer rc.Close()
	lastProgress := time.Time{}
	opts := debugger.Options{Dir: dir, Sources: set, Names: set, Progress: func(done, total int) {
		if total > 0 && (done == total || time.Since(lastProgress) > 500*time.Millisecond) {
			lastProgress = time.Now()
			fmt.Fprintf(stderr, "replaying the block: %d of %d earlier transactions applied\n", done, total)
		}
	}}
	replay := func(opts debugger.Options) (*debugger.Result, error) {
		if !*local {
			res, err := (&debugger.Node{RPC: rc, URL: *rpcURL}).Replay(ctx, tx, opts)
			if err == nil || !noDebugAPI(err) {
				return res, err
			}
			fmt.Fprintln(stderr, "the node has no debug API; replaying locally on state read from it")
		}
		return (&debugger.Local{RPC: rc}).Replay(ctx, tx, opts)
	}
	start := time.Now()
	res, err := replay(opts)
	if err != nil && res == nil {
		return err
	}
	if err != nil {
		fmt.Fprintf(stderr, "warning: %v\n", err)
	}
	if len(arts) == 0 && *server != "" {
		if n := serverSources(ctx, *server, dir, res, set, stderr); n > 0 {
			if res, err = replay(opts); err != nil && res == nil {
				return err
			}
		}
	}
	fmt.Fprintf(stderr, "traced %d steps in %s (%s replay)\n", res.Steps, time.Since(start).Round(time.Millisecond), res.Mode)
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(res)
	}
	printResult(stdout, res, set)
	return nil
}

// reorderArgs moves flags after the positional hash in front of it, so
// "trace 0xTX --rpc URL" parses.
func reorderArgs(args []string) []string {
	var flags, pos []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if strings.HasPrefix(a, "-") {
			flags = append(flags, a)
			if !strings.Contains(a, "=") && i+1 < len(args) && !isBoolFlag(a) {
				flags = append(flags, args[i+1])
				i++
			}
			continue
		}
		pos = append(pos, a)
	}
	return append(flags, pos...)
}

func isBoolFlag(a string) bool {
	a = strings.TrimLeft(a, "-")
	return a == "local" || a == "json" || a == "h" || a == "help"
}

// noDebugAPI reports whether err says the node does not serve the debug API.
func noDebugAPI(err error) bool {
	var re rpc.Error
	if errors.As(err, &re) && re.ErrorCode() == -32601 {
		return true
	}
	msg := strings.ToLower(err.Error())
	return strings.Contains(msg, "does not exist") || strings.Contains(msg, "not available") || strings.Contains(msg, "method not found")
}

// loadDebugArtifacts adds every --artifacts path to set, read as verify
// reads them.
func loadDebugArtifacts(set *debugger.Artifacts, paths []string) error {
	if len(paths) == 0 {
		return nil
	}
	arts, err := loadArtifacts(paths)
	if err != nil {
		return err
	}
	return set.AddVerified(arts)
}

// serverSources asks a running server for the verified sources of every
// contract the transaction ran, and adds them; it returns how many.
func serverSources(ctx context.Context, server, dir string, res *debugger.Result, set *debugger.Artifacts, stderr io.Writer) int {
	t, err := debugger.OpenTrace(dir, res.TxHash, nil)
	if err != nil {
		return 0
	}
	defer t.Close()
	seen := make(map[common.Address]bool)
	n := 0
	for _, f := range t.Frames() {
		if seen[f.CodeAddress] || f.FirstStep < 0 || f.Type == "CREATE" || f.Type == "CREATE2" {
			continue
		}
		seen[f.CodeAddress] = true
		v, err := fetchVerified(ctx, server, f.CodeAddress)
		if err != nil {
			fmt.Fprintf(stderr, "no verified source for %s: %v\n", f.CodeAddress, err)
			continue
		}
		code := t.Code(f.ID)
		srcs := make([]sourcemap.Source, 0, len(v.SourceIDs))
		for name, id := range v.SourceIDs {
			srcs = append(srcs, sourcemap.Source{ID: id, Name: name, Content: v.Sources[name]})
		}
		m, err := sourcemap.New(code, v.DeployedSourceMap, srcs)
		if err != nil {
			continue
		}
		set.Add(debugger.CompiledContract{
			Name: v.ContractName, SourceName: v.SourceName, ABI: v.ABI, Runtime: code, RuntimeMap: m,
			StorageLayout: v.StorageLayout, Approximate: v.Settings.Optimizer || v.Settings.ViaIR, Sources: v.Sources,
		})
		n++
	}
	return n
}

func fetchVerified(ctx context.Context, server string, addr common.Address) (*contracts.Result, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(server, "/")+"/api/v1/contracts/"+addr.Hex(), nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var env struct {
		Status string         `json:"status"`
		Error  string         `json:"error"`
		Data   contracts.Page `json:"data"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 64<<20)).Decode(&env); err != nil {
		return nil, err
	}
	if env.Status != "success" {
		return nil, errors.New(env.Error)
	}
	if env.Data.Verification == nil || env.Data.Status == "none" {
		return nil, errors.New("not verified")
	}
	return env.Data.Verification, nil
}

// printResult prints the call tree and the failing line with context.
func printResult(w io.Writer, res *debugger.Result, set *debugger.Artifacts) {
	status := "succeeded"
	if res.Status == 0 {
		status = "FAILED"
	}
	fmt.Fprintf(w, "tx %s  block %d  index %d  %s  gas used %d\n\n", res.TxHash, res.BlockNumber, res.TxIndex, status, res.GasUsed)
	var walk func(f *debugger.Frame, indent string)
	walk = func(f *debugger.Frame, indent string) {
		fmt.Fprintf(w, "%s%s %s  gas %d/%d", indent, f.Type, describeCall(f), f.GasUsed, f.Gas)
		if f.Value != nil && f.Value.ToInt().Sign() > 0 {
			fmt.Fprintf(w, "  value %s", f.Value.ToInt())
		}
		switch {
		case f.Failed && f.Revert != nil:
			fmt.Fprintf(w, "  ✗ %s", f.Revert.Message)
		case f.Failed:
			fmt.Fprintf(w, "  ✗ %s", f.Error)
		}
		fmt.Fprintln(w)
		for _, c := range f.Calls {
			walk(c, indent+"  ")
		}
	}
	walk(res.Root, "  ")
	f := res.Failure
	if f == nil {
		return
	}
	fmt.Fprintln(w)
	if f.File == "" {
		fmt.Fprintf(w, "failure in %s (frame %d, step %d): %s\n  no source known for this code; give --artifacts or --server\n", f.Address, f.FrameID, f.Step, f.Reason)
		return
	}
	approx := ""
	if f.Approximate {
		approx = "  (approximate: the compiler's mapping is not exact here)"
	}
	fmt.Fprintf(w, "failure at %s:%d:%d: %s%s\n", f.File, f.Line, f.Column, f.Reason, approx)
	if content, ok := set.Content(f.File); ok {
		for _, l := range sourcemap.Excerpt(content, f.Line, f.Line, 3) {
			mark := "  "
			if l.Highlight {
				mark = "> "
			}
			fmt.Fprintf(w, "%s%5d | %s\n", mark, l.Number, l.Text)
		}
	}
	if len(f.Caught) > 0 {
		fmt.Fprintf(w, "(%d earlier failure(s) were caught and are not the cause)\n", len(f.Caught))
	}
}

func describeCall(f *debugger.Frame) string {
	who := f.Contract
	if who == "" {
		who = f.CodeAddress.Hex()
	}
	if f.Address != f.CodeAddress {
		who = fmt.Sprintf("%s (as %s)", who, f.Address.Hex())
	}
	if f.Call == nil {
		if len(f.Input) >= 4 && f.Type != "CREATE" && f.Type != "CREATE2" {
			// hexutil.Encode, not %#x: Input is a Stringer, and %x would hex its text.
			return who + "." + hexutil.Encode(f.Input[:4])
		}
		return who
	}
	args := make([]string, len(f.Call.Args))
	for i, a := range f.Call.Args {
		args[i] = a.Name + "=" + a.Value
	}
	return fmt.Sprintf("%s.%s(%s)", who, f.Call.Method, strings.Join(args, ", "))
}
