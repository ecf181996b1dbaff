package patch

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"strings"
	"time"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/blocktorch/blocktorch/internal/contracts"
	"github.com/blocktorch/blocktorch/internal/debugger"
	"github.com/blocktorch/blocktorch/internal/decode"
	"github.com/blocktorch/blocktorch/internal/sourcemap"
	"github.com/blocktorch/blocktorch/internal/store"
)

// Node is what the check reads from the chain. *ethclient.Client
// satisfies it. It must be safe for concurrent use.
type Node interface {
	contracts.Node
	ChainID(ctx context.Context) (*big.Int, error)
	BlockNumber(ctx context.Context) (uint64, error)
	FilterLogs(ctx context.Context, q ethereum.FilterQuery) ([]types.Log, error)
}

// Replayer runs the replays and the simulated deployment.
// *debugger.Local satisfies it.
type Replayer interface {
	ReplayOverridden(ctx context.Context, set debugger.ReplaySet, opts debugger.Options) ([]debugger.Outcome, error)
	Deploy(ctx context.Context, from common.Address, initCode []byte) (*debugger.Deployed, error)
}

// Checker runs patch checks. Its methods are safe for concurrent use.
type Checker struct {
	Node     Node
	Replayer Replayer
	// Options are the replays' options (trace store, decoder, sources);
	// the new implementation's sources are added to Sources for the
	// check's own traces.
	Options debugger.Options
	// MaxTxs caps the transactions one check replays (DefaultMaxTxs when
	// zero).
	MaxTxs int
	// SampleBlocks is how many blocks back the sample of successful
	// transactions is looked for (DefaultSampleBlocks when zero).
	SampleBlocks uint64
	// Prepare prepares the upgrade call in the response actions' forms
	// (response.PrepareCall); nil prepares none.
	Prepare PrepareFunc
	// Verified, when set, gives the storage layout of a contract verified
	// earlier (the server's registry), for the current implementation
	// when the request's artifacts do not hold it.
	Verified func(addr common.Address) (layout json.RawMessage, name string, ok bool)
	// Role, when set, says which role a call of to with data needs and who
	// holds it (the response actions' probe), for an upgrade that no
	// owner() or admin names a sender of: an AccessControl UUPS proxy.
	Role func(ctx context.Context, to common.Address, data []byte) (role string, holders []common.Address, err error)
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

// PrepareFunc prepares a call of m on to in the forms an emergency
// action is prepared in.
type PrepareFunc func(chainID *big.Int, to common.Address, m abi.Method, args []string, name string, createdAt time.Time) (*Prepared, error)

// Prepared is the upgrade call in its forms.
type Prepared struct {
	To       common.Address  `json:"to"`
	Function string          `json:"function"`
	Args     []string        `json:"args"`
	Calldata hexutil.Bytes   `json:"calldata"`
	Cast     string          `json:"cast"`
	Safe     json.RawMessage `json:"safeBatch"`
}

// Defaults of a Checker.
const (
	DefaultMaxTxs       = 2000
	DefaultSampleBlocks = 50_000
	// MaxSample bounds Request.Sample.
	MaxSample = 1000
)

// Errors of a check. Each is one of the store's kinds, which the web
// layer maps to its answer.
var (
	// ErrInvalid is a request that cannot be checked as given.
	ErrInvalid = store.Sentinel("invalid patch check", store.ErrInvalid)
	// ErrNoCode is an artifact that does not give runnable code.
	ErrNoCode = store.Sentinel("no runnable code", store.ErrInvalid)
	// ErrLayoutChange is a storage layout change that would corrupt the
	// proxy's state; the error names the slot.
	ErrLayoutChange = store.Sentinel("storage layout changed", store.ErrConflict)
	// ErrTooMany is a transaction set over the cap.
	ErrTooMany = store.Sentinel("too many transactions", store.ErrInvalid)
)

// Request is one patch check.
type Request struct {
	// Artifacts are the build holding the new implementation (as
	// contracts.LoadDir reads it); Contract names it when the build holds
	// more than one contract of its own.
	Artifacts []contracts.Artifact
	Contract  string
	// Target is the proxy, or a plain contract whose code is replaced.
	Target common.Address
	// Txs are the transactions chosen to replay (an incident's failing
	// and exploit transactions, a file, a search).
	Txs []common.Hash
	// Sample adds up to this many of the target's latest successful
	// transactions (those in which it emitted an event).
	Sample int
	// Deployed is where the new implementation is deployed already, when
	// it is: its code must verify against the artifact, and the upgrade is
	// prepared to it. Nil: the init code is run on the head state.
	Deployed *common.Address
	// CtorArgs are the ABI-encoded constructor arguments appended to the
	// init code of a simulated deployment (a plain contract's immutables).
	CtorArgs []byte
	// Old are more artifacts among which the current implementation is
	// looked for (its code verified), for its storage layout; the Artifacts
	// are searched too. OldLayout, when set, is that layout itself.
	Old       []contracts.Artifact
	OldLayout json.RawMessage
	// Progress, when set, is told of the check's progress.
	Progress func(Progress)
}

// Progress is how far a check got.
type Progress struct {
	Phase string `json:"phase"`
	Done  int    `json:"done"`
	Total int    `json:"total"`
}

// Verdicts of a replayed transaction.
const (
	StillFails  = "still-fails"  // failed as mined, fails with the patch
	NowFails    = "now-fails"    // succeeded as mined, fails with the patch
	NowSucceeds = "now-succeeds" // failed as mined, succeeds with the patch
	Unchanged   = "unchanged"    // succeeded both ways with the same effects
	Changed     = "changed"      // succeeded both ways, effects differ
	Errored     = "error"        // could not be replayed
)

// Roles of a replayed transaction.
const (
	RoleChosen = "chosen" // in the request's set
	RoleSample = "sample" // the target's recent successful traffic
)

// Report is a patch check's outcome.
type Report struct {
	Target common.Address `json:"target"`
	// Kind is "uups" or "transparent" for an ERC-1967 proxy, "plain" for a
	// contract whose code is replaced.
	Kind  string          `json:"kind"`
	Admin *common.Address `json:"admin,omitempty"`
	// Current is the implementation in use (a proxy's) or the target.
	Current common.Address `json:"current"`
	// Contract is the new implementation's name ("src/VaultV2.sol:VaultV2").
	Contract string `json:"contract"`
	// Implementation is the new implementation's address: where it is
	// deployed (Deployed), or where the simulated deployment put it.
	Implementation common.Address `json:"implementation"`
	Deployed       bool           `json:"deployed"`
	CodeHash       common.Hash    `json:"codeHash"`
	Layout         LayoutReport   `json:"layout"`
	Txs            []TxReport     `json:"txs"`
	Summary        Summary        `json:"summary"`
	// Passed is set when no sample transaction changed and every chosen
	// one replayed: the new code keeps the users' normal transactions.
	Passed  bool   `json:"passed"`
	Verdict string `json:"verdict"`
	// Upgrade is the prepared upgrade, when the check passed on a proxy
	// and the new implementation is deployed; UpgradeNote says otherwise
	// why there is none.
	Upgrade     *Upgrade `json:"upgrade,omitempty"`
	UpgradeNote string   `json:"upgradeNote,omitempty"`
	Head        uint64   `json:"head"`
	Took        string   `json:"took"`
}

// LayoutReport is the storage layout check's outcome.
type LayoutReport struct {
	Checked bool `json:"checked"`
	// From says where the old layout came from, or why there was none.
	From string `json:"from"`
	Vars int    `json:"vars"`
}

// TxReport is one transaction's two runs side by side.
type TxReport struct {
	debugger.Outcome
	Role    string `json:"role"`
	Verdict string `json:"verdict"`
	// Where is the failing line in the new code ("src/V2.sol:57"), when
	// the patched run failed and its code has sources.
	Where string `json:"where,omitempty"`
	// MinedReason and PatchedReason are the failed runs' revert reasons.
	MinedReason   string `json:"minedReason,omitempty"`
	PatchedReason string `json:"patchedReason,omitempty"`
	// Changes are the differences between the runs' effects, in words.
	Changes []string `json:"changes,omitempty"`
}

// Summary counts the verdicts.
type Summary struct {
	Chosen      int `json:"chosen"`
	Sample      int `json:"sample"`
	StillFails  int `json:"stillFails"`
	NowFails    int `json:"nowFails"`
	NowSucceeds int `json:"nowSucceeds"`
	Unchanged   int `json:"unchanged"`
	Changed     int `json:"changed"`
	Errors      int `json:"errors"`
	// Deployments counts the sampled contract creations left out of the
	// report: the new code cannot be in place before they run.
	Deployments int `json:"deployments"`
	// SampleChanged counts sample transactions whose outcome or effects
	// differ: each is a normal transaction the patch breaks or alters.
	SampleChanged int `json:"sampleChanged"`
}

// Upgrade is the prepared upgrade call.
type Upgrade struct {
	// Kind is "uups" (the proxy's upgradeToAndCall) or "transparent"
	// (ProxyAdmin.upgradeAndCall).
	Kind string `json:"kind"`
	// Sender is who may send it: the proxy's admin account, the
	// ProxyAdmin's or proxy's owner(), or the one holder of the role the
	// call needs.
	Sender *common.Address `json:"sender,omitempty"`
	// Role is the AccessControl role the call needs when no owner or
	// admin names a sender, and Holders who hold it at the head block.
	Role    string           `json:"role,omitempty"`
	Holders []common.Address `json:"holders,omitempty"`
	Prepared
}

// deployer sends the simulated deployment; its nonce on chain decides
// the simulated address.
var deployer = common.HexToAddress("0x00000000000000000000000000000000b10c7000")

func (c *Checker) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

func (c *Checker) maxTxs() int {
	if c.MaxTxs > 0 {
		return c.MaxTxs
	}
	return DefaultMaxTxs
}

// Check runs a patch check. Bad requests, an artifact without runnable
// code, a layout change and a set over the cap are errors before any
// replay; a transaction that cannot be replayed is a TxReport with
// Verdict "error".
func (c *Checker) Check(ctx context.Context, req Request) (*Report, error) {
	start := c.now()
	progress := func(phase string, done, total int) {
		if req.Progress != nil {
			req.Progress(Progress{Phase: phase, Done: done, Total: total})
		}
	}
	if req.Target == (common.Address{}) {
		return nil, fmt.Errorf("%w: give the proxy or contract to patch", ErrInvalid)
	}
	if req.Sample < 0 || req.Sample > MaxSample {
		return nil, fmt.Errorf("%w: the sample is 0 to %d transactions", ErrInvalid, MaxSample)
	}
	if n := len(req.Txs) + req.Sample; n > c.maxTxs() {
		return nil, fmt.Errorf("%w: %d transactions (%d chosen + a sample of %d) is more than the cap of %d a check replays: narrow the set or the sample",
			ErrTooMany, n, len(req.Txs), req.Sample, c.maxTxs())
	}
	progress("reading the target", 0, 0)
	head, err := c.Node.BlockNumber(ctx)
	if err != nil {
		return nil, fmt.Errorf("cannot read the head block: %w", err)
	}
	rep := &Report{Target: req.Target, Head: head, Txs: []TxReport{}}
	code, err := c.Node.CodeAt(ctx, req.Target, nil)
	if err != nil {
		return nil, fmt.Errorf("cannot read the code at %s: %w", req.Target, err)
	}
	if len(code) == 0 {
		return nil, fmt.Errorf("%w: %s has no code: give the proxy's or contract's address", ErrInvalid, req.Target)
	}
	caps, err := contracts.Detect(ctx, c.Node, req.Target, nil)
	if err != nil {
		return nil, err
	}
	rep.Kind, rep.Current = "plain", req.Target
	if p := caps.Proxy; p != nil {
		switch p.Kind {
		case contracts.ProxyEIP1967, contracts.ProxyEIP1822:
		default:
			return nil, fmt.Errorf("%w: %s is a %s proxy: patch checks handle ERC-1967 proxies (UUPS, transparent) and plain contracts", ErrInvalid, req.Target, p.Kind)
		}
		rep.Kind, rep.Current, rep.Admin = "uups", p.Implementation, p.Admin
		if p.Admin != nil {
			rep.Kind = "transparent"
		}
	}

	// The new implementation and the old one's layout.
	impl, err := pick(req.Artifacts, req.Contract)
	if err != nil {
		return nil, err
	}
	rep.Contract = impl.FullName()
	initCode, err := runnable(impl)
	if err != nil {
		return nil, err
	}
	if err := c.checkLayout(ctx, req, impl, rep); err != nil {
		return nil, err
	}

	// Its runtime code, where the upgrade will put it.
	progress("deploying the new implementation", 0, 0)
	var runtimeCode []byte
	if req.Deployed != nil {
		res, err := contracts.Verify(ctx, c.Node, *req.Deployed, []contracts.Artifact{impl}, contracts.Options{})
		if err != nil {
			return nil, fmt.Errorf("cannot verify the code at %s: %w", *req.Deployed, err)
		}
		if res.Status == contracts.StatusNone {
			why := "it differs"
			if res.Mismatch != nil {
				why = res.Mismatch.String()
			}
			return nil, fmt.Errorf("%w: the code at %s is not %s (%s): give the address the artifact was deployed to", ErrInvalid, *req.Deployed, impl.Name, why)
		}
		if runtimeCode, err = c.Node.CodeAt(ctx, *req.Deployed, nil); err != nil {
			return nil, fmt.Errorf("cannot read the code at %s: %w", *req.Deployed, err)
		}
		rep.Implementation, rep.Deployed = *req.Deployed, true
	} else {
		d, err := c.Replayer.Deploy(ctx, deployer, append(initCode, req.CtorArgs...))
		if err != nil {
			if errors.Is(err, debugger.ErrDeploy) {
				return nil, fmt.Errorf("%w: %s: %v; a constructor that takes arguments needs them (--ctor-args), or deploy it and give its address (--deployed)", ErrNoCode, impl.Name, err)
			}
			return nil, err
		}
		runtimeCode, rep.Implementation = d.Code, d.Address
	}
	rep.CodeHash = crypto.Keccak256Hash(runtimeCode)
	overrides, setup := map[common.Address]debugger.Override{}, map[common.Address]debugger.Override{}
	codeOverride := hexutil.Bytes(runtimeCode)
	if rep.Kind == "plain" {
		overrides[req.Target] = debugger.Override{Code: &codeOverride}
	} else {
		// The new implementation's own address: the mined runs never
		// reach it, so its code is set once per replayed range.
		setup[rep.Implementation] = debugger.Override{Code: &codeOverride}
		overrides[req.Target] = debugger.Override{Storage: map[common.Hash]common.Hash{
			contracts.SlotEIP1967Implementation: common.BytesToHash(rep.Implementation[:]),
		}}
		if caps.Proxy.Kind == contracts.ProxyEIP1822 {
			overrides[req.Target].Storage[contracts.SlotEIP1822] = common.BytesToHash(rep.Implementation[:])
		}
	}

	// The transactions.
	chosen := dedupe(req.Txs)
	role := make(map[common.Hash]string, len(chosen))
	for _, h := range chosen {
		role[h] = RoleChosen
	}
	all := slices.Clone(chosen)
	if req.Sample > 0 {
		progress("finding the sample", 0, 0)
		sample, err := c.sample(ctx, req.Target, head, req.Sample, role)
		if err != nil {
			return nil, err
		}
		for _, h := range sample {
			role[h] = RoleSample
		}
		all = append(all, sample...)
	}
	if len(all) == 0 {
		return nil, fmt.Errorf("%w: no transactions to replay: choose some (an incident, a file of hashes, a search) or ask for a sample", ErrInvalid)
	}

	// The replays, with the new code's sources for the failing lines.
	arts := debugger.NewArtifacts()
	if err := arts.AddVerified([]contracts.Artifact{impl}); err != nil {
		return nil, err
	}
	opts := c.Options
	opts.Sources = sources{arts, c.Options.Sources}
	opts.Names = names{arts, c.Options.Names}
	progress("replaying", 0, len(all))
	outs, err := c.Replayer.ReplayOverridden(ctx, debugger.ReplaySet{
		Txs: all, Overrides: overrides, Setup: setup, TraceFailures: true, TraceSalt: rep.CodeHash[:],
		Progress: func(done, total int) { progress("replaying", done, total) },
	}, opts)
	if err != nil {
		return nil, err
	}
	reg := c.Options.Registry
	if reg == nil {
		// Without the server's decoder, the new implementation's ABI names
		// the reverts of calls to the target.
		reg = decode.NewRegistry()
		if err := reg.Add(req.Target, impl.Name, impl.ABI); err != nil {
			reg = nil
		}
	}
	for _, o := range outs {
		if o.To == nil && role[o.Tx] == RoleSample {
			// A deployment (the target's own, or a contract that set it
			// up): the new code cannot be in place before it runs.
			rep.Summary.Deployments++
			continue
		}
		tr := judge(o, role[o.Tx], reg)
		rep.Txs = append(rep.Txs, tr)
		rep.Summary.add(tr)
	}
	rep.Passed = rep.Summary.SampleChanged == 0 && rep.Summary.Errors == 0
	rep.Verdict = verdict(rep)
	if err := c.prepareUpgrade(ctx, rep); err != nil {
		return nil, err
	}
	rep.Took = c.now().Sub(start).Round(time.Millisecond).String()
	return rep, nil
}

// pick finds the new implementation among the artifacts.
func pick(arts []contracts.Artifact, name string) (contracts.Artifact, error) {
	if len(arts) == 0 {
		return contracts.Artifact{}, fmt.Errorf("%w: no artifacts given: build the new implementation (forge build, hardhat compile, solc --standard-json) and give its output", ErrNoCode)
	}
	var own, named []contracts.Artifact
	for _, a := range arts {
		if name != "" && (a.Name == name || a.FullName() == name) {
			named = append(named, a)
		}
		if a.DeployedBytecode != "" && !library(a.SourceName) {
			own = append(own, a)
		}
	}
	switch {
	case name != "" && len(named) == 1:
		return named[0], nil
	case name != "" && len(named) > 1:
		return contracts.Artifact{}, fmt.Errorf("%w: %d contracts are named %s: give its full name (%s)", ErrInvalid, len(named), name, named[0].FullName())
	case name != "":
		return contracts.Artifact{}, fmt.Errorf("%w: the artifacts hold no contract %s; they hold %s", ErrInvalid, name, listNames(own))
	case len(own) == 1:
		return own[0], nil
	case len(own) == 0:
		return contracts.Artifact{}, fmt.Errorf("%w: the artifacts hold no contract with code of its own (only interfaces, abstract contracts or libraries)", ErrNoCode)
	}
	return contracts.Artifact{}, fmt.Errorf("%w: the artifacts hold %d contracts: name the new implementation (%s)", ErrInvalid, len(own), listNames(own))
}

func library(unit string) bool {
	return strings.HasPrefix(unit, "@") || strings.HasPrefix(unit, "lib/") || strings.Contains(unit, "node_modules/")
}

func listNames(arts []contracts.Artifact) string {
	var names []string
	for _, a := range arts {
		names = append(names, a.Name)
	}
	slices.Sort(names)
	names = slices.Compact(names)
	if len(names) > 8 {
		names = append(names[:8], "…")
	}
	if len(names) == 0 {
		return "none with code"
	}
	return strings.Join(names, ", ")
}

// runnable returns the artifact's init code, or why there is none.
func runnable(a contracts.Artifact) ([]byte, error) {
	if strings.Contains(a.Bytecode, "__$") || strings.Contains(a.DeployedBytecode, "__$") {
		return nil, fmt.Errorf("%w: %s links libraries (its code holds __$…$__ placeholders): deploy and link them, then give the linked artifact", ErrNoCode, a.Name)
	}
	code, err := sourcemap.DecodeObject(a.Bytecode)
	if err != nil {
		return nil, fmt.Errorf("%w: the init code of %s is not hex: %v", ErrNoCode, a.Name, err)
	}
	rt, err := sourcemap.DecodeObject(a.DeployedBytecode)
	if err != nil {
		return nil, fmt.Errorf("%w: the runtime code of %s is not hex: %v", ErrNoCode, a.Name, err)
	}
	if len(code) == 0 || len(rt) == 0 {
		return nil, fmt.Errorf("%w: %s has no code to deploy: it is an interface or an abstract contract; name the contract that implements it", ErrNoCode, a.Name)
	}
	return code, nil
}

func dedupe(hs []common.Hash) []common.Hash {
	seen := make(map[common.Hash]bool, len(hs))
	var out []common.Hash
	for _, h := range hs {
		if !seen[h] {
			seen[h] = true
			out = append(out, h)
		}
	}
	return out
}

// sample returns up to n of the target's latest transactions that emitted
// one of its events (so succeeded), newest first, leaving out those in
// skip.
func (c *Checker) sample(ctx context.Context, target common.Address, head uint64, n int, skip map[common.Hash]string) ([]common.Hash, error) {
	back := c.SampleBlocks
	if back == 0 {
		back = DefaultSampleBlocks
	}
	var out []common.Hash
	seen := make(map[common.Hash]bool)
	// Newest first, in windows, so a busy contract is not read in full.
	const window = 2000
	for to := head; len(out) < n; {
		from := uint64(0)
		if to >= window {
			from = to - window + 1
		}
		if head-from >= back {
			from = head - back + 1
			if head+1 < back {
				from = 0
			}
		}
		logs, err := c.Node.FilterLogs(ctx, ethereum.FilterQuery{Addresses: []common.Address{target},
			FromBlock: new(big.Int).SetUint64(from), ToBlock: new(big.Int).SetUint64(to)})
		if err != nil {
			return nil, fmt.Errorf("cannot read the logs of %s in blocks %d-%d: %w", target, from, to, err)
		}
		for i := len(logs) - 1; i >= 0 && len(out) < n; i-- {
			h := logs[i].TxHash
			if seen[h] || skip[h] != "" {
				continue
			}
			seen[h] = true
			out = append(out, h)
		}
		if from == 0 || head-from+1 >= back {
			break
		}
		to = from - 1
	}
	return out, nil
}

// judge compares a transaction's two runs; reg, when set, decodes reverts.
func judge(o debugger.Outcome, role string, reg *decode.Registry) TxReport {
	tr := TxReport{Outcome: o, Role: role}
	if o.Err != "" {
		tr.Verdict = Errored
		return tr
	}
	m, p := o.Mined, o.Patched
	if m.Status == 0 {
		tr.MinedReason = reason(reg, o.To, m)
	}
	if p.Status == 0 {
		tr.PatchedReason = reason(reg, o.To, p)
		if f := o.Failure; f != nil {
			if f.Reason != "" {
				tr.PatchedReason = f.Reason
			}
			if f.File != "" {
				tr.Where = fmt.Sprintf("%s:%d", f.File, f.Line)
				if f.Approximate && f.FromLine > 0 {
					tr.Where = fmt.Sprintf("%s:%d-%d", f.File, f.FromLine, f.ToLine)
				}
			}
		}
	}
	switch {
	case m.Status == 0 && p.Status == 0:
		tr.Verdict = StillFails
	case m.Status == 1 && p.Status == 0:
		tr.Verdict = NowFails
	case m.Status == 0 && p.Status == 1:
		tr.Verdict = NowSucceeds
	default:
		tr.Changes = diff(m, p)
		tr.Verdict = Unchanged
		if len(tr.Changes) > 0 {
			tr.Verdict = Changed
		}
	}
	return tr
}

// reason is a failed run's revert reason in words.
func reason(reg *decode.Registry, to *common.Address, e debugger.Effects) string {
	if reg != nil && len(e.Output) >= 4 {
		if r := reg.DecodeRevert(to, e.Output); r != nil && r.Message != "" {
			return r.Message
		}
	}
	if msg, err := abi.UnpackRevert(e.Output); err == nil {
		return msg
	}
	if len(e.Output) > 0 {
		return e.Error + " " + hexutil.Encode(e.Output[:min(len(e.Output), 36)])
	}
	return e.Error
}

// diff lists how two successful runs' effects differ.
func diff(m, p debugger.Effects) []string {
	var out []string
	if !bytes.Equal(m.Output, p.Output) {
		out = append(out, fmt.Sprintf("returns %s instead of %s", short(p.Output), short(m.Output)))
	}
	if len(m.Logs) != len(p.Logs) {
		out = append(out, fmt.Sprintf("emits %d events instead of %d", len(p.Logs), len(m.Logs)))
	} else {
		for i := range m.Logs {
			a, b := m.Logs[i], p.Logs[i]
			if a.Address != b.Address || !slices.Equal(a.Topics, b.Topics) || !bytes.Equal(a.Data, b.Data) {
				out = append(out, fmt.Sprintf("event %d (%s) differs", i, eventName(b)))
			}
		}
	}
	type key struct {
		a common.Address
		s common.Hash
	}
	ms := make(map[key]common.Hash)
	for _, s := range m.Storage {
		ms[key{s.Address, s.Slot}] = s.After
	}
	ps := make(map[key]common.Hash)
	for _, s := range p.Storage {
		ps[key{s.Address, s.Slot}] = s.After
		if after, ok := ms[key{s.Address, s.Slot}]; !ok {
			out = append(out, fmt.Sprintf("writes slot %s of %s (to %s), which the mined run left alone", s.Slot.Hex(), s.Address.Hex(), s.After.Hex()))
		} else if after != s.After {
			out = append(out, fmt.Sprintf("slot %s of %s ends as %s instead of %s", s.Slot.Hex(), s.Address.Hex(), s.After.Hex(), after.Hex()))
		}
	}
	for _, s := range m.Storage {
		if _, ok := ps[key{s.Address, s.Slot}]; !ok {
			out = append(out, fmt.Sprintf("leaves slot %s of %s alone, which the mined run set to %s", s.Slot.Hex(), s.Address.Hex(), s.After.Hex()))
		}
	}
	mb := make(map[common.Address]*big.Int)
	for _, b := range m.Balances {
		mb[b.Address] = b.Delta.ToInt()
	}
	pb := make(map[common.Address]*big.Int)
	for _, b := range p.Balances {
		pb[b.Address] = b.Delta.ToInt()
	}
	for _, a := range unionKeys(mb, pb) {
		x, y := mb[a], pb[a]
		if x == nil {
			x = new(big.Int)
		}
		if y == nil {
			y = new(big.Int)
		}
		if x.Cmp(y) != 0 {
			out = append(out, fmt.Sprintf("the ether balance of %s moves by %s wei instead of %s", a.Hex(), y, x))
		}
	}
	return out
}

func unionKeys(a, b map[common.Address]*big.Int) []common.Address {
	var out []common.Address
	for k := range a {
		out = append(out, k)
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			out = append(out, k)
		}
	}
	slices.SortFunc(out, func(x, y common.Address) int { return x.Cmp(y) })
	return out
}

func eventName(l debugger.EffectLog) string {
	if len(l.Topics) == 0 {
		return "anonymous"
	}
	return l.Topics[0].Hex()[:10] + "…"
}

func short(b []byte) string {
	if len(b) == 0 {
		return "nothing"
	}
	s := hexutil.Encode(b)
	if len(s) > 20 {
		s = s[:20] + "…"
	}
	return s
}

func (s *Summary) add(t TxReport) {
	switch t.Role {
	case RoleSample:
		s.Sample++
		if t.Verdict != Unchanged {
			s.SampleChanged++
		}
	default:
		s.Chosen++
	}
	switch t.Verdict {
	case StillFails:
		s.StillFails++
	case NowFails:
		s.NowFails++
	case NowSucceeds:
		s.NowSucceeds++
	case Unchanged:
		s.Unchanged++
	case Changed:
		s.Changed++
	case Errored:
		s.Errors++
	}
}

// verdict sums a report up in a sentence.
func verdict(r *Report) string {
	s := r.Summary
	var b strings.Builder
	if r.Passed {
		b.WriteString("passes")
	} else {
		b.WriteString("does not pass")
	}
	fmt.Fprintf(&b, ": of %d chosen transactions %d now fail, %d still fail, %d now succeed, %d unchanged, %d changed",
		s.Chosen, countRole(r, RoleChosen, NowFails), countRole(r, RoleChosen, StillFails), countRole(r, RoleChosen, NowSucceeds),
		countRole(r, RoleChosen, Unchanged), countRole(r, RoleChosen, Changed))
	if s.Sample > 0 {
		fmt.Fprintf(&b, "; of %d recent successful ones %d behave differently", s.Sample, s.SampleChanged)
	}
	if s.Errors > 0 {
		fmt.Fprintf(&b, "; %d could not be replayed", s.Errors)
	}
	if s.Deployments > 0 {
		fmt.Fprintf(&b, "; %d contract creations left out of the sample", s.Deployments)
	}
	return b.String()
}

func countRole(r *Report, role, verdict string) int {
	n := 0
	for _, t := range r.Txs {
		if t.Role == role && t.Verdict == verdict {
			n++
		}
	}
	return n
}

// sources looks lines up in the new implementation first.
type sources struct {
	first *debugger.Artifacts
	rest  debugger.Sources
}

func (s sources) Locate(code []byte, pc uint64) (debugger.Location, bool) {
	if l, ok := s.first.Locate(code, pc); ok {
		return l, true
	}
	if s.rest != nil {
		return s.rest.Locate(code, pc)
	}
	return debugger.Location{}, false
}

func (s sources) Content(file string) (string, bool) {
	if c, ok := s.first.Content(file); ok {
		return c, true
	}
	if s.rest != nil {
		return s.rest.Content(file)
	}
	return "", false
}

// names names contracts by the new implementation first.
type names struct {
	first *debugger.Artifacts
	rest  debugger.Names
}

func (n names) ContractName(code []byte) (string, bool) {
	if v, ok := n.first.ContractName(code); ok {
		return v, true
	}
	if n.rest != nil {
		return n.rest.ContractName(code)
	}
	return "", false
}

func (n names) SlotLabel(code []byte, slot common.Hash) (string, string, bool) {
	if l, t, ok := n.first.SlotLabel(code, slot); ok {
		return l, t, true
	}
	if n.rest != nil {
		return n.rest.SlotLabel(code, slot)
	}
	return "", "", false
}

func (n names) ABI(code []byte) (string, []byte, bool) {
	if v, a, ok := n.first.ABI(code); ok {
		return v, a, true
	}
	if n.rest != nil {
		return n.rest.ABI(code)
	}
	return "", nil, false
}
