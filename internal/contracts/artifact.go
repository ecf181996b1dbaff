package contracts

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/blocktorch/blocktorch/internal/sourcemap"
)

// Range is a byte range in bytecode, as solc writes immutable and link references.
type Range struct {
	Start  int `json:"start"`
	Length int `json:"length"`
}

// Settings are the compiler settings an artifact was built with, read from
// the contract's metadata (or the standard-JSON input when there is none).
type Settings struct {
	Compiler   string `json:"compiler"` // e.g. "0.8.28+commit.7893614a"
	Optimizer  bool   `json:"optimizer"`
	Runs       int    `json:"runs"`
	EVMVersion string `json:"evmVersion,omitempty"`
	ViaIR      bool   `json:"viaIR"`
	// Libraries are the addresses given at compile time, by "file:Name".
	Libraries map[string]string `json:"libraries,omitempty"`
}

func (s Settings) String() string {
	opt := "optimizer off"
	if s.Optimizer {
		opt = fmt.Sprintf("optimizer on, %d runs", s.Runs)
	}
	evm := s.EVMVersion
	if evm == "" {
		evm = "default EVM version"
	}
	ir := ""
	if s.ViaIR {
		ir = ", via-IR"
	}
	return fmt.Sprintf("solc %s, %s, %s%s", s.Compiler, opt, evm, ir)
}

// Artifact is one compiled contract with everything verification and the
// debugger need. Bytecode objects are kept as solc writes them (hex, possibly
// with "__$…$__" library placeholders).
type Artifact struct {
	Name       string // contract name, e.g. "LendingVault"
	SourceName string // source unit name, e.g. "src/LendingVault.sol"
	ABI        json.RawMessage
	// Bytecode and DeployedBytecode are the creation and runtime code objects.
	Bytecode, DeployedBytecode   string
	SourceMap, DeployedSourceMap string
	// GeneratedSources and DeployedGeneratedSources are solc's
	// "generatedSources" arrays (Yul utility code), if requested.
	GeneratedSources, DeployedGeneratedSources json.RawMessage
	// ImmutableReferences maps an AST id to the runtime code ranges holding it.
	ImmutableReferences map[string][]Range
	// LinkReferences and DeployedLinkReferences map a file and library name
	// to the ranges of its address placeholder.
	LinkReferences, DeployedLinkReferences map[string]map[string][]Range
	StorageLayout                          json.RawMessage
	Metadata                               string // the compiler's metadata JSON, if any
	Settings                               Settings
	// Sources holds the build's source texts by source unit name, and
	// SourceIDs their source map file indices. Shared by the artifacts of one build.
	Sources   map[string]string
	SourceIDs map[string]int
}

// FullName is "SourceName:Name".
func (a Artifact) FullName() string { return a.SourceName + ":" + a.Name }

// --- solc standard JSON ---

type stdInput struct {
	Language string `json:"language"`
	Sources  map[string]struct {
		Content string `json:"content"`
	} `json:"sources"`
	Settings struct {
		EVMVersion string `json:"evmVersion"`
		ViaIR      bool   `json:"viaIR"`
		Optimizer  struct {
			Enabled bool `json:"enabled"`
			Runs    *int `json:"runs"`
		} `json:"optimizer"`
		Libraries map[string]map[string]string `json:"libraries"`
	} `json:"settings"`
}

type stdBytecode struct {
	Object              string                        `json:"object"`
	SourceMap           string                        `json:"sourceMap"`
	GeneratedSources    json.RawMessage               `json:"generatedSources"`
	LinkReferences      map[string]map[string][]Range `json:"linkReferences"`
	ImmutableReferences map[string][]Range            `json:"immutableReferences"`
}

type stdContract struct {
	ABI           json.RawMessage `json:"abi"`
	Metadata      json.RawMessage `json:"metadata"` // a string in solc output, an object in Foundry's
	StorageLayout json.RawMessage `json:"storageLayout"`
	EVM           struct {
		Bytecode         stdBytecode `json:"bytecode"`
		DeployedBytecode stdBytecode `json:"deployedBytecode"`
	} `json:"evm"`
}

type stdOutput struct {
	Errors []struct {
		Severity         string `json:"severity"`
		FormattedMessage string `json:"formattedMessage"`
		Message          string `json:"message"`
	} `json:"errors"`
	Sources map[string]struct {
		ID int `json:"id"`
	} `json:"sources"`
	Contracts map[string]map[string]stdContract `json:"contracts"`
}

type metadataJSON struct {
	Compiler struct {
		Version string `json:"version"`
	} `json:"compiler"`
	Settings struct {
		EVMVersion string `json:"evmVersion"`
		ViaIR      bool   `json:"viaIR"`
		Optimizer  struct {
			Enabled bool `json:"enabled"`
			Runs    int  `json:"runs"`
		} `json:"optimizer"`
		Libraries map[string]string `json:"libraries"`
	} `json:"settings"`
}

// ParseStandardJSON reads the artifacts of a solc standard-JSON input and
// output. version is the compiler version when known from elsewhere (a
// build-info file); the contracts' metadata takes precedence.
func ParseStandardJSON(input, output []byte, version string) ([]Artifact, error) {
	var in stdInput
	if err := json.Unmarshal(input, &in); err != nil {
		return nil, fmt.Errorf("cannot decode solc standard-JSON input: %w", err)
	}
	var out stdOutput
	if err := json.Unmarshal(output, &out); err != nil {
		return nil, fmt.Errorf("cannot decode solc standard-JSON output: %w", err)
	}
	for _, e := range out.Errors {
		if e.Severity == "error" {
			return nil, fmt.Errorf("the solc output holds a compile error: %s", e.Message)
		}
	}
	if len(out.Contracts) == 0 {
		return nil, errors.New("the solc output holds no contracts")
	}
	sources := make(map[string]string, len(in.Sources))
	for name, s := range in.Sources {
		sources[name] = s.Content
	}
	ids := make(map[string]int, len(out.Sources))
	for name, s := range out.Sources {
		ids[name] = s.ID
	}
	base := Settings{Compiler: version, Optimizer: in.Settings.Optimizer.Enabled, Runs: 200,
		EVMVersion: in.Settings.EVMVersion, ViaIR: in.Settings.ViaIR}
	if in.Settings.Optimizer.Runs != nil {
		base.Runs = *in.Settings.Optimizer.Runs
	}
	for file, libs := range in.Settings.Libraries {
		for name, addr := range libs {
			if base.Libraries == nil {
				base.Libraries = map[string]string{}
			}
			base.Libraries[file+":"+name] = addr
		}
	}
	var arts []Artifact
	for _, unit := range sortedKeys(out.Contracts) {
		for _, name := range sortedKeys(out.Contracts[unit]) {
			c := out.Contracts[unit][name]
			a := Artifact{
				Name: name, SourceName: unit, ABI: c.ABI, StorageLayout: c.StorageLayout,
				Bytecode: c.EVM.Bytecode.Object, DeployedBytecode: c.EVM.DeployedBytecode.Object,
				SourceMap: c.EVM.Bytecode.SourceMap, DeployedSourceMap: c.EVM.DeployedBytecode.SourceMap,
				GeneratedSources: c.EVM.Bytecode.GeneratedSources, DeployedGeneratedSources: c.EVM.DeployedBytecode.GeneratedSources,
				ImmutableReferences: c.EVM.DeployedBytecode.ImmutableReferences,
				LinkReferences:      c.EVM.Bytecode.LinkReferences, DeployedLinkReferences: c.EVM.DeployedBytecode.LinkReferences,
				Sources: sources, SourceIDs: ids,
			}
			a.Metadata = metadataString(c.Metadata)
			a.Settings = settingsOf(a.Metadata, base)
			arts = append(arts, a)
		}
	}
	return arts, nil
}

// metadataString accepts solc's metadata (a JSON string holding JSON) and
// Foundry's (the object itself).
func metadataString(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	if len(raw) > 0 && raw[0] == '{' {
		return string(raw)
	}
	return ""
}

func settingsOf(metadata string, base Settings) Settings {
	var m metadataJSON
	if metadata == "" || json.Unmarshal([]byte(metadata), &m) != nil {
		return base
	}
	s := Settings{Compiler: m.Compiler.Version, Optimizer: m.Settings.Optimizer.Enabled, Runs: m.Settings.Optimizer.Runs,
		EVMVersion: m.Settings.EVMVersion, ViaIR: m.Settings.ViaIR, Libraries: m.Settings.Libraries}
	if s.Compiler == "" {
		s.Compiler = base.Compiler
	}
	if len(s.Libraries) == 0 {
		s.Libraries = base.Libraries
	}
	return s
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// LoadStandardJSON reads a solc standard-JSON input file and output file.
func LoadStandardJSON(inputPath, outputPath string) ([]Artifact, error) {
	in, err := os.ReadFile(inputPath)
	if err != nil {
		return nil, fmt.Errorf("cannot read solc input: %w", err)
	}
	out, err := os.ReadFile(outputPath)
	if err != nil {
		return nil, fmt.Errorf("cannot read solc output: %w", err)
	}
	arts, err := ParseStandardJSON(in, out, "")
	if err != nil {
		return nil, fmt.Errorf("cannot load %s and %s: %w", inputPath, outputPath, err)
	}
	return arts, nil
}

// --- build-info (Hardhat, Foundry) ---

type buildInfo struct {
	SolcVersion     string          `json:"solcVersion"`
	SolcLongVersion string          `json:"solcLongVersion"`
	Input           json.RawMessage `json:"input"`
	Output          json.RawMessage `json:"output"`
}

// LoadHardhatBuildInfo reads a build-info file ({solcVersion, input, output},
// as Hardhat and Foundry write under build-info/). Hardhat 3 keeps the output
// in a sibling "<id>.output.json", which is read when the file has none.
func LoadHardhatBuildInfo(path string) ([]Artifact, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read build-info: %w", err)
	}
	var bi buildInfo
	if err := json.Unmarshal(data, &bi); err != nil {
		return nil, fmt.Errorf("cannot decode build-info %s: %w", path, err)
	}
	if len(bi.Input) == 0 {
		return nil, fmt.Errorf("build-info %s has no compiler input", path)
	}
	if len(bi.Output) == 0 || string(bi.Output) == "null" {
		sibling := strings.TrimSuffix(path, ".json") + ".output.json"
		od, err := os.ReadFile(sibling)
		if err != nil {
			return nil, fmt.Errorf("build-info %s has no compiler output, nor %s: %w", path, filepath.Base(sibling), err)
		}
		var o struct {
			Output json.RawMessage `json:"output"`
		}
		if err := json.Unmarshal(od, &o); err != nil {
			return nil, fmt.Errorf("cannot decode %s: %w", sibling, err)
		}
		bi.Output = o.Output
	}
	version := bi.SolcLongVersion
	if version == "" {
		version = bi.SolcVersion
	}
	arts, err := ParseStandardJSON(bi.Input, bi.Output, version)
	if err != nil {
		return nil, fmt.Errorf("cannot load build-info %s: %w", path, err)
	}
	return arts, nil
}

// foundryArtifact is a per-contract file of a Foundry out/ directory.
type foundryArtifact struct {
	ABI              json.RawMessage `json:"abi"`
	Bytecode         stdBytecode     `json:"bytecode"`
	DeployedBytecode stdBytecode     `json:"deployedBytecode"`
	StorageLayout    json.RawMessage `json:"storageLayout"`
	RawMetadata      string          `json:"rawMetadata"`
	Metadata         json.RawMessage `json:"metadata"`
	ID               *int            `json:"id"`
}

// LoadFoundryOut reads a Foundry out/ directory: the build-info files under
// out/build-info when they hold the compiler output, else the per-contract
// out/<File>.sol/<Name>.json files, with source texts from the build-info
// inputs or, failing that, from the project directory (out/..).
func LoadFoundryOut(dir string) ([]Artifact, error) {
	infos, _ := filepath.Glob(filepath.Join(dir, "build-info", "*.json"))
	sources := map[string]string{}
	var arts []Artifact
	for _, p := range infos {
		if strings.HasSuffix(p, ".output.json") {
			continue
		}
		a, err := LoadHardhatBuildInfo(p)
		if err == nil {
			arts = append(arts, a...)
			continue
		}
		// Newer Foundry build-info files hold only the input.
		var bi buildInfo
		if data, rerr := os.ReadFile(p); rerr == nil && json.Unmarshal(data, &bi) == nil {
			var in stdInput
			if json.Unmarshal(bi.Input, &in) == nil {
				for name, s := range in.Sources {
					sources[name] = s.Content
				}
			}
		}
	}
	if len(arts) > 0 {
		return arts, nil
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.sol", "*.json"))
	if len(files) == 0 {
		return nil, fmt.Errorf("%s holds neither build-info files with compiler output nor <File>.sol/<Name>.json artifacts", dir)
	}
	project := filepath.Dir(filepath.Clean(dir))
	for _, p := range files {
		data, err := os.ReadFile(p)
		if err != nil {
			return nil, fmt.Errorf("cannot read Foundry artifact: %w", err)
		}
		var fa foundryArtifact
		if err := json.Unmarshal(data, &fa); err != nil {
			return nil, fmt.Errorf("cannot decode Foundry artifact %s: %w", p, err)
		}
		meta := fa.RawMetadata
		if meta == "" {
			meta = metadataString(fa.Metadata)
		}
		name := strings.TrimSuffix(filepath.Base(p), ".json")
		unit := compilationTarget(meta, name)
		if unit == "" {
			unit = filepath.Base(filepath.Dir(p))
		}
		a := Artifact{
			Name: name, SourceName: unit, ABI: fa.ABI, StorageLayout: fa.StorageLayout,
			Bytecode: fa.Bytecode.Object, DeployedBytecode: fa.DeployedBytecode.Object,
			SourceMap: fa.Bytecode.SourceMap, DeployedSourceMap: fa.DeployedBytecode.SourceMap,
			ImmutableReferences: fa.DeployedBytecode.ImmutableReferences,
			LinkReferences:      fa.Bytecode.LinkReferences, DeployedLinkReferences: fa.DeployedBytecode.LinkReferences,
			Metadata: meta, Settings: settingsOf(meta, Settings{}), Sources: sources,
		}
		if _, ok := sources[unit]; !ok {
			if text, err := os.ReadFile(filepath.Join(project, unit)); err == nil {
				sources[unit] = string(text)
			}
		}
		if fa.ID != nil {
			if a.SourceIDs == nil {
				a.SourceIDs = map[string]int{}
			}
			a.SourceIDs[unit] = *fa.ID
		}
		arts = append(arts, a)
	}
	return arts, nil
}

// compilationTarget returns the source unit metadata names for contract name.
func compilationTarget(metadata, name string) string {
	var m struct {
		Settings struct {
			CompilationTarget map[string]string `json:"compilationTarget"`
		} `json:"settings"`
	}
	if json.Unmarshal([]byte(metadata), &m) != nil {
		return ""
	}
	for unit, n := range m.Settings.CompilationTarget {
		if n == name {
			return unit
		}
	}
	return ""
}

// LoadDir reads artifacts from path, telling the layouts apart: a
// build-info file; a directory holding input.json and output.json (solc
// standard JSON); a Foundry out/ directory (<File>.sol/ subdirectories); or
// a directory of build-info files (Hardhat's artifacts/build-info, or a
// project root holding artifacts/build-info or out/).
func LoadDir(path string) ([]Artifact, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("cannot load artifacts: %w", err)
	}
	if !fi.IsDir() {
		return LoadHardhatBuildInfo(path)
	}
	exists := func(p string) bool { _, err := os.Stat(filepath.Join(path, p)); return err == nil }
	switch {
	case exists("input.json") && exists("output.json"):
		return LoadStandardJSON(filepath.Join(path, "input.json"), filepath.Join(path, "output.json"))
	case exists("artifacts/build-info"):
		return LoadDir(filepath.Join(path, "artifacts", "build-info"))
	case exists("out"):
		return LoadFoundryOut(filepath.Join(path, "out"))
	}
	if sol, _ := filepath.Glob(filepath.Join(path, "*.sol")); len(sol) > 0 {
		return LoadFoundryOut(path)
	}
	infos, _ := filepath.Glob(filepath.Join(path, "*.json"))
	var arts []Artifact
	for _, p := range infos {
		if strings.HasSuffix(p, ".output.json") || strings.HasSuffix(p, ".dbg.json") {
			continue
		}
		a, err := LoadHardhatBuildInfo(p)
		if err != nil {
			return nil, err
		}
		arts = append(arts, a...)
	}
	if len(arts) == 0 {
		return nil, fmt.Errorf("no artifacts found in %s (want input.json+output.json, build-info files, or a Foundry out/ directory)", path)
	}
	return arts, nil
}

// Mapper builds the source mapper of the artifact's runtime code
// (sourcemap.Runtime) or creation code (sourcemap.Creation).
func (a Artifact) Mapper(runtime bool) (*sourcemap.Mapper, error) {
	object, sm, gen := a.Bytecode, a.SourceMap, a.GeneratedSources
	if runtime {
		object, sm, gen = a.DeployedBytecode, a.DeployedSourceMap, a.DeployedGeneratedSources
	}
	code, err := sourcemap.DecodeObject(object)
	if err != nil {
		return nil, fmt.Errorf("cannot decode the code of %s: %w", a.FullName(), err)
	}
	srcs := make([]sourcemap.Source, 0, len(a.SourceIDs))
	for name, id := range a.SourceIDs {
		srcs = append(srcs, sourcemap.Source{ID: id, Name: name, Content: a.Sources[name]})
	}
	g, err := sourcemap.GeneratedSources(gen)
	if err != nil {
		return nil, fmt.Errorf("cannot read the generated sources of %s: %w", a.FullName(), err)
	}
	m, err := sourcemap.New(code, sm, append(srcs, g...))
	if err != nil {
		return nil, fmt.Errorf("cannot read the source map of %s: %w", a.FullName(), err)
	}
	return m, nil
}
