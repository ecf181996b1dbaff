package contracts

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"sort"
	"strings"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/vm"

	"github.com/blocktorch/blocktorch/internal/sourcemap"
)

// CodeReader reads deployed code, as eth_getCode. *ethclient.Client
// satisfies it. block nil means the latest block.
type CodeReader interface {
	CodeAt(ctx context.Context, addr common.Address, block *big.Int) ([]byte, error)
}

// Verification statuses.
const (
	StatusFull    = "full"    // identical code, metadata hash included
	StatusPartial = "partial" // identical but for the CBOR metadata section
	StatusNone    = "none"
)

// Options narrow a verification.
type Options struct {
	// Contract, when set, is the only artifact tried: "Name" or "path:Name".
	Contract string
	// Libraries are library addresses by "Name" or "path:Name". Libraries not
	// given are read from the chain code at their link references.
	Libraries map[string]common.Address
	// Block is the block whose code is read; nil means latest.
	Block *big.Int
}

// Result is the outcome of verifying an address against artifacts.
type Result struct {
	Address common.Address `json:"address"`
	Status  string         `json:"status"` // StatusFull, StatusPartial or StatusNone
	// The fields below describe the matched artifact; they are empty when
	// Status is StatusNone.
	ContractName      string            `json:"contractName,omitempty"`
	SourceName        string            `json:"sourceName,omitempty"`
	Settings          Settings          `json:"settings"`
	Sources           map[string]string `json:"sources,omitempty"`
	SourceIDs         map[string]int    `json:"sourceIds,omitempty"`
	ABI               json.RawMessage   `json:"abi,omitempty"`
	StorageLayout     json.RawMessage   `json:"storageLayout,omitempty"`
	SourceMap         string            `json:"sourceMap,omitempty"`
	DeployedSourceMap string            `json:"deployedSourceMap,omitempty"`
	// Libraries are the linked library addresses by "path:Name".
	Libraries map[string]common.Address `json:"libraries,omitempty"`
	// Immutables are the immutable values found on chain, by AST id, as hex.
	Immutables map[string]string `json:"immutables,omitempty"`
	// ChainMetadata is the CBOR metadata of the on-chain code, if it has one.
	ChainMetadata *CodeMetadata `json:"chainMetadata,omitempty"`
	// Mismatch says why Status is not StatusFull; nil on a full match.
	Mismatch *Mismatch `json:"mismatch,omitempty"`
	// Artifact is the matched artifact, for building source mappers
	// (Artifact.Mapper); it survives a JSON round trip, so a client of the
	// contract API (blocktorch trace --server) can map PCs too.
	Artifact *Artifact `json:"artifact,omitempty"`
	// Verified is when a registry recorded the match; zero until then.
	Verified time.Time `json:"verified,omitzero"`
}

// Mismatch explains a partial match or a failed verification.
type Mismatch struct {
	// Contract is the artifact compared ("path:Name"): the closest one when
	// several were tried.
	Contract string `json:"contract,omitempty"`
	// Reason is one sentence saying what differs.
	Reason string `json:"reason"`
	// Offset is the first differing byte of the code (metadata excluded), or
	// -1 when one code is a prefix of the other or only metadata differs.
	Offset int `json:"offset"`
	// Expected and Actual are the instructions at Offset in the artifact's
	// and the chain's code, e.g. "PUSH2 0x01a4".
	Expected string `json:"expected,omitempty"`
	Actual   string `json:"actual,omitempty"`
	// ExpectedLength and ActualLength are the code lengths in bytes.
	ExpectedLength int `json:"expectedLength"`
	ActualLength   int `json:"actualLength"`
	// Causes are the likely explanations, most likely first.
	Causes []string `json:"causes,omitempty"`
	// Settings are the artifact's compiler settings.
	Settings Settings `json:"settings"`
	// Tried is how many artifacts were compared.
	Tried int `json:"tried"`
}

func (m *Mismatch) String() string {
	var b strings.Builder
	b.WriteString(m.Reason)
	for _, c := range m.Causes {
		b.WriteString("\n  - ")
		b.WriteString(c)
	}
	return b.String()
}

// ErrNoArtifacts is returned when no artifact with runtime code was given
// (or none has the name Options.Contract asks for).
var ErrNoArtifacts = errors.New("no artifact with runtime code to compare")

// Verify compares the code deployed at addr with the runtime code of each
// artifact and returns the best match. A failed comparison is a Result with
// StatusNone and a Mismatch, not an error; errors are for reading the chain
// and for having nothing to compare.
func Verify(ctx context.Context, node CodeReader, addr common.Address, arts []Artifact, opts Options) (Result, error) {
	var cands []Artifact
	for _, a := range arts {
		if a.DeployedBytecode == "" || a.DeployedBytecode == "0x" {
			continue
		}
		if opts.Contract != "" && opts.Contract != a.Name && opts.Contract != a.FullName() {
			continue
		}
		cands = append(cands, a)
	}
	if len(cands) == 0 {
		if opts.Contract != "" {
			return Result{}, fmt.Errorf("cannot verify %s as %s: %w", addr, opts.Contract, ErrNoArtifacts)
		}
		return Result{}, fmt.Errorf("cannot verify %s: %w", addr, ErrNoArtifacts)
	}
	code, err := node.CodeAt(ctx, addr, opts.Block)
	if err != nil {
		return Result{}, fmt.Errorf("cannot read the code at %s: %w", addr, err)
	}
	res := Result{Address: addr, Status: StatusNone}
	if md, ok := ParseCodeMetadata(code); ok {
		res.ChainMetadata = &md
	}
	if len(code) == 0 {
		res.Mismatch = &Mismatch{Reason: fmt.Sprintf("there is no code at %s: it is an account without code or a destroyed contract", addr),
			Offset: -1, Tried: len(cands)}
		return res, nil
	}
	var best *comparison
	for i := range cands {
		c := compare(&cands[i], code, opts)
		if best == nil || c.rank() > best.rank() {
			best = &c
		}
		if c.status == StatusFull {
			break
		}
	}
	a := best.art
	if best.mismatch != nil {
		best.mismatch.Tried = len(cands)
		if len(cands) > 1 && best.status == StatusNone {
			best.mismatch.Reason = fmt.Sprintf("none of the %d contracts matches; the closest, %s: %s", len(cands), a.FullName(), best.mismatch.Reason)
		}
	}
	res.Mismatch = best.mismatch
	if best.status == StatusNone {
		return res, nil
	}
	res.Status = best.status
	res.ContractName, res.SourceName = a.Name, a.SourceName
	res.Settings = a.Settings
	res.Sources, res.SourceIDs = a.Sources, a.SourceIDs
	res.ABI, res.StorageLayout = a.ABI, a.StorageLayout
	res.SourceMap, res.DeployedSourceMap = a.SourceMap, a.DeployedSourceMap
	res.Libraries, res.Immutables = best.libs, best.immutables
	res.Artifact = a
	return res, nil
}

type comparison struct {
	art        *Artifact
	status     string
	mismatch   *Mismatch
	libs       map[string]common.Address
	immutables map[string]string
	similarity float64 // share of 4-byte constants in common, for ranking failures
}

func (c comparison) rank() float64 {
	switch c.status {
	case StatusFull:
		return 3
	case StatusPartial:
		return 2
	}
	return c.similarity
}

func compare(a *Artifact, chainCode []byte, opts Options) comparison {
	c := comparison{art: a, status: StatusNone}
	exp, err := sourcemap.DecodeObject(a.DeployedBytecode)
	if err != nil {
		c.mismatch = &Mismatch{Contract: a.FullName(), Reason: fmt.Sprintf("the artifact's runtime code cannot be read: %v", err), Offset: -1, Settings: a.Settings}
		return c
	}
	chain := bytes.Clone(chainCode)
	var causes []string

	// Libraries: the given address, else whatever the chain code holds there.
	for file, libs := range a.DeployedLinkReferences {
		for name, ranges := range libs {
			full := file + ":" + name
			given, ok := opts.Libraries[full]
			if !ok {
				given, ok = opts.Libraries[name]
			}
			for _, r := range ranges {
				if r.Start < 0 || r.Length != 20 || r.Start+20 > len(exp) {
					continue
				}
				var onChain common.Address
				if r.Start+20 <= len(chain) {
					onChain = common.BytesToAddress(chain[r.Start : r.Start+20])
				}
				addr := onChain
				if ok {
					addr = given
					if given != onChain {
						causes = append(causes, fmt.Sprintf("library %s is linked at %s on chain, not at the given %s", full, onChain, given))
					}
				}
				copy(exp[r.Start:], addr[:])
				if c.libs == nil {
					c.libs = map[string]common.Address{}
				}
				c.libs[full] = addr
			}
		}
	}
	// Immutables: zero both sides, keeping the chain's values for display.
	for id, ranges := range a.ImmutableReferences {
		for _, r := range ranges {
			if r.Start < 0 || r.Length <= 0 || r.Start+r.Length > len(exp) || r.Start+r.Length > len(chain) {
				continue
			}
			if c.immutables == nil {
				c.immutables = map[string]string{}
			}
			c.immutables[id] = "0x" + hex.EncodeToString(chain[r.Start:r.Start+r.Length])
			clear(exp[r.Start : r.Start+r.Length])
			clear(chain[r.Start : r.Start+r.Length])
		}
	}

	if bytes.Equal(exp, chain) {
		c.status = StatusFull
		return c
	}
	expBody := exp[:len(exp)-sourcemap.MetadataLength(exp)]
	chainBody := chain[:len(chain)-sourcemap.MetadataLength(chain)]
	expMeta, expHas := ParseCodeMetadata(exp)
	chainMeta, chainHas := ParseCodeMetadata(chain)
	m := &Mismatch{Contract: a.FullName(), Offset: -1, ExpectedLength: len(exp), ActualLength: len(chain), Settings: a.Settings}
	c.mismatch = m
	if bytes.Equal(expBody, chainBody) {
		c.status = StatusPartial
		m.Reason = "the code is identical except for the CBOR metadata section: the sources, their paths or comments, or the metadata settings differ from those the contract was deployed from"
		if expHas && chainHas && expMeta.Hash != chainMeta.Hash {
			m.Causes = append(m.Causes, fmt.Sprintf("metadata hash %s %s on chain, %s %s in the artifact", chainMeta.HashKind, chainMeta.Hash, expMeta.HashKind, expMeta.Hash))
		}
		return c
	}

	// No match: where, and why.
	off := firstDiff(expBody, chainBody)
	m.Offset = off
	if off >= 0 {
		m.Expected = instructionAt(expBody, off)
		m.Actual = instructionAt(chainBody, off)
		m.Reason = fmt.Sprintf("the code differs from byte %d: %s in the artifact, %s on chain", off, m.Expected, m.Actual)
	} else {
		m.Reason = "one code is a prefix of the other"
	}
	if len(expBody) != len(chainBody) {
		m.Reason += fmt.Sprintf("; the artifact's code (metadata excluded) is %d bytes, the chain's %d", len(expBody), len(chainBody))
	}
	expSel, chainSel := push4s(expBody), push4s(chainBody)
	common4 := 0
	for s := range expSel {
		if chainSel[s] {
			common4++
		}
	}
	if n := max(len(expSel), len(chainSel)); n > 0 {
		c.similarity = float64(common4) / float64(n)
	} else {
		c.similarity = 1
	}
	differentAt := len(causes)
	if c.similarity < 0.5 {
		causes = append(causes, fmt.Sprintf("a different contract: only %d of the artifact's %d 4-byte constants (function selectors, error selectors) appear in the chain code's %d", common4, len(expSel), len(chainSel)))
	}
	if expHas && chainHas && expMeta.Solc != "" && chainMeta.Solc != "" && !strings.HasPrefix(a.Settings.Compiler, chainMeta.Solc) && expMeta.Solc != chainMeta.Solc {
		causes = append(causes, fmt.Sprintf("compiler version: the chain code was built by solc %s, the artifact by solc %s", chainMeta.Solc, expMeta.Solc))
	}
	for _, op := range []struct {
		code byte
		name string
		fork string
	}{{0x5f, "PUSH0", "shanghai"}, {0x5e, "MCOPY", "cancun"}, {0x5c, "TLOAD", "cancun"}} {
		e, ch := hasOp(expBody, op.code), hasOp(chainBody, op.code)
		if e != ch {
			where, not := "the chain code", "the artifact's"
			if e {
				where, not = "the artifact's code", "the chain's"
			}
			causes = append(causes, fmt.Sprintf("EVM version: %s uses %s (%s or later) and %s does not; the artifact was built for %q", where, op.name, op.fork, not, orDefault(a.Settings.EVMVersion)))
			break
		}
	}
	if diff := len(expBody) - len(chainBody); diff != 0 {
		pct := 100 * float64(abs(diff)) / float64(max(len(chainBody), 1))
		if pct >= 3 {
			causes = append(causes, fmt.Sprintf("optimizer or via-IR: the lengths differ by %d bytes (%.0f%%), which a different optimizer setting, optimizer runs or via-IR pipeline produces; the artifact has %s",
				diff, pct, a.Settings))
		} else {
			causes = append(causes, fmt.Sprintf("a small change: the lengths differ by %d bytes (%.1f%%): the sources differ slightly, or the optimizer runs differ; the artifact has %s", diff, pct, a.Settings))
		}
	} else if off >= 0 {
		if onlyWords(expBody, chainBody) {
			if len(a.ImmutableReferences) == 0 {
				causes = append(causes, "immutables: the codes differ only inside 32-byte PUSH32 constants, which is what immutable values look like; the artifact lists no immutableReferences (request evm.deployedBytecode.immutableReferences)")
			} else {
				causes = append(causes, "constants: the codes differ only inside PUSH32 values: a constant or an immutable's position differs")
			}
		} else {
			causes = append(causes, fmt.Sprintf("same length, different instructions: the sources or optimizer runs differ; the artifact has %s", a.Settings))
		}
	}
	if strings.Contains(a.DeployedBytecode, "__$") && len(a.DeployedLinkReferences) == 0 {
		causes = append(causes, "unlinked library: the artifact's code holds a __$…$__ placeholder without linkReferences to fill it")
	}
	if c.similarity < 0.5 {
		// Another contract differs in every way; the setting guesses would be noise.
		causes = causes[:differentAt+1]
	}
	m.Causes = causes
	return c
}

func orDefault(s string) string {
	if s == "" {
		return "compiler default"
	}
	return s
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return -1
}

// instructionAt renders the instruction that contains byte off.
func instructionAt(code []byte, off int) string {
	if off >= len(code) {
		return "end of code"
	}
	idx := sourcemap.InstructionIndex(code)
	start := off
	for start > 0 && idx[start] < 0 {
		start--
	}
	op := vm.OpCode(code[start])
	s := op.String()
	if op >= vm.PUSH1 && op <= vm.PUSH32 {
		end := min(start+1+int(op-vm.PUSH1)+1, len(code))
		s += " 0x" + hex.EncodeToString(code[start+1:end])
	}
	if start != off {
		s += fmt.Sprintf(" (at byte %d; the difference is in its immediate)", start)
	}
	return s
}

// push4s returns the PUSH4 immediates of code: the dispatcher's function
// selectors and the error selectors.
func push4s(code []byte) map[uint32]bool {
	out := map[uint32]bool{}
	for pc := 0; pc < len(code); pc++ {
		op := code[pc]
		if op == 0x63 && pc+4 < len(code) {
			out[uint32(code[pc+1])<<24|uint32(code[pc+2])<<16|uint32(code[pc+3])<<8|uint32(code[pc+4])] = true
		}
		if op >= 0x60 && op <= 0x7f {
			pc += int(op - 0x5f)
		}
	}
	return out
}

func hasOp(code []byte, want byte) bool {
	for pc := 0; pc < len(code); pc++ {
		op := code[pc]
		if op == want {
			return true
		}
		if op >= 0x60 && op <= 0x7f {
			pc += int(op - 0x5f)
		}
	}
	return false
}

// onlyWords reports whether two equal-length codes differ only inside
// PUSH32 immediates of a.
func onlyWords(a, b []byte) bool {
	for pc := 0; pc < len(a); pc++ {
		op := a[pc]
		width := 0
		if op >= 0x60 && op <= 0x7f {
			width = int(op - 0x5f)
		}
		if a[pc] != b[pc] {
			return false
		}
		if width > 0 {
			end := min(pc+1+width, len(a))
			if op != 0x7f && !bytes.Equal(a[pc+1:end], b[pc+1:end]) {
				return false
			}
			pc = end - 1
		}
	}
	return true
}

// SortedSourceNames returns the result's source file names, sorted.
func (r Result) SortedSourceNames() []string {
	names := make([]string, 0, len(r.Sources))
	for n := range r.Sources {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
