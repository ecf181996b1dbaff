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
	"github.com/blocktorch/blocktorch/internal/decode"
	"github.com/blocktorch/blocktorch/internal/sourcemap"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/rpc"
)

var traceSpec = spec{
	name: "trace", args: "0xTX", min: 1, max: 1,
	example: "blocktorch trace 0xTX --rpc http://127.0.0.1:8545",
	about: `Replay a transaction (the node's debug_traceTransaction, or locally on state read from the
node) and print its call tree and the source line where it failed, with context. Calls, events
and errors are decoded with the ABIs of a running blocktorch server and its verified sources,
when one is configured (--server, $BLOCKTORCH_SERVER) or answers at ` + defaultServer + `;
--artifacts gives sources from build output instead.`,
}

// multiFlag collects a repeated flag.
type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

func runTrace(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := traceSpec.newFlags()
	rpcURL := fs.String("rpc", envOr("BLOCKTORCH_RPC", "http://127.0.0.1:8545"), "JSON-RPC `URL` of the node (or set BLOCKTORCH_RPC)")
	var arts multiFlag
	fs.Var(&arts, "artifacts", "`PATH`: a Foundry out/ dir, a Hardhat build-info dir or file, or a solc standard-JSON pair (a dir with input.json and output.json, or the two files); repeatable")
	var sf serverFlags
	sf.register(fs, "`URL` of a running blocktorch server whose ABIs and verified contracts decode the trace (default $BLOCKTORCH_SERVER, else "+defaultServer+" when it answers; --server= for none)")
	local := fs.Bool("local", false, "replay locally on state read from the node, even if it has the debug API")
	dataDir := fs.String("data", "", "`DIR` where traces are written (default: a temporary directory)")
	asJSON := fs.Bool("json", false, "print the whole result as JSON")
	pos, err := traceSpec.parse(fs, args, stdout)
	if err != nil {
		return err
	}
	b, err := hexutil.Decode(pos[0])
	if err != nil || len(b) != common.HashLength {
		return traceSpec.errorf("%q is not a transaction hash (0x and 64 hex digits)", pos[0])
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
	srv := traceServer(ctx, fs, &sf)
	var known []knownContract
	if srv != nil {
		if known, err = serverABIs(ctx, srv); err != nil {
			fmt.Fprintf(stderr, "warning: not using the server's ABIs: %v\n", err)
			srv = nil
		} else {
			fmt.Fprintf(stderr, "decoding with the %d ABIs and the verified sources of the server at %s (--server= for none)\n", len(known), srv.server)
		}
	}
	lastProgress := time.Time{}
	opts := debugger.Options{Dir: dir, Registry: newRegistry(known, stderr), Sources: set, Names: set, Progress: func(done, total int) {
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
	if len(arts) == 0 && srv != nil {
		if n := serverSources(ctx, srv, dir, res, set, stderr); n > 0 {
			// The replay added the artifacts' ABIs to the registry it
			// was given; the second one starts from the server's again.
			opts.Registry = newRegistry(known, io.Discard)
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

// traceServer is the server whose ABIs and sources decode a trace: the
// one --server or BLOCKTORCH_SERVER names, else the usual local one when
// it answers; nil for none (--server="").
func traceServer(ctx context.Context, fs *flag.FlagSet, sf *serverFlags) *client {
	explicit := false
	fs.Visit(func(f *flag.Flag) { explicit = explicit || f.Name == "server" })
	switch {
	case explicit && sf.server == "":
		return nil
	case explicit || os.Getenv("BLOCKTORCH_SERVER") != "":
		return sf.client("")
	}
	c := sf.client(defaultServer)
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	resp, err := c.do(ctx, http.MethodGet, "/healthz", "", nil)
	if err != nil {
		return nil
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil
	}
	return c
}

// knownContract is a contract whose ABI the server knows.
type knownContract struct {
	Address common.Address  `json:"address"`
	Name    string          `json:"name"`
	ABI     json.RawMessage `json:"abi"`
}

// serverABIs lists the contracts whose ABIs the server knows.
func serverABIs(ctx context.Context, c *client) ([]knownContract, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	var known []knownContract
	if err := c.get(ctx, "/api/v1/contracts", &known); err != nil {
		return nil, err
	}
	return known, nil
}

// newRegistry is the bundled ABIs plus the server's; an ABI the registry
// cannot use is skipped with a warning to w.
func newRegistry(known []knownContract, w io.Writer) *decode.Registry {
	reg := decode.NewRegistry()
	for _, k := range known {
		if err := reg.Add(k.Address, k.Name, k.ABI); err != nil {
			fmt.Fprintf(w, "warning: the server's ABI of %s (%s) is not usable: %v\n", k.Address, oneLine(k.Name), err)
		}
	}
	return reg
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
func serverSources(ctx context.Context, srv *client, dir string, res *debugger.Result, set *debugger.Artifacts, stderr io.Writer) int {
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
		v, err := fetchVerified(ctx, srv, f.CodeAddress)
		if err != nil {
			fmt.Fprintf(stderr, "no verified source for %s: %v\n", f.CodeAddress, err)
			continue
		}
		if err := set.AddVerifiedCode(*v, t.Code(f.ID)); err != nil {
			continue
		}
		n++
	}
	return n
}

func fetchVerified(ctx context.Context, srv *client, addr common.Address) (*contracts.Result, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	var page contracts.Page
	if err := srv.get(ctx, "/api/v1/contracts/"+addr.Hex(), &page); err != nil {
		return nil, err
	}
	if page.Verification == nil || page.Status == "none" {
		return nil, errors.New("not verified")
	}
	return page.Verification, nil
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
	switch {
	case f.Approximate && f.FromLine > 0 && f.FromLine < f.ToLine:
		approx = fmt.Sprintf("  (approximate: inferred, the origin is somewhere in lines %d-%d)", f.FromLine, f.ToLine)
	case f.Approximate:
		approx = "  (approximate: inferred, the compiler's mapping is not exact here)"
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
