package demo

import (
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

//go:embed contracts/build/input.json
var inputJSON []byte

//go:embed contracts/build/output.json
var outputJSON []byte

// Artifact is one compiled contract.
type Artifact struct {
	Name       string // contract name, e.g. "LendingVault"
	SourceName string // source unit name, e.g. "src/LendingVault.sol"
	ABI        json.RawMessage
	// Bytecode is the creation code (empty for interfaces and abstract contracts).
	Bytecode []byte
	// DeployedBytecode is the runtime code the creation code returns, before immutables are filled in.
	DeployedBytecode  []byte
	SourceMap         string // creation code source map
	DeployedSourceMap string // runtime code source map
	StorageLayout     json.RawMessage
}

// StandardJSON returns the solc standard-JSON input and output the artifacts were built from.
// The slices are shared: callers must not modify them.
func StandardJSON() (input, output []byte) {
	return inputJSON, outputJSON
}

type solcOutput struct {
	Contracts map[string]map[string]struct {
		ABI           json.RawMessage `json:"abi"`
		StorageLayout json.RawMessage `json:"storageLayout"`
		EVM           struct {
			Bytecode         solcBytecode `json:"bytecode"`
			DeployedBytecode solcBytecode `json:"deployedBytecode"`
		} `json:"evm"`
	} `json:"contracts"`
}

type solcBytecode struct {
	Object    string `json:"object"`
	SourceMap string `json:"sourceMap"`
}

//go:embed contracts/build/patched/input.json
var patchedInputJSON []byte

//go:embed contracts/build/patched/output.json
var patchedOutputJSON []byte

// PatchedStandardJSON returns the solc standard-JSON input and output of the demo's fix of its
// incident: contracts/patched/LendingVault.sol, a new LendingVault implementation that caps one
// borrow at MAX_BORROW_PERCENT of the vault's liquidity. The slices are shared: callers must
// not modify them.
func PatchedStandardJSON() (input, output []byte) {
	return patchedInputJSON, patchedOutputJSON
}

// PatchedArtifacts decodes PatchedStandardJSON's output, keyed by contract name.
func PatchedArtifacts() (map[string]Artifact, error) {
	return decodeArtifacts(patchedOutputJSON)
}

//go:embed contracts/build/chainlink/output.json
var chainlinkOutputJSON []byte

// Artifacts decodes the embedded compiler output into artifacts keyed by contract name.
// It holds every contract of contracts/src/ and OpenZeppelin's ERC1967Proxy, which the
// LendingVault runs behind (the compiler was asked for no others).
func Artifacts() (map[string]Artifact, error) {
	return decodeArtifacts(outputJSON)
}

// ChainlinkArtifacts returns Chainlink's own contracts as the pinned @chainlink/contracts
// package publishes them, compiled with the solc its pragmas name (contracts/build/chainlink):
// MockV3Aggregator and DataFeedsLegacyAggregatorProxy, the aggregator proxy of its data feeds
// (an EACAggregatorProxy without the access control), keyed by contract name.
func ChainlinkArtifacts() (map[string]Artifact, error) {
	return decodeArtifacts(chainlinkOutputJSON)
}

func decodeArtifacts(outputJSON []byte) (map[string]Artifact, error) {
	var out solcOutput
	if err := json.Unmarshal(outputJSON, &out); err != nil {
		return nil, fmt.Errorf("cannot decode embedded solc output: %w", err)
	}
	units := make([]string, 0, len(out.Contracts))
	for unit := range out.Contracts {
		units = append(units, unit)
	}
	sort.Strings(units)
	arts := make(map[string]Artifact)
	for _, unit := range units {
		for name, c := range out.Contracts[unit] {
			if prev, dup := arts[name]; dup {
				return nil, fmt.Errorf("contract name %s is defined in both %s and %s", name, prev.SourceName, unit)
			}
			code, err := decodeHex(c.EVM.Bytecode.Object)
			if err != nil {
				return nil, fmt.Errorf("cannot decode bytecode of %s: %w", name, err)
			}
			deployed, err := decodeHex(c.EVM.DeployedBytecode.Object)
			if err != nil {
				return nil, fmt.Errorf("cannot decode deployed bytecode of %s: %w", name, err)
			}
			arts[name] = Artifact{
				Name:              name,
				SourceName:        unit,
				ABI:               c.ABI,
				Bytecode:          code,
				DeployedBytecode:  deployed,
				SourceMap:         c.EVM.Bytecode.SourceMap,
				DeployedSourceMap: c.EVM.DeployedBytecode.SourceMap,
				StorageLayout:     c.StorageLayout,
			}
		}
	}
	return arts, nil
}

func decodeHex(s string) ([]byte, error) {
	// Unlinked library placeholders ("__$...$__") are not hex; none of our contracts use libraries
	// with external functions, so meeting one means the sources changed in a way Load does not support.
	if strings.Contains(s, "__$") {
		return nil, fmt.Errorf("bytecode has unlinked library references")
	}
	return hex.DecodeString(s)
}
